/// The OpenAPI v3 schema subset that apiextensions.k8s.io/v1 accepts in a CRD
/// (`JSONSchemaProps`), with the Kubernetes `x-kubernetes-*` extensions. It is both what
/// `llmops crds` writes and what the validator and defaulter read, so the generated YAML
/// and the offline checks cannot disagree.
public struct JSONSchemaProps: Sendable, Equatable {
    public var type: String?
    public var format: String?
    public var description: String?
    public var properties: [String: JSONSchemaProps]?
    public var required: [String]?
    public var items: JSONSchemaProps? {
        get { itemsBox.first }
        set { itemsBox = newValue.map { [$0] } ?? [] }
    }
    /// Schema of map values (`additionalProperties`) for string-keyed maps.
    public var additionalProperties: JSONSchemaProps? {
        get { additionalBox.first }
        set { additionalBox = newValue.map { [$0] } ?? [] }
    }
    public var enumValues: [JSONValue]?
    public var defaultValue: JSONValue?
    public var minimum: Double?
    public var maximum: Double?
    public var exclusiveMinimum: Bool?
    public var exclusiveMaximum: Bool?
    public var minLength: Int?
    public var maxLength: Int?
    public var minItems: Int?
    public var maxItems: Int?
    public var minProperties: Int?
    public var maxProperties: Int?
    public var pattern: String?
    /// OpenAPI `nullable`: an explicit null is kept instead of pruned.
    public var nullable: Bool?
    /// `x-kubernetes-map-type`: `granular` (the default) or `atomic` (replaced as a whole).
    public var mapType: String?
    public var anyOf: [JSONSchemaProps]?
    public var intOrString: Bool?
    public var preserveUnknownFields: Bool?
    public var embeddedResource: Bool?
    public var listType: String?
    public var listMapKeys: [String]?
    public var validations: [ValidationRule]?

    // Arrays stand in for boxes: a struct cannot hold an optional of itself directly.
    private var itemsBox: [JSONSchemaProps] = []
    private var additionalBox: [JSONSchemaProps] = []

    public init(type: String? = nil, description: String? = nil) {
        self.type = type
        self.description = description
    }

    public static func object(_ description: String? = nil, properties: [String: JSONSchemaProps] = [:], required: [String] = [])
        -> JSONSchemaProps
    {
        var s = JSONSchemaProps(type: "object", description: description)
        s.properties = properties
        s.required = required.isEmpty ? nil : required
        return s
    }

    public static func array(of items: JSONSchemaProps, _ description: String? = nil) -> JSONSchemaProps {
        var s = JSONSchemaProps(type: "array", description: description)
        s.items = items
        return s
    }

    public static func map(of values: JSONSchemaProps, _ description: String? = nil) -> JSONSchemaProps {
        var s = JSONSchemaProps(type: "object", description: description)
        s.additionalProperties = values
        return s
    }
}

/// A CEL rule in `x-kubernetes-validations`.
public struct ValidationRule: Sendable, Equatable, Codable {
    public var rule: String
    public var message: String?
    /// A CEL expression giving the message (a string) when the rule fails.
    public var messageExpression: String?
    public var fieldPath: String?
    /// `FieldValueInvalid` (the default), `FieldValueForbidden`, `FieldValueRequired` or
    /// `FieldValueDuplicate`: the kind of error a failure reports.
    public var reason: String?
    /// A transition rule that also runs on create, with `oldSelf` an optional.
    public var optionalOldSelf: Bool?
    public init(
        rule: String, message: String? = nil, fieldPath: String? = nil, reason: String? = nil, messageExpression: String? = nil, optionalOldSelf: Bool? = nil
    ) {
        self.rule = rule
        self.message = message
        self.fieldPath = fieldPath
        self.reason = reason
        self.messageExpression = messageExpression
        self.optionalOldSelf = optionalOldSelf
    }

    public static let reasons = ["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"]
}

extension JSONSchemaProps {
    /// The schema as JSON, with keys in the order kubebuilder writes them, sorted properties.
    public var jsonValue: JSONValue {
        var o = JSONObject()
        if let anyOf { o["anyOf"] = .array(anyOf.map(\.jsonValue)) }
        if let additionalProperties { o["additionalProperties"] = additionalProperties.jsonValue }
        if let defaultValue { o["default"] = defaultValue }
        if let description { o["description"] = .string(description) }
        if let enumValues { o["enum"] = .array(enumValues) }
        if let exclusiveMaximum { o["exclusiveMaximum"] = .bool(exclusiveMaximum) }
        if let exclusiveMinimum { o["exclusiveMinimum"] = .bool(exclusiveMinimum) }
        if let format { o["format"] = .string(format) }
        if let items { o["items"] = items.jsonValue }
        if let maxItems { o["maxItems"] = .int(Int64(maxItems)) }
        if let maxLength { o["maxLength"] = .int(Int64(maxLength)) }
        if let maxProperties { o["maxProperties"] = .int(Int64(maxProperties)) }
        if let maximum { o["maximum"] = number(maximum) }
        if let minItems { o["minItems"] = .int(Int64(minItems)) }
        if let minLength { o["minLength"] = .int(Int64(minLength)) }
        if let minProperties { o["minProperties"] = .int(Int64(minProperties)) }
        if let minimum { o["minimum"] = number(minimum) }
        if let nullable { o["nullable"] = .bool(nullable) }
        if let pattern { o["pattern"] = .string(pattern) }
        if let properties, !properties.isEmpty {
            o["properties"] = .object(JSONObject(properties.keys.sorted().map { ($0, properties[$0]!.jsonValue) }))
        }
        if let required { o["required"] = .array(required.map(JSONValue.string)) }
        if let type { o["type"] = .string(type) }
        if let embeddedResource { o["x-kubernetes-embedded-resource"] = .bool(embeddedResource) }
        if let intOrString { o["x-kubernetes-int-or-string"] = .bool(intOrString) }
        if let listMapKeys { o["x-kubernetes-list-map-keys"] = .array(listMapKeys.map(JSONValue.string)) }
        if let listType { o["x-kubernetes-list-type"] = .string(listType) }
        if let mapType { o["x-kubernetes-map-type"] = .string(mapType) }
        if let preserveUnknownFields { o["x-kubernetes-preserve-unknown-fields"] = .bool(preserveUnknownFields) }
        if let validations {
            o["x-kubernetes-validations"] = .array(
                validations.map { v in
                    var r = JSONObject()
                    if let f = v.fieldPath { r["fieldPath"] = .string(f) }
                    if let m = v.message { r["message"] = .string(m) }
                    if let m = v.messageExpression { r["messageExpression"] = .string(m) }
                    if let o = v.optionalOldSelf { r["optionalOldSelf"] = .bool(o) }
                    if let reason = v.reason { r["reason"] = .string(reason) }
                    r["rule"] = .string(v.rule)
                    return .object(r)
                })
        }
        return .object(o)
    }

    private func number(_ d: Double) -> JSONValue {
        d.rounded() == d && abs(d) < 9e15 ? .int(Int64(d)) : .double(d)
    }

    /// Reads a schema back from JSON (a CRD applied to the API server, or a committed file).
    public init(json: JSONValue) throws(SchemaDecodingError) {
        guard let o = json.objectValue else { throw SchemaDecodingError(path: "", message: "schema must be an object") }
        func str(_ k: String) throws(SchemaDecodingError) -> String? {
            guard let v = o[k] else { return nil }
            guard let s = v.stringValue else { throw SchemaDecodingError(path: k, message: "must be a string") }
            return s
        }
        func int(_ k: String) throws(SchemaDecodingError) -> Int? {
            guard let v = o[k] else { return nil }
            guard let i = v.intValue, i >= 0 else { throw SchemaDecodingError(path: k, message: "must be a non-negative integer") }
            return Int(i)
        }
        func num(_ k: String) throws(SchemaDecodingError) -> Double? {
            guard let v = o[k] else { return nil }
            guard let d = v.numberValue else { throw SchemaDecodingError(path: k, message: "must be a number") }
            return d
        }
        func bool(_ k: String) throws(SchemaDecodingError) -> Bool? {
            guard let v = o[k] else { return nil }
            guard let b = v.boolValue else { throw SchemaDecodingError(path: k, message: "must be a boolean") }
            return b
        }
        func strings(_ k: String) throws(SchemaDecodingError) -> [String]? {
            guard let v = o[k] else { return nil }
            guard let a = v.arrayValue else { throw SchemaDecodingError(path: k, message: "must be a list of strings") }
            var out: [String] = []
            for item in a {
                guard let s = item.stringValue else { throw SchemaDecodingError(path: k, message: "must be a list of strings") }
                out.append(s)
            }
            return out
        }
        func sub(_ k: String, _ v: JSONValue) throws(SchemaDecodingError) -> JSONSchemaProps {
            do {
                return try JSONSchemaProps(json: v)
            } catch {
                throw SchemaDecodingError(path: FieldPath.child(k, error.path), message: error.message)
            }
        }
        self.init(type: try str("type"), description: try str("description"))
        format = try str("format")
        pattern = try str("pattern")
        minLength = try int("minLength")
        maxLength = try int("maxLength")
        minItems = try int("minItems")
        maxItems = try int("maxItems")
        minProperties = try int("minProperties")
        maxProperties = try int("maxProperties")
        minimum = try num("minimum")
        maximum = try num("maximum")
        exclusiveMinimum = try bool("exclusiveMinimum")
        exclusiveMaximum = try bool("exclusiveMaximum")
        nullable = try bool("nullable")
        mapType = try str("x-kubernetes-map-type")
        if let mapType, !["granular", "atomic"].contains(mapType) {
            throw SchemaDecodingError(path: "x-kubernetes-map-type", message: "Unsupported value: \"\(mapType)\": supported values: \"granular\", \"atomic\"")
        }
        intOrString = try bool("x-kubernetes-int-or-string")
        preserveUnknownFields = try bool("x-kubernetes-preserve-unknown-fields")
        embeddedResource = try bool("x-kubernetes-embedded-resource")
        listType = try str("x-kubernetes-list-type")
        listMapKeys = try strings("x-kubernetes-list-map-keys")
        required = try strings("required")
        defaultValue = o["default"]
        if let e = o["enum"] {
            guard let a = e.arrayValue else { throw SchemaDecodingError(path: "enum", message: "must be a list") }
            enumValues = a
        }
        if let p = o["properties"] {
            guard let po = p.objectValue else { throw SchemaDecodingError(path: "properties", message: "must be an object") }
            var props: [String: JSONSchemaProps] = [:]
            for (k, v) in po { props[k] = try sub("properties." + k, v) }
            properties = props
        }
        if let i = o["items"] { items = try sub("items", i) }
        if let a = o["additionalProperties"] {
            if a.objectValue != nil { additionalProperties = try sub("additionalProperties", a) }
        }
        if let any = o["anyOf"] {
            guard let arr = any.arrayValue else { throw SchemaDecodingError(path: "anyOf", message: "must be a list") }
            var out: [JSONSchemaProps] = []
            for (n, v) in arr.enumerated() { out.append(try sub("anyOf[\(n)]", v)) }
            anyOf = out
        }
        if let vs = o["x-kubernetes-validations"] {
            guard let arr = vs.arrayValue else {
                throw SchemaDecodingError(path: "x-kubernetes-validations", message: "must be a list")
            }
            var out: [ValidationRule] = []
            for v in arr {
                guard let rule = v["rule"]?.stringValue else {
                    throw SchemaDecodingError(path: "x-kubernetes-validations", message: "each entry needs a rule")
                }
                if let reason = v["reason"]?.stringValue, !ValidationRule.reasons.contains(reason) {
                    throw SchemaDecodingError(
                        path: "x-kubernetes-validations[\(out.count)].reason",
                        message: "Unsupported value: \"\(reason)\": supported values: \(ValidationRule.reasons.map { "\"\($0)\"" }.joined(separator: ", "))")
                }
                out.append(
                    ValidationRule(
                        rule: rule, message: v["message"]?.stringValue, fieldPath: v["fieldPath"]?.stringValue,
                        reason: v["reason"]?.stringValue, messageExpression: v["messageExpression"]?.stringValue, optionalOldSelf: v["optionalOldSelf"]?.boolValue))
            }
            validations = out
        }
    }
}

/// A schema that could not be read, with the path inside the schema.
public struct SchemaDecodingError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
