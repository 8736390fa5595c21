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
    private let atomicObject: @Sendable ([String]) -> Bool

    public init(_ resolve: @escaping @Sendable ([String]) -> ListMergeRule, atomicObject: @escaping @Sendable ([String]) -> Bool = { _ in false }) {
        self.resolve = resolve
        self.atomicObject = atomicObject
    }

    public func rule(at path: [String]) -> ListMergeRule { resolve(path) }

    /// Whether the object at `path` is replaced as a whole (`x-kubernetes-map-type: atomic`):
    /// server-side apply owns and sets it as one value.
    public func isAtomicObject(at path: [String]) -> Bool { atomicObject(path) }

    /// Every list is atomic: the JSON merge patch behaviour.
    public static let atomic = ListRules { _ in .atomic }

    /// Rules from a structural schema's `x-kubernetes-list-type` / `x-kubernetes-list-map-keys`
    /// (custom resources), with `metadata` lists following the object-meta conventions.
    public static func schema(_ schema: JSONSchemaProps) -> ListRules {
        ListRules(
            { path in
                if let meta = objectMetaRule(path) { return meta }
                switch node(schema, path)?.listType {
                case "map"?: return .map(keys: node(schema, path)?.listMapKeys ?? [])
                case "set"?: return .set
                default: return .atomic
                }
            },
            atomicObject: { path in path.first != "metadata" && node(schema, path)?.mapType == "atomic" })
    }

    /// The schema node at a path of field names (fields below a list belong to its elements).
    static func node(_ schema: JSONSchemaProps, _ path: [String]) -> JSONSchemaProps? {
        var node: JSONSchemaProps? = schema
        for (i, name) in path.enumerated() {
            guard let n = node else { return nil }
            if let p = n.properties?[name] {
                node = p
            } else if let ap = n.additionalProperties {
                node = ap
            } else {
                return nil
            }
            if i < path.count - 1, let items = node?.items, node?.type == "array" { node = items }
        }
        return node
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
