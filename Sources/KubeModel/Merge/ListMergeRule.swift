/// How a list field merges in strategic merge patches and server-side apply: replaced as a
/// whole (atomic), as a set of scalars, or as a map whose elements are identified by key fields
/// (`containers` by `name`, `conditions` by `type`).
public enum ListMergeRule: Sendable, Equatable {
    case atomic
    case set
    case map(keys: [String])
}

/// Answers which rule applies to the list at a path of field names (list positions and map
/// keys of `additionalProperties` maps included as they appear, e.g. `["spec", "containers"]`).
public struct ListRules: Sendable {
    private let resolve: @Sendable ([String]) -> ListMergeRule

    public init(_ resolve: @escaping @Sendable ([String]) -> ListMergeRule) { self.resolve = resolve }

    public func rule(at path: [String]) -> ListMergeRule { resolve(path) }

    /// Every list is atomic: the JSON merge patch behaviour.
    public static let atomic = ListRules { _ in .atomic }

    /// Rules from a structural schema's `x-kubernetes-list-type` / `x-kubernetes-list-map-keys`
    /// (custom resources), with `metadata` lists following the object-meta conventions.
    public static func schema(_ schema: JSONSchemaProps) -> ListRules {
        ListRules { path in
            if let meta = objectMetaRule(path) { return meta }
            var node: JSONSchemaProps? = schema
            for (i, name) in path.enumerated() {
                guard let n = node else { return .atomic }
                if let p = n.properties?[name] {
                    node = p
                } else if let ap = n.additionalProperties {
                    node = ap
                } else {
                    return .atomic
                }
                // Fields below a list belong to its elements.
                if i < path.count - 1, let items = node?.items, node?.type == "array" { node = items }
            }
            switch node?.listType {
            case "map"?: return .map(keys: node?.listMapKeys ?? [])
            case "set"?: return .set
            default: return .atomic
            }
        }
    }

    /// `metadata.ownerReferences` merge by uid and `metadata.finalizers` as a set, for every kind.
    public static func objectMetaRule(_ path: [String]) -> ListMergeRule? {
        guard path.count == 2, path[0] == "metadata" else { return nil }
        switch path[1] {
        case "ownerReferences": return .map(keys: ["uid"])
        case "finalizers": return .set
        case "managedFields": return .atomic
        default: return nil
        }
    }
}
