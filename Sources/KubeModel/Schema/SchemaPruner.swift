/// Removes fields a structural schema does not declare, as the API server prunes custom
/// resources, and reports their paths (for `fieldValidation=Strict` errors or warnings).
public enum SchemaPruner {
    public static func prune(_ value: JSONValue, _ schema: JSONSchemaProps, path: String = "") -> (JSONValue, [String]) {
        switch value {
        case .object(var o):
            if schema.preserveUnknownFields == true || schema.intOrString == true { return (value, []) }
            var removed: [String] = []
            let props = schema.properties ?? [:]
            for (k, v) in o {
                let child = FieldPath.child(path, k)
                if let p = props[k] {
                    let (pruned, r) = prune(v, p, path: child)
                    o[k] = pruned
                    removed += r
                } else if let additional = schema.additionalProperties {
                    let (pruned, r) = prune(v, additional, path: child)
                    o[k] = pruned
                    removed += r
                } else if schema.embeddedResource == true && ["apiVersion", "kind", "metadata"].contains(k) {
                    continue
                } else if schema.properties != nil || schema.type == "object" {
                    o[k] = nil
                    removed.append(child)
                }
            }
            return (.object(o), removed)
        case .array(let items):
            guard let itemSchema = schema.items else { return (value, []) }
            var removed: [String] = []
            let pruned = items.enumerated().map { i, item in
                let (p, r) = prune(item, itemSchema, path: FieldPath.index(path, i))
                removed += r
                return p
            }
            return (.array(pruned), removed)
        default:
            return (value, [])
        }
    }
}
