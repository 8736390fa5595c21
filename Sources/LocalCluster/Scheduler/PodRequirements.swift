import KubeModel

/// What a Pod asks of a node, read from its spec as kube-scheduler reads it: resource requests
/// (limits stand in for missing requests, as the API server defaults them), node selector,
/// required node affinity, tolerations and topology spread constraints.
struct PodRequirements: Sendable {
    var requests: [String: Double] = [:]
    var nodeSelector: [String: String] = [:]
    /// OR of terms, each an AND of expressions.
    var affinityTerms: [[LabelSelectorSpec.Requirement]] = []
    var tolerations: [Toleration] = []
    var spread: [SpreadConstraint] = []

    struct Toleration: Sendable {
        var key: String?
        var op: String
        var value: String?
        var effect: String?

        func tolerates(_ t: Node.Taint) -> Bool {
            if let effect, !effect.isEmpty, effect != t.effect { return false }
            guard let key, !key.isEmpty else { return op == "Exists" }
            guard key == t.key else { return false }
            return op == "Exists" || (value ?? "") == (t.value ?? "")
        }
    }

    struct SpreadConstraint: Sendable {
        var maxSkew: Int
        var topologyKey: String
        var hard: Bool
        var selector: LabelSelectorSpec?
    }

    init(spec: JSONValue?) {
        guard let spec else { return }
        let containers = spec["containers"]?.arrayValue ?? []
        for c in containers {
            let limits = c["resources"]?["limits"]?.objectValue
            let requests = c["resources"]?["requests"]?.objectValue
            var names = Set(limits?.keys ?? [])
            names.formUnion(requests?.keys ?? [])
            for name in names {
                let v = Quantity.parse(requests?[name]) ?? Quantity.parse(limits?[name]) ?? 0
                self.requests[name, default: 0] += v
            }
        }
        // Init containers run one at a time before the others: the Pod needs the larger of
        // their largest request and the sum above.
        for c in spec["initContainers"]?.arrayValue ?? [] {
            for (name, value) in c["resources"]?["requests"]?.objectValue ?? JSONObject() {
                if let v = Quantity.parse(value) { self.requests[name] = max(self.requests[name] ?? 0, v) }
            }
        }
        for (k, v) in spec["nodeSelector"]?.objectValue ?? JSONObject() { nodeSelector[k] = v.stringValue ?? "" }
        let terms = spec["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?.arrayValue ?? []
        affinityTerms = terms.map { term in
            (term["matchExpressions"]?.arrayValue ?? []).map { e in
                LabelSelectorSpec.Requirement(
                    key: e["key"]?.stringValue ?? "", operator: e["operator"]?.stringValue ?? "In", values: e["values"]?.arrayValue?.compactMap(\.stringValue))
            }
        }
        tolerations = (spec["tolerations"]?.arrayValue ?? []).map { t in
            Toleration(key: t["key"]?.stringValue, op: t["operator"]?.stringValue ?? "Equal", value: t["value"]?.stringValue, effect: t["effect"]?.stringValue)
        }
        spread = (spec["topologySpreadConstraints"]?.arrayValue ?? []).compactMap { c in
            guard let key = c["topologyKey"]?.stringValue else { return nil }
            let selector = c["labelSelector"].flatMap { try? JSONValueDecoder().decode(LabelSelectorSpec.self, from: $0) }
            return SpreadConstraint(
                maxSkew: Int(c["maxSkew"]?.intValue ?? 1), topologyKey: key, hard: c["whenUnsatisfiable"]?.stringValue != "ScheduleAnyway", selector: selector)
        }
    }

    func tolerates(_ taint: Node.Taint) -> Bool { tolerations.contains { $0.tolerates(taint) } }

    /// Whether the node's labels satisfy the selector and one of the affinity terms.
    func matchesNode(_ labels: [String: String]) -> Bool {
        for (k, v) in nodeSelector where labels[k] != v { return false }
        guard !affinityTerms.isEmpty else { return true }
        return affinityTerms.contains { term in term.allSatisfy { Self.matches($0, labels) } }
    }

    static func matches(_ r: LabelSelectorSpec.Requirement, _ labels: [String: String]) -> Bool {
        let value = labels[r.key]
        let values = r.values ?? []
        switch r.operator {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt": return value.flatMap(Int.init).map { v in values.first.flatMap(Int.init).map { v > $0 } ?? false } ?? false
        case "Lt": return value.flatMap(Int.init).map { v in values.first.flatMap(Int.init).map { v < $0 } ?? false } ?? false
        default: return false
        }
    }
}

extension LabelSelectorSpec {
    /// Whether `labels` satisfy this selector (an empty selector matches everything).
    func matches(_ labels: [String: String]) -> Bool {
        for (k, v) in matchLabels ?? [:] where labels[k] != v { return false }
        return (matchExpressions ?? []).allSatisfy { PodRequirements.matches($0, labels) }
    }
}
