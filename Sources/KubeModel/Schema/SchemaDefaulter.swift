/// Applies schema defaults and drops non-nullable nulls, in the order the API server does
/// for custom resources: a missing field with a `default` gets it, then defaulting continues
/// inside it, so a defaulted object also receives its own fields' defaults.
public enum SchemaDefaulter {
    public static func apply(_ value: JSONValue, _ schema: JSONSchemaProps) -> JSONValue {
        switch value {
        case .object(var object):
            guard let properties = schema.properties else {
                if let additional = schema.additionalProperties {
                    for (k, v) in object { object[k] = apply(v, additional) }
                }
                return .object(object)
            }
            for (key, child) in object {
                if child == .null, let p = properties[key], p.nullable != true {
                    object[key] = nil
                }
            }
            for key in properties.keys.sorted() {
                let p = properties[key]!
                if let existing = object[key] {
                    object[key] = apply(existing, p)
                } else if let d = p.defaultValue {
                    object[key] = apply(d, p)
                }
            }
            return .object(object)
        case .array(let items):
            guard let itemSchema = schema.items else { return value }
            return .array(items.map { apply($0, itemSchema) })
        default:
            return value
        }
    }
}
