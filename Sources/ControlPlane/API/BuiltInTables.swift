import KubeModel

/// The columns kube-apiserver prints for built-in kinds (`kubectl get pods`, `-o wide`), which
/// are computed from several fields rather than read from one path.
struct BuiltInTable {
    struct Column {
        var name: String
        var type = "string"
        var priority = 0
        var description = ""
    }

    var columns: [Column]
    /// Cells after the name, one per column.
    var cells: @Sendable (JSONValue, Timestamp) -> [JSONValue]

    static func forResource(_ r: ServedResource) -> BuiltInTable? {
        guard r.schema == nil else { return nil }
        switch (r.group, r.kind) {
        case ("", "Pod"): return pods
        case ("apps", "Deployment"): return deployments
        case ("apps", "ReplicaSet"): return replicaSets
        case ("", "Node"): return nodes
        case ("", "Service"): return services
        case ("discovery.k8s.io", "EndpointSlice"): return endpointSlices
        case ("", "Event"): return events
        default: return nil
        }
    }

    static func age(_ o: JSONValue, _ now: Timestamp) -> JSONValue {
        guard let s = o["metadata"]?["creationTimestamp"]?.stringValue, let t = Timestamp(rfc3339: s) else { return "<unknown>" }
        return .string(TablePrinter.age(now.secondsSinceEpoch - t.secondsSinceEpoch))
    }

    static func int(_ v: JSONValue?) -> Int64 { v?.intValue ?? 0 }

    static let pods = BuiltInTable(
        columns: [
            Column(name: "Ready"), Column(name: "Status"), Column(name: "Restarts", type: "string"), Column(name: "Age"),
            Column(name: "IP", priority: 1), Column(name: "Node", priority: 1), Column(name: "Nominated Node", priority: 1),
            Column(name: "Readiness Gates", priority: 1),
        ],
        cells: { o, now in
            let statuses = o["status"]?["containerStatuses"]?.arrayValue ?? []
            let total = o["spec"]?["containers"]?.arrayValue?.count ?? 0
            let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
            let restarts = statuses.reduce(Int64(0)) { $0 + int($1["restartCount"]) }
            var status = o["status"]?["phase"]?.stringValue ?? "Pending"
            if let reason = o["status"]?["reason"]?.stringValue { status = reason }
            for c in statuses {
                if let w = c["state"]?["waiting"]?["reason"]?.stringValue, !w.isEmpty { status = w }
            }
            if o["metadata"]?["deletionTimestamp"] != nil { status = "Terminating" }
            let ip = o["status"]?["podIP"]?.stringValue ?? "<none>"
            let node = o["spec"]?["nodeName"]?.stringValue ?? "<none>"
            return [.string("\(ready)/\(total)"), .string(status), .string(String(restarts)), age(o, now), .string(ip), .string(node), "<none>", "<none>"]
        })

    static func images(_ o: JSONValue) -> (String, String) {
        let containers = o["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
        return (
            containers.compactMap { $0["name"]?.stringValue }.joined(separator: ","), containers.compactMap { $0["image"]?.stringValue }.joined(separator: ",")
        )
    }

    static let deployments = BuiltInTable(
        columns: [
            Column(name: "Ready"), Column(name: "Up-to-date", type: "integer"), Column(name: "Available", type: "integer"), Column(name: "Age"),
            Column(name: "Containers", priority: 1), Column(name: "Images", priority: 1), Column(name: "Selector", priority: 1),
        ],
        cells: { o, now in
            let (names, images) = images(o)
            let selector = o["spec"]?["selector"].map(LabelSelector.string(fromObject:)) ?? ""
            return [
                .string("\(int(o["status"]?["readyReplicas"]))/\(int(o["spec"]?["replicas"]))"), .int(int(o["status"]?["updatedReplicas"])),
                .int(int(o["status"]?["availableReplicas"])), age(o, now), .string(names), .string(images), .string(selector),
            ]
        })

    static let replicaSets = BuiltInTable(
        columns: [
            Column(name: "Desired", type: "integer"), Column(name: "Current", type: "integer"), Column(name: "Ready", type: "integer"), Column(name: "Age"),
            Column(name: "Containers", priority: 1), Column(name: "Images", priority: 1), Column(name: "Selector", priority: 1),
        ],
        cells: { o, now in
            let (names, images) = images(o)
            let selector = o["spec"]?["selector"].map(LabelSelector.string(fromObject:)) ?? ""
            return [
                .int(int(o["spec"]?["replicas"])), .int(int(o["status"]?["replicas"])), .int(int(o["status"]?["readyReplicas"])), age(o, now),
                .string(names), .string(images), .string(selector),
            ]
        })

    static let nodes = BuiltInTable(
        columns: [
            Column(name: "Status"), Column(name: "Roles"), Column(name: "Age"), Column(name: "Version"), Column(name: "Internal-IP", priority: 1),
            Column(name: "External-IP", priority: 1), Column(name: "OS-Image", priority: 1), Column(name: "Kernel-Version", priority: 1),
            Column(name: "Container-Runtime", priority: 1),
        ],
        cells: { o, now in
            let ready = o["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue
            var status = ready == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
            if o["spec"]?["unschedulable"]?.boolValue == true { status += ",SchedulingDisabled" }
            let labels = o["metadata"]?["labels"]?.objectValue?.keys ?? []
            let roles = labels.compactMap { k -> String? in
                k.hasPrefix("node-role.kubernetes.io/") ? String(k.dropFirst("node-role.kubernetes.io/".count)) : nil
            }
            let info = o["status"]?["nodeInfo"]
            let internalIP = o["status"]?["addresses"]?.arrayValue?.first { $0["type"]?.stringValue == "InternalIP" }?["address"]?.stringValue
            return [
                .string(status), .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ",")), age(o, now),
                .string(info?["kubeletVersion"]?.stringValue ?? ""), .string(internalIP ?? "<none>"), "<none>", .string(info?["osImage"]?.stringValue ?? ""),
                .string(info?["kernelVersion"]?.stringValue ?? ""), .string(info?["containerRuntimeVersion"]?.stringValue ?? ""),
            ]
        })

    static let services = BuiltInTable(
        columns: [
            Column(name: "Type"), Column(name: "Cluster-IP"), Column(name: "External-IP"), Column(name: "Port(s)"), Column(name: "Age"),
            Column(name: "Selector", priority: 1),
        ],
        cells: { o, now in
            let ports = (o["spec"]?["ports"]?.arrayValue ?? []).map { p in "\(int(p["port"]))/\(p["protocol"]?.stringValue ?? "TCP")" }
            let selector = (o["spec"]?["selector"]?.objectValue ?? JSONObject()).map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted()
            return [
                .string(o["spec"]?["type"]?.stringValue ?? "ClusterIP"), .string(o["spec"]?["clusterIP"]?.stringValue ?? "<none>"), "<none>",
                .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), age(o, now), .string(selector.isEmpty ? "<none>" : selector.joined(separator: ",")),
            ]
        })

    static let endpointSlices = BuiltInTable(
        columns: [Column(name: "AddressType"), Column(name: "Ports"), Column(name: "Endpoints"), Column(name: "Age")],
        cells: { o, now in
            let ports = (o["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue.map(String.init) }
            let addresses = (o["endpoints"]?.arrayValue ?? []).flatMap { $0["addresses"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            let shown = addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")
            return [
                .string(o["addressType"]?.stringValue ?? ""), .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ",")),
                .string(addresses.isEmpty ? "<unset>" : shown), age(o, now),
            ]
        })

    static let events = BuiltInTable(
        columns: [Column(name: "Last Seen"), Column(name: "Type"), Column(name: "Reason"), Column(name: "Object"), Column(name: "Message")],
        cells: { o, now in
            let last = o["lastTimestamp"]?.stringValue ?? o["eventTime"]?.stringValue ?? o["metadata"]?["creationTimestamp"]?.stringValue
            let seen = last.flatMap { Timestamp(rfc3339: $0) }.map { JSONValue.string(TablePrinter.age(now.secondsSinceEpoch - $0.secondsSinceEpoch)) } ?? "<unknown>"
            let obj = o["involvedObject"]
            let kind = (obj?["kind"]?.stringValue ?? "").lowercased()
            return [seen, .string(o["type"]?.stringValue ?? ""), .string(o["reason"]?.stringValue ?? ""), .string("\(kind)/\(obj?["name"]?.stringValue ?? "")"), .string(o["message"]?.stringValue ?? "")]
        })
}
