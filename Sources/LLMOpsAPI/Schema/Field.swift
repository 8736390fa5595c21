import KubeModel

/// One property of an object schema. The value type is taken from the key path, and whether
/// the field is required follows from it: non-optional without a default means required.
public struct Field<Root> {
    public let name: String
    public var schema: JSONSchemaProps
    public let required: Bool

    /// A required field.
    public init<V: SchemaDescribed>(_ name: String, _ path: KeyPath<Root, V>, _ doc: String) {
        self.name = name
        schema = V.openAPISchema
        schema.description = doc
        required = true
    }

    /// An optional field.
    public init<V: SchemaDescribed>(_ name: String, _ path: KeyPath<Root, V?>, _ doc: String) {
        self.name = name
        schema = V.openAPISchema
        schema.description = doc
        required = false
    }

    /// A field the API server defaults when omitted.
    public init<P>(_ name: String, _ path: KeyPath<Root, Defaulted<P>>, _ doc: String) {
        self.name = name
        schema = P.Value.openAPISchema
        schema.description = doc
        schema.defaultValue = Defaulted<P>.defaultJSON
        required = false
    }

    private func with(_ change: (inout JSONSchemaProps) -> Void) -> Field {
        var f = self
        change(&f.schema)
        return f
    }

    public func minimum(_ v: Double, exclusive: Bool = false) -> Field {
        with {
            $0.minimum = v
            if exclusive { $0.exclusiveMinimum = true }
        }
    }
    public func maximum(_ v: Double) -> Field { with { $0.maximum = v } }
    public func range(_ r: ClosedRange<Double>) -> Field { minimum(r.lowerBound).maximum(r.upperBound) }
    public func pattern(_ p: String) -> Field { with { $0.pattern = p } }
    public func minLength(_ n: Int) -> Field { with { $0.minLength = n } }
    public func maxLength(_ n: Int) -> Field { with { $0.maxLength = n } }
    public func minItems(_ n: Int) -> Field { with { $0.minItems = n } }
    public func maxItems(_ n: Int) -> Field { with { $0.maxItems = n } }
    public func format(_ f: String) -> Field { with { $0.format = f } }
    /// Items are unique scalars (`x-kubernetes-list-type: set`).
    public func setList() -> Field { with { $0.listType = "set" } }
    /// Items are objects unique by `keys` (`x-kubernetes-list-type: map`), so server-side
    /// apply merges them by key instead of replacing the whole list.
    public func mapList(keys: [String]) -> Field {
        with {
            $0.listType = "map"
            $0.listMapKeys = keys
        }
    }
    /// Constrains the items of an array field.
    public func items(_ change: @escaping (inout JSONSchemaProps) -> Void) -> Field {
        with { s in
            if var items = s.items {
                change(&items)
                s.items = items
            }
        }
    }
    /// Constrains the values of a map field.
    public func values(_ change: @escaping (inout JSONSchemaProps) -> Void) -> Field {
        with { s in
            if var v = s.additionalProperties {
                change(&v)
                s.additionalProperties = v
            }
        }
    }
}

extension JSONSchemaProps {
    /// The schema of a struct, from its fields.
    public static func object<Root>(
        _ root: Root.Type, _ description: String, _ fields: [Field<Root>], rules: [ValidationRule] = [],
        minProperties: Int? = nil
    ) -> JSONSchemaProps {
        var s = JSONSchemaProps.object(
            description,
            properties: Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.schema) }),
            required: fields.filter(\.required).map(\.name))
        s.validations = rules.isEmpty ? nil : rules
        s.minProperties = minProperties
        return s
    }
}
