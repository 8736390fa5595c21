import KubeModel

/// What kube-apiserver's defaulting and admission plugins do to every new Pod that the rest of
/// a cluster relies on: `schedulerName`, `restartPolicy`, `terminationGracePeriodSeconds` and
/// `status.phase: Pending` defaults, and ExtendedResourceToleration, which gives a Pod that
/// asks for an extended resource (such as `nvidia.com/gpu`) the toleration for the taint of
/// the same key that GPU nodes carry.
enum PodAdmission {
    static func admit(_ pod: JSONValue) -> JSONValue {
        guard case .object(var o) = pod, case .object(var spec)? = o["spec"] else { return pod }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = .int(30) }
        var extended = Set<String>()
        for key in ["containers", "initContainers"] {
            for c in spec[key]?.arrayValue ?? [] {
                for part in ["requests", "limits"] {
                    for name in c["resources"]?[part]?.objectValue?.keys ?? [] where isExtended(name) { extended.insert(name) }
                }
            }
        }
        var tolerations = spec["tolerations"]?.arrayValue ?? []
        for name in extended.sorted() {
            let covered = tolerations.contains { t in
                t["key"]?.stringValue == name && t["operator"]?.stringValue == "Exists" && (t["effect"]?.stringValue ?? "").isEmpty
            }
            if !covered { tolerations.append(["key": .string(name), "operator": "Exists", "effect": "NoSchedule"]) }
        }
        if !tolerations.isEmpty { spec["tolerations"] = .array(tolerations) }
        o["spec"] = .object(spec)
        var status = o["status"]?.objectValue ?? JSONObject()
        if status["phase"] == nil { status["phase"] = "Pending" }
        o["status"] = .object(status)
        return .object(o)
    }

    /// A resource name outside the `kubernetes.io` domains, with a domain: `nvidia.com/gpu`.
    static func isExtended(_ name: String) -> Bool {
        guard let slash = name.firstIndex(of: "/") else { return false }
        let domain = name[..<slash]
        return !(domain == "kubernetes.io" || domain.hasSuffix(".kubernetes.io") || domain == "requests")
    }
}
