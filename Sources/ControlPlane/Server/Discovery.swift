import KubeModel

/// The discovery documents clients read before anything else: `/version`, `/api`, `/apis`,
/// and one APIResourceList per group version.
enum Discovery {
    static let gitVersion = "v1.32.0-llmops"

    static func version() -> JSONValue {
        .object(
            JSONObject([
                ("major", "1"), ("minor", "32"), ("gitVersion", .string(gitVersion)), ("gitCommit", "llmops"), ("gitTreeState", "clean"),
                ("buildDate", "2026-01-01T00:00:00Z"), ("goVersion", "swift"), ("compiler", "swift"), ("platform", "linux/amd64"),
            ]))
    }

    static func coreVersions(serverAddress: String) -> JSONValue {
        .object(
            JSONObject([
                ("kind", "APIVersions"), ("versions", ["v1"]),
                ("serverAddressByClientCIDRs", .array([.object(JSONObject([("clientCIDR", "0.0.0.0/0"), ("serverAddress", .string(serverAddress))]))])),
            ]))
    }

    static func groups(_ resources: [ServedResource]) -> JSONValue {
        var byGroup: [String: [String]] = [:]
        var order: [String] = []
        for r in resources where !r.group.isEmpty {
            if byGroup[r.group] == nil { order.append(r.group) }
            if !byGroup[r.group, default: []].contains(r.version) { byGroup[r.group, default: []].append(r.version) }
        }
        let groups: [JSONValue] = order.map { g in
            let versions: [JSONValue] = byGroup[g]!.map { .object(JSONObject([("groupVersion", .string("\(g)/\($0)")), ("version", .string($0))])) }
            return .object(JSONObject([("name", .string(g)), ("versions", .array(versions)), ("preferredVersion", versions[0])]))
        }
        return .object(JSONObject([("kind", "APIGroupList"), ("apiVersion", "v1"), ("groups", .array(groups))]))
    }

    static func resourceList(group: String, version: String, _ resources: [ServedResource]) -> JSONValue? {
        let matching = resources.filter { $0.group == group && $0.version == version }
        guard !matching.isEmpty else { return nil }
        var items: [JSONValue] = []
        for r in matching {
            let verbs: JSONValue = r.review ? ["create"] : ["create", "delete", "get", "list", "patch", "update", "watch"]
            var o = JSONObject([
                ("name", .string(r.plural)), ("singularName", .string(r.singular)), ("namespaced", .bool(r.namespaced)), ("kind", .string(r.kind)),
                ("verbs", verbs),
            ])
            if !r.shortNames.isEmpty { o["shortNames"] = .array(r.shortNames.map(JSONValue.string)) }
            if r.schema != nil { o["categories"] = ["all"] }
            items.append(.object(o))
            if r.scalePaths != nil {
                items.append(
                    .object(
                        JSONObject([
                            ("name", .string("\(r.plural)/scale")), ("singularName", ""), ("namespaced", .bool(r.namespaced)), ("group", "autoscaling"),
                            ("version", "v1"), ("kind", "Scale"), ("verbs", ["get", "patch", "update"]),
                        ])))
            }
            if r.statusSubresource {
                items.append(
                    .object(
                        JSONObject([
                            ("name", .string("\(r.plural)/status")), ("singularName", ""), ("namespaced", .bool(r.namespaced)), ("kind", .string(r.kind)),
                            ("verbs", ["get", "patch", "update"]),
                        ])))
            }
        }
        return .object(
            JSONObject([
                ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", .string(group.isEmpty ? version : "\(group)/\(version)")),
                ("resources", .array(items)),
            ]))
    }
}
