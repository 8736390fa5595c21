import KubeModel

/// The merge keys of built-in kinds' lists (the `patchMergeKey` / `listMapKeys` tags of the
/// Kubernetes Go types), for strategic merge patches and server-side apply. Lists not named
/// here are atomic, which is also what Kubernetes does for untagged lists.
enum BuiltInListRules {
    static func rules(forKind kind: String) -> ListRules {
        ListRules { path in
            if let meta = ListRules.objectMetaRule(path) { return meta }
            return rule(kind: kind, path)
        }
    }

    static func rule(kind: String, _ path: [String]) -> ListMergeRule {
        guard let field = path.last else { return .atomic }
        let parent = path.dropLast().last
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "volumes", "imagePullSecrets":
            return podSpecPath(kind, path.dropLast()) ? .map(keys: ["name"]) : .atomic
        case "env" where containerPath(kind, path.dropLast()): return .map(keys: ["name"])
        case "resizePolicy" where containerPath(kind, path.dropLast()): return .map(keys: ["resourceName"])
        case "volumeMounts" where containerPath(kind, path.dropLast()): return .map(keys: ["mountPath"])
        case "volumeDevices" where containerPath(kind, path.dropLast()): return .map(keys: ["devicePath"])
        case "ports" where containerPath(kind, path.dropLast()): return .map(keys: ["containerPort", "protocol"])
        case "ports" where kind == "Service" && path.count == 2: return .map(keys: ["port", "protocol"])
        case "hostAliases" where podSpecPath(kind, path.dropLast()): return .map(keys: ["ip"])
        case "topologySpreadConstraints" where podSpecPath(kind, path.dropLast()): return .map(keys: ["topologyKey", "whenUnsatisfiable"])
        case "conditions" where parent == "status": return .map(keys: ["type"])
        case "addresses" where kind == "Node" && parent == "status": return .map(keys: ["type"])
        case "finalizers" where kind == "Namespace" && parent == "spec": return .set
        default: return .atomic
        }
    }

    /// A PodSpec: `spec` of a Pod, `spec.template.spec` of workload kinds.
    static func podSpecPath(_ kind: String, _ path: ArraySlice<String>) -> Bool {
        switch kind {
        case "Pod": return Array(path) == ["spec"]
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job": return Array(path) == ["spec", "template", "spec"]
        default: return false
        }
    }

    static func containerPath(_ kind: String, _ path: ArraySlice<String>) -> Bool {
        guard let last = path.last, ["containers", "initContainers", "ephemeralContainers"].contains(last) else { return false }
        return podSpecPath(kind, path.dropLast())
    }
}

extension ServedResource {
    /// How this kind's lists merge: from the CRD schema, or the built-in merge keys.
    var listRules: ListRules { schema.map(ListRules.schema) ?? BuiltInListRules.rules(forKind: kind) }
}
