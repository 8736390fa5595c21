import Foundation
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

    /// Kubernetes' version priority, which decides the preferred version clients use: GA
    /// before beta before alpha, higher numbers first (`v2`, `v1`, `v1beta2`, `v1beta1`,
    /// `v1alpha1`), then other names alphabetically.
    static func byPriority(_ versions: [String]) -> [String] {
        func key(_ v: String) -> (Int, Int, Int, String) {
            let parts = v.split(separator: "v", maxSplits: 1, omittingEmptySubsequences: false)
            guard v.hasPrefix("v"), parts.count == 2 else { return (3, 0, 0, v) }
            let rest = parts[1]
            let major = Int(rest.prefix { $0.isNumber }) ?? -1
            guard major >= 0 else { return (3, 0, 0, v) }
            let tail = rest.drop { $0.isNumber }
            if tail.isEmpty { return (0, -major, 0, v) }
            for (rank, stage) in [(1, "beta"), (2, "alpha")] where tail.hasPrefix(stage) {
                if let minor = Int(tail.dropFirst(stage.count)) { return (rank, -major, -minor, v) }
            }
            return (3, 0, 0, v)
        }
        return versions.sorted { key($0) < key($1) }
    }

    static func groups(_ resources: [ServedResource]) -> JSONValue {
        var byGroup: [String: [String]] = [:]
        var order: [String] = []
        for r in resources where !r.group.isEmpty {
            if byGroup[r.group] == nil { order.append(r.group) }
            if !byGroup[r.group, default: []].contains(r.version) { byGroup[r.group, default: []].append(r.version) }
        }
        let groups: [JSONValue] = order.map { g in
            let versions: [JSONValue] = Self.byPriority(byGroup[g]!).map { .object(JSONObject([("groupVersion", .string("\(g)/\($0)")), ("version", .string($0))])) }
            return .object(JSONObject([("name", .string(g)), ("versions", .array(versions)), ("preferredVersion", versions[0])]))
        }
        return .object(JSONObject([("kind", "APIGroupList"), ("apiVersion", "v1"), ("groups", .array(groups))]))
    }

    static func resourceList(group: String, version: String, _ resources: [ServedResource]) -> JSONValue? {
        let matching = resources.filter { $0.group == group && $0.version == version }
        guard !matching.isEmpty else { return nil }
        var items: [JSONValue] = []
        for r in matching {
            var o = JSONObject([
                ("name", .string(r.plural)), ("singularName", .string(r.singular)), ("namespaced", .bool(r.namespaced)), ("kind", .string(r.kind)),
                ("verbs", verbs(r)),
            ])
            if !r.shortNames.isEmpty { o["shortNames"] = .array(r.shortNames.map(JSONValue.string)) }
            if !r.categories.isEmpty { o["categories"] = .array(r.categories.map(JSONValue.string)) }
            items.append(.object(o))
            for sub in subresources(of: r) {
                var entry = JSONObject([("name", .string("\(r.plural)/\(sub.name)")), ("singularName", ""), ("namespaced", .bool(r.namespaced))])
                // The legacy list names another group only when the subresource answers with one.
                if sub.group != r.group || sub.version != r.version {
                    entry["group"] = .string(sub.group)
                    entry["version"] = .string(sub.version)
                }
                entry["kind"] = .string(sub.kind)
                entry["verbs"] = sub.verbs
                items.append(.object(entry))
            }
        }
        return .object(
            JSONObject([
                ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", .string(group.isEmpty ? version : "\(group)/\(version)")),
                ("resources", .array(items)),
            ]))
    }

    static func verbs(_ r: ServedResource) -> JSONValue {
        r.review ? ["create"] : ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    }

    // MARK: Aggregated discovery

    /// The `apidiscovery.k8s.io` version a client asked for in `Accept`, if it asked for the
    /// aggregated form at all (kubectl 1.32 prefers v2, then v2beta1, then the legacy lists).
    static func aggregatedVersion(accept: String?) -> String? {
        guard let accept else { return nil }
        for range in accept.split(separator: ",") {
            let params = Set(range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
            guard params.contains("g=apidiscovery.k8s.io"), params.contains("as=APIGroupDiscoveryList") else { continue }
            if params.contains("v=v2") { return "v2" }
            if params.contains("v=v2beta1") { return "v2beta1" }
        }
        return nil
    }

    static func aggregatedContentType(_ version: String) -> String {
        "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList"
    }

    /// Every group and resource in one document: `/api` holds the core group (named ""),
    /// `/apis` all others. Clients then need no request per group version.
    static func aggregated(core: Bool, version: String, _ resources: [ServedResource]) -> JSONValue {
        var order: [String] = []
        var byGroup: [String: [ServedResource]] = [:]
        for r in resources where r.group.isEmpty == core {
            if byGroup[r.group] == nil { order.append(r.group) }
            byGroup[r.group, default: []].append(r)
        }
        let items: [JSONValue] = order.map { group in
            var versionOrder: [String] = []
            for r in byGroup[group]! where !versionOrder.contains(r.version) { versionOrder.append(r.version) }
            versionOrder = Self.byPriority(versionOrder)
            let versions: [JSONValue] = versionOrder.map { v in
                .object(
                    JSONObject([
                        ("version", .string(v)),
                        ("resources", .array(byGroup[group]!.filter { $0.version == v }.map(resourceDiscovery))),
                        ("freshness", "Current"),
                    ]))
            }
            return .object(JSONObject([("metadata", .object(JSONObject([("name", .string(group))]))), ("versions", .array(versions))]))
        }
        return .object(
            JSONObject([
                ("kind", "APIGroupDiscoveryList"), ("apiVersion", .string("apidiscovery.k8s.io/\(version)")), ("metadata", .object(JSONObject())),
                ("items", .array(items)),
            ]))
    }

    /// A subresource as both discovery formats describe it: its name and the kind it answers with.
    private struct Subresource {
        var name: String
        var group: String
        var version: String
        var kind: String
        var verbs: JSONValue = ["get", "patch", "update"]
    }

    /// One source for the legacy lists and the aggregated documents, so the two cannot disagree.
    private static func subresources(of r: ServedResource) -> [Subresource] {
        var subs: [Subresource] = []
        if r.scalePaths != nil { subs.append(Subresource(name: "scale", group: "autoscaling", version: "v1", kind: "Scale")) }
        if r.statusSubresource { subs.append(Subresource(name: "status", group: r.group, version: r.version, kind: r.kind)) }
        if r.kind == "Pod" && r.schema == nil { subs.append(Subresource(name: "binding", group: "", version: "v1", kind: "Binding", verbs: ["create"])) }
        return subs
    }

    private static func kindRef(group: String, version: String, kind: String) -> JSONValue {
        .object(JSONObject([("group", .string(group)), ("version", .string(version)), ("kind", .string(kind))]))
    }

    private static func resourceDiscovery(_ r: ServedResource) -> JSONValue {
        var o = JSONObject([
            ("resource", .string(r.plural)), ("responseKind", kindRef(group: r.group, version: r.version, kind: r.kind)),
            ("scope", r.namespaced ? "Namespaced" : "Cluster"), ("singularResource", .string(r.singular)), ("verbs", verbs(r)),
        ])
        if !r.shortNames.isEmpty { o["shortNames"] = .array(r.shortNames.map(JSONValue.string)) }
        if !r.categories.isEmpty { o["categories"] = .array(r.categories.map(JSONValue.string)) }
        let subresources: [JSONValue] = subresources(of: r).map { sub in
            .object(
                JSONObject([
                    ("subresource", .string(sub.name)), ("responseKind", kindRef(group: sub.group, version: sub.version, kind: sub.kind)),
                    ("verbs", sub.verbs),
                ]))
        }
        if !subresources.isEmpty { o["subresources"] = .array(subresources) }
        return .object(o)
    }
}
