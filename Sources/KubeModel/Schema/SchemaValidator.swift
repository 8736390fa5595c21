import Foundation

/// Validates a JSON document against a structural schema the way the API server validates a
/// custom resource: types, enums, bounds, patterns, required and unknown fields, list
/// uniqueness, and `x-kubernetes-validations` CEL rules. Every failure is collected (not only
/// the first), each with its field path.
public struct SchemaValidator: Sendable {
    public var schema: JSONSchemaProps
    /// Reject fields the schema does not declare (kubectl's default `--validate=strict`);
    /// when false they are ignored, as pruning would drop them.
    public var rejectUnknownFields: Bool

    public init(schema: JSONSchemaProps, rejectUnknownFields: Bool = true) {
        self.schema = schema
        self.rejectUnknownFields = rejectUnknownFields
    }

    /// Validates a whole resource: `apiVersion`, `kind` and `metadata` are the API server's
    /// business (see `ObjectMetaValidation`), everything else is checked against the schema.
    public func validateResource(_ value: JSONValue, old: JSONValue? = nil) -> [FieldError] {
        guard case .object(var object) = value else {
            return [FieldError(.typeInvalid, "", value: value, "a resource must be an object")]
        }
        var errors: [FieldError] = []
        var rootSchema = schema
        for key in ["apiVersion", "kind", "metadata"] {
            object[key] = nil
            rootSchema.properties?[key] = nil
        }
        rootSchema.required = rootSchema.required?.filter { !["apiVersion", "kind", "metadata"].contains($0) }
        var oldObject = old?.objectValue
        for key in ["apiVersion", "kind", "metadata"] { oldObject?[key] = nil }
        var ruleErrors: [FieldError] = []
        validate(.object(object), rootSchema, path: "", old: oldObject.map(JSONValue.object), errors: &errors, ruleErrors: &ruleErrors)
        return errors + ruleOutcome(ruleErrors, after: errors)
    }

    public func validate(_ value: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        var ruleErrors: [FieldError] = []
        validate(value, schema, path: "", errors: &errors, ruleErrors: &ruleErrors)
        return errors + ruleOutcome(ruleErrors, after: errors)
    }

    /// The API server evaluates CEL rules only when no schema error makes the object the wrong
    /// shape for them (a type, enum, size or required violation anywhere) and says so instead;
    /// pattern or bound violations do not stop the rules.
    private func ruleOutcome(_ ruleErrors: [FieldError], after schemaErrors: [FieldError]) -> [FieldError] {
        let blocking: Set<FieldError.Kind> = [.notSupported, .required, .tooLong, .tooMany, .typeInvalid]
        guard schemaErrors.contains(where: { blocking.contains($0.kind) }) else { return ruleErrors }
        return Self.hasRules(schema) ? [Self.rulesNotChecked] : []
    }

    /// Whether any node of the schema carries `x-kubernetes-validations`.
    static func hasRules(_ s: JSONSchemaProps) -> Bool {
        if !(s.validations ?? []).isEmpty { return true }
        if let items = s.items, hasRules(items) { return true }
        if let additional = s.additionalProperties, hasRules(additional) { return true }
        return (s.properties ?? [:]).values.contains(where: hasRules)
    }

    /// kube-apiserver's own error (with its nil field path) for rules skipped on a misshapen object.
    public static let rulesNotChecked = FieldError(
        .invalid, "<nil>", value: .string("null"),
        "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")

    /// `old` is the value at the same place in the object being replaced (nil on create, or
    /// where nothing correlates): transition rules run only where it exists.
    private func validate(_ value: JSONValue, _ schema: JSONSchemaProps, path: String, old: JSONValue? = nil, errors: inout [FieldError], ruleErrors: inout [FieldError]) {
        if value == .null {
            // Non-nullable nulls are pruned by the API server before validation; nothing to check.
            return
        }
        guard checkType(value, schema, path: path, errors: &errors) else { return }

        if let allowed = schema.enumValues, !allowed.contains(value) {
            let list = allowed.map(\.briefDescription).joined(separator: ", ")
            errors.append(FieldError(.notSupported, path, value: value, "supported values: \(list)"))
        }
        if let anyOf = schema.anyOf, !anyOf.isEmpty {
            let matches = anyOf.contains { alt in
                var scratch: [FieldError] = []
                var scratchRules: [FieldError] = []
                validate(value, alt, path: path, errors: &scratch, ruleErrors: &scratchRules)
                return scratch.isEmpty
            }
            if !matches { errors.append(FieldError(.invalid, path, value: value, "must match at least one of the allowed forms")) }
        }
        switch value {
        case .int, .double:
            checkNumber(value.numberValue!, value, schema, path: path, errors: &errors)
        case .string(let s):
            checkString(s, value, schema, path: path, errors: &errors)
        case .array(let items):
            checkArray(items, value, schema, path: path, old: old, errors: &errors, ruleErrors: &ruleErrors)
        case .object(let object):
            checkObject(object, value, schema, path: path, old: old, errors: &errors, ruleErrors: &ruleErrors)
        default:
            break
        }
        // Rule failures are kept apart: whether they are reported depends on the whole object's
        // schema errors (see ruleOutcome).
        if let rules = schema.validations {
            let bindings = CELRules.Bindings(value, old: old, schema: schema)
            for rule in rules {
                if let e = CELRules.check(rule, value, bindings: bindings, schema: schema, path: path) { ruleErrors.append(e) }
            }
        }
    }

    private func checkType(_ value: JSONValue, _ schema: JSONSchemaProps, path: String, errors: inout [FieldError]) -> Bool {
        if schema.intOrString == true {
            switch value {
            case .string: return true
            case .int: return true
            case .double(let d) where d.rounded() == d: return true
            default:
                errors.append(FieldError(.typeInvalid, path, value: value, "must be an integer or a string, not \(value.typeName)"))
                return false
            }
        }
        guard let type = schema.type else { return true }
        let ok: Bool
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("number", .int),
            ("number", .double), ("integer", .int):
            ok = true
        case ("integer", .double(let d)):
            ok = d.rounded() == d
        default:
            ok = false
        }
        if !ok {
            errors.append(FieldError(.typeInvalid, path, value: .string(value.typeName), "\(Self.inBody(path)) must be of type \(type): \"\(value.typeName)\""))
        }
        return ok
    }

    private func checkNumber(_ n: Double, _ value: JSONValue, _ schema: JSONSchemaProps, path: String, errors: inout [FieldError]) {
        if let min = schema.minimum {
            if schema.exclusiveMinimum == true ? n <= min : n < min {
                let op = schema.exclusiveMinimum == true ? "greater than" : "greater than or equal to"
                errors.append(FieldError(.invalid, path, value: value, "\(Self.inBody(path)) should be \(op) \(formatDouble(min))"))
            }
        }
        if let max = schema.maximum {
            if schema.exclusiveMaximum == true ? n >= max : n > max {
                let op = schema.exclusiveMaximum == true ? "less than" : "less than or equal to"
                errors.append(FieldError(.invalid, path, value: value, "\(Self.inBody(path)) should be \(op) \(formatDouble(max))"))
            }
        }
        if schema.format == "int32", n < -2_147_483_648 || n > 2_147_483_647 {
            errors.append(FieldError(.invalid, path, value: value, "does not fit in a 32-bit integer"))
        }
    }

    private func checkString(_ s: String, _ value: JSONValue, _ schema: JSONSchemaProps, path: String, errors: inout [FieldError]) {
        let length = s.unicodeScalars.count
        if let max = schema.maxLength, length > max {
            errors.append(FieldError(.tooLong, path, value: value, "may not be more than \(max) bytes"))
        }
        if let min = schema.minLength, length < min {
            errors.append(FieldError(.invalid, path, value: value, "\(Self.inBody(path)) should be at least \(min) chars long"))
        }
        if let pattern = schema.pattern {
            if let regex = try? Regex(pattern) {
                if (try? regex.firstMatch(in: s)) == nil {
                    errors.append(FieldError(.invalid, path, value: value, "\(Self.inBody(path)) should match '\(pattern)'"))
                }
            } else {
                errors.append(FieldError(.invalid, path, value: value, "schema pattern '\(pattern)' is not a valid regular expression"))
            }
        }
        if schema.format == "date-time", !Timestamp.isRFC3339(s) {
            errors.append(FieldError(.invalid, path, value: value, "must be an RFC 3339 date-time such as 2024-01-02T15:04:05Z"))
        } else if let format = schema.format, let valid = Self.formats[format], !valid(s) {
            // kube-apiserver's wording for the formats it checks.
            errors.append(FieldError(.invalid, path, value: value, "\(Self.inBody(path)) must be of type \(format): \"\(s)\""))
        }
    }

    /// The subject of the schema keywords' messages, worded as kube-apiserver's OpenAPI
    /// validator words them (`spec.port in body should be ...`); clients match on these.
    static func inBody(_ path: String) -> String { path.isEmpty ? "in body" : "\(path) in body" }

    /// The string formats Kubernetes validates in custom resources (others are documentation).
    static let formats: [String: @Sendable (String) -> Bool] = [
        "byte": { Data(base64Encoded: $0) != nil },
        "date": { s in
            let p = s.split(separator: "-", omittingEmptySubsequences: false)
            guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2, let m = Int(p[1]), let d = Int(p[2]), Int(p[0]) != nil else { return false }
            return (1...12).contains(m) && (1...31).contains(d)
        },
        "uuid": { s in
            let hex = s.lowercased().split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            return hex.map(\.count) == [8, 4, 4, 4, 12] && hex.allSatisfy { $0.allSatisfy(\.isHexDigit) }
        },
        "ipv4": { s in
            let p = s.split(separator: ".", omittingEmptySubsequences: false)
            return p.count == 4 && p.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && (Int($0) ?? 256) <= 255 }
        },
        "ipv6": { s in s.contains(":") && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && s.components(separatedBy: "::").count <= 2 },
        "hostname": { s in
            !s.isEmpty && s.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { l in
                !l.isEmpty && l.count <= 63 && l.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } && l.first != "-" && l.last != "-"
            }
        },
        "email": { s in
            let p = s.split(separator: "@", omittingEmptySubsequences: false)
            return p.count == 2 && !p[0].isEmpty && p[1].contains(".") && !p[1].hasPrefix(".") && !p[1].hasSuffix(".")
        },
    ]

    private func checkArray(_ items: [JSONValue], _ value: JSONValue, _ schema: JSONSchemaProps, path: String, old: JSONValue?, errors: inout [FieldError], ruleErrors: inout [FieldError]) {
        if let max = schema.maxItems, items.count > max {
            errors.append(FieldError(.tooMany, path, value: .int(Int64(items.count)), "must have at most \(max) items"))
        }
        if let min = schema.minItems, items.count < min {
            errors.append(FieldError(.invalid, path, value: value, "\(Self.inBody(path)) should have at least \(min) items"))
        }
        if let itemSchema = schema.items {
            // Only a map list correlates items with the old list (by their keys).
            let keys = schema.listType == "map" ? schema.listMapKeys ?? [] : []
            let oldItems = keys.isEmpty ? [] : old?.arrayValue ?? []
            for (i, item) in items.enumerated() {
                let previous = oldItems.first { o in keys.allSatisfy { o[$0] == item[$0] } }
                validate(item, itemSchema, path: FieldPath.index(path, i), old: previous, errors: &errors, ruleErrors: &ruleErrors)
            }
        }
        switch schema.listType {
        case "set":
            for i in items.indices where items[..<i].contains(items[i]) {
                errors.append(FieldError(.duplicate, FieldPath.index(path, i), value: items[i], ""))
            }
        case "map":
            let keys = schema.listMapKeys ?? []
            var seen: [[JSONValue?]] = []
            for (i, item) in items.enumerated() {
                let k = keys.map { item[$0] }
                if seen.contains(k) {
                    let rendered = zip(keys, k).map { "\($0)=\($1?.briefDescription ?? "null")" }.joined(separator: ",")
                    errors.append(FieldError(.duplicate, FieldPath.index(path, i), value: .string(rendered), "keys must be unique"))
                }
                seen.append(k)
            }
        default:
            break
        }
    }

    private func checkObject(_ object: JSONObject, _ value: JSONValue, _ schema: JSONSchemaProps, path: String, old: JSONValue?, errors: inout [FieldError], ruleErrors: inout [FieldError]) {
        let properties = schema.properties ?? [:]
        if schema.embeddedResource == true {
            // An embedded object is a resource of its own: it names its kind, and its
            // metadata is ObjectMeta (a name is optional here).
            for key in ["apiVersion", "kind"] where (object[key]?.stringValue ?? "").isEmpty {
                errors.append(FieldError(.required, FieldPath.child(path, key), "must not be empty"))
            }
            if case .object(var meta)? = object["metadata"] {
                if meta["name"] == nil { meta["name"] = "embedded" }
                errors += ObjectMetaValidation.validate(.object(meta), namespaced: true, path: FieldPath.child(path, "metadata"))
            }
        }
        for (key, child) in object {
            let childPath = FieldPath.child(path, key)
            if let p = properties[key] {
                validate(child, p, path: childPath, old: old?[key], errors: &errors, ruleErrors: &ruleErrors)
            } else if let additional = schema.additionalProperties {
                validate(child, additional, path: childPath, old: old?[key], errors: &errors, ruleErrors: &ruleErrors)
            } else if schema.preserveUnknownFields == true || schema.embeddedResource == true {
                continue
            } else if rejectUnknownFields {
                let known = properties.keys.sorted()
                let hint = Self.closest(key, in: known).map { " (did you mean \"\($0)\"?)" } ?? ""
                let list = known.isEmpty ? "this object takes no fields" : "known fields: \(known.joined(separator: ", "))"
                errors.append(FieldError(.unknownField, childPath, "field not declared in schema\(hint); \(list)"))
            }
        }
        for name in schema.required ?? [] where object[name] == nil || object[name] == .null {
            errors.append(FieldError(.required, FieldPath.child(path, name), ""))
        }
        if let max = schema.maxProperties, object.count > max {
            errors.append(FieldError(.tooMany, path, value: .int(Int64(object.count)), "must have at most \(max) items"))
        }
        if let min = schema.minProperties, object.count < min {
            errors.append(FieldError(.invalid, path, value: .int(Int64(object.count)), "\(Self.inBody(path)) should have at least \(min) properties"))
        }
    }

    /// The known name nearest to a misspelt one, when it is close enough to be a useful hint.
    static func closest(_ key: String, in candidates: [String]) -> String? {
        let lower = key.lowercased()
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(lower, c.lowercased())
            if d <= max(2, c.count / 4), d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars.prefix(64)), b = Array(b.unicodeScalars.prefix(64))
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var prev = row[0]
            row[0] = i
            for j in 1...b.count {
                let tmp = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = tmp
            }
        }
        return row[b.count]
    }
}
