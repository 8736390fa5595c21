import Foundation
import KubeModel

/// A Swift type that knows its OpenAPI v3 schema. Structs build theirs from `Field`s whose
/// types come from key paths to their stored properties, so a property's Swift type and its
/// schema type cannot disagree; a test encodes fully-populated values and checks that every
/// encoded key is declared and every declared key is encoded, so names cannot drift either.
public protocol SchemaDescribed {
    static var openAPISchema: JSONSchemaProps { get }
}

extension String: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps { JSONSchemaProps(type: "string") }
}

extension Bool: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps { JSONSchemaProps(type: "boolean") }
}

extension Int32: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps {
        var s = JSONSchemaProps(type: "integer")
        s.format = "int32"
        return s
    }
}

extension Int64: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps {
        var s = JSONSchemaProps(type: "integer")
        s.format = "int64"
        return s
    }
}

extension Double: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps {
        var s = JSONSchemaProps(type: "number")
        s.format = "double"
        return s
    }
}

extension Timestamp: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps {
        var s = JSONSchemaProps(type: "string")
        s.format = "date-time"
        return s
    }
}

extension Array: SchemaDescribed where Element: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps { .array(of: Element.openAPISchema) }
}

extension Dictionary: SchemaDescribed where Key == String, Value: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps { .map(of: Value.openAPISchema) }
}

/// String enums list their cases in the schema, so the API server rejects anything else.
public protocol SchemaEnum: SchemaDescribed, CaseIterable, RawRepresentable, Codable, Sendable, Hashable
where RawValue == String {}

extension SchemaEnum {
    public static var openAPISchema: JSONSchemaProps {
        var s = JSONSchemaProps(type: "string")
        s.enumValues = allCases.map { .string($0.rawValue) }
        return s
    }
}

extension Condition: SchemaDescribed {
    public static var openAPISchema: JSONSchemaProps {
        var status = JSONSchemaProps(type: "string", description: "Status of the condition: True, False or Unknown.")
        status.enumValues = ["True", "False", "Unknown"]
        var reason = JSONSchemaProps(type: "string", description: "CamelCase reason for the last transition, for machines.")
        reason.maxLength = 1024
        var message = JSONSchemaProps(type: "string", description: "Human-readable details of the last transition.")
        message.maxLength = 32768
        var generation = Int64.openAPISchema
        generation.description = "The metadata.generation the condition was computed from."
        generation.minimum = 0
        var time = Timestamp.openAPISchema
        time.description = "When the condition last changed status."
        var type = JSONSchemaProps(type: "string", description: "Type of condition, such as Ready, Progressing or Degraded.")
        type.maxLength = 316
        return .object(
            "A standard Kubernetes condition (metav1.Condition).",
            properties: [
                "type": type, "status": status, "observedGeneration": generation, "lastTransitionTime": time,
                "reason": reason, "message": message,
            ],
            required: ["type", "status", "lastTransitionTime", "reason", "message"])
    }
}

/// Supplies the value of a field the schema defaults.
public protocol DefaultProvider {
    associatedtype Value: Codable & Sendable & Hashable & SchemaDescribed
    static var value: Value { get }
}

/// A field the API server fills in when it is omitted. The wrapped value is never absent in
/// Swift, decoding an object without the field yields the default (as the server would), and
/// the schema's `default:` comes from the same provider, so the two cannot differ.
@propertyWrapper
public struct Defaulted<P: DefaultProvider>: Codable, Sendable, Hashable {
    public var wrappedValue: P.Value

    public init(wrappedValue: P.Value) { self.wrappedValue = wrappedValue }
    public init() { wrappedValue = P.value }

    public init(from decoder: Decoder) throws { wrappedValue = try P.Value(from: decoder) }
    public func encode(to encoder: Encoder) throws { try wrappedValue.encode(to: encoder) }

    /// The default rendered as JSON, for the schema.
    static var defaultJSON: JSONValue {
        // Encoding our own plain value types cannot fail.
        (try? JSONValue(encoding: P.value)) ?? .null
    }
}

extension KeyedDecodingContainer {
    public func decode<P>(_ type: Defaulted<P>.Type, forKey key: Key) throws -> Defaulted<P> {
        // The value itself, not the wrapper: a decoder can take scalars directly, and the
        // wrapper's own decoding layer is skipped.
        guard let value = try decodeIfPresent(P.Value.self, forKey: key) else { return Defaulted() }
        return Defaulted(wrappedValue: value)
    }
}

extension JSONValue {
    /// Converts any `Encodable` to a JSON value by way of its JSON text.
    public init(encoding value: some Encodable) throws {
        // Sorted keys: Foundation's key order is unstable, and generated files must be reproducible.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        self = try JSONText.parse(Array(data))
    }

    /// Decodes a `Decodable` from this value.
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(JSONText.serialize(self).utf8))
    }
}
