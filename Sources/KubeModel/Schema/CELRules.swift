import CEL
import Foundation
import Synchronization

/// `x-kubernetes-validations` on top of the CEL module: JSON values as CEL sees them (shaped
/// by the schema: `date-time` strings are timestamps, `duration` strings durations, `byte`
/// strings bytes), compiled rules cached by source, each failure as the field error
/// Kubernetes gives (message, `messageExpression`, `reason`, `fieldPath`), and the checks a
/// CRD's rules get when it is written (they must compile, and their estimated cost must fit
/// Kubernetes' budget).
public enum CELRules {
    /// Kubernetes' static cost limit for one rule.
    public static let perRuleCostLimit = 10_000_000.0
    /// And for all the rules of a CRD together.
    public static let perCRDCostLimit = 100_000_000.0

    private static let cache = Mutex<[String: Result<Program, CELError>]>([:])

    static func program(_ source: String) -> Result<Program, CELError> {
        if let p = cache.withLock({ $0[source] }) { return p }
        let compiled: Result<Program, CELError>
        do {
            compiled = .success(try Program(source))
        } catch {
            compiled = .failure(error)
        }
        cache.withLock { c in
            if c.count > 4096 { c.removeAll() }
            c[source] = compiled
        }
        return compiled
    }

    /// A JSON value as CEL values it, with the schema's formats.
    public static func value(_ json: JSONValue, _ schema: JSONSchemaProps?) -> Value {
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s):
            switch stringType(schema) {
            case .timestamp:
                if let t = try? Value.timestamp(rfc3339: schema?.format == "date" ? s + "T00:00:00Z" : s) { return t }
            case .duration:
                if let d = try? Value.duration(parsing: s) { return d }
            case .bytes:
                if let d = Data(base64Encoded: s) { return .bytes(Array(d)) }
            default: break
            }
            return .string(s)
        case .array(let items): return .list(items.map { value($0, schema?.items) })
        case .object(let o):
            let pairs = o.map { k, v in (Value.string(k), value(v, schema?.properties?[k] ?? schema?.additionalProperties)) }
            return .map((try? MapValue(pairs)) ?? MapValue())
        }
    }

    /// The field error a failed rule reports, or nil when it holds (or does not apply).
    /// The CEL views of a node's value and old value, made once for all its rules.
    struct Bindings {
        var current: Value
        var old: Value?

        init(_ value: JSONValue, old: JSONValue?, schema: JSONSchemaProps) {
            current = CELRules.value(value, schema)
            self.old = old.map { CELRules.value($0, schema) }
        }
    }

    static func check(_ rule: ValidationRule, _ value: JSONValue, bindings: Bindings, schema: JSONSchemaProps, path: String) -> FieldError? {
        let target = rule.fieldPath.map { fp in path.isEmpty && fp.hasPrefix(".") ? String(fp.dropFirst()) : path + fp } ?? path
        let program: Program
        switch self.program(rule.rule) {
        case .success(let p): program = p
        case .failure(let e): return FieldError(.invalid, target, value: value, "rule \"\(rule.rule)\" could not be compiled: \(e)")
        }
        let transition = program.references("oldSelf")
        var variables: [String: Value] = ["self": bindings.current]
        if rule.optionalOldSelf == true {
            variables["oldSelf"] = .optional(bindings.old)
        } else if transition {
            // Nothing to compare with on create, or where the old object has no value here.
            guard let old = bindings.old else { return nil }
            variables["oldSelf"] = old
        }
        // kube-apiserver shows the schema type, not the value, for a failed rule.
        let shown = JSONValue.string(schema.type ?? "object")
        let result: Value
        do {
            result = try program.evaluate(variables)
        } catch {
            // kube-apiserver's wording: the error, then the rule's message (or the rule).
            let subject = (rule.message?.isEmpty == false ? rule.message! : rule.rule).trimmingCharacters(in: .whitespaces)
            return FieldError(.invalid, target, value: shown, "\(error) evaluating rule: \(subject)")
        }
        guard case .bool(let ok) = result else {
            return FieldError(.invalid, target, value: shown, "rule \"\(rule.rule)\" did not evaluate to a bool (got \(result.typeName))")
        }
        if ok { return nil }
        var message = rule.message ?? "failed rule: \(rule.rule)"
        if let expression = rule.messageExpression, case .success(let p) = self.program(expression),
            case .string(let s)? = try? p.evaluate(variables), !s.isEmpty, !s.contains("\n")
        {
            message = s
        }
        switch rule.reason {
        case "FieldValueForbidden"?: return FieldError(.forbidden, target, message)
        case "FieldValueRequired"?: return FieldError(.required, target, message)
        case "FieldValueDuplicate"?: return FieldError(.duplicate, target, value: shown, message)
        default: return FieldError(.invalid, target, value: shown, message)
        }
    }

    /// Every rule in the schema that does not compile, or whose estimated cost is over
    /// Kubernetes' limits, as field errors at `path` (the schema's place in the CRD).
    public static func problems(in schema: JSONSchemaProps, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        var total = 0.0
        walk(schema, path: path, root: schema, trail: ["self"], errors: &errors, total: &total)
        if total > perCRDCostLimit {
            errors.append(
                FieldError(
                    .forbidden, path,
                    "total CRD cost exceeds budget by factor of \(String(format: "%.1f", total / perCRDCostLimit))x (try simplifying the rule(s), or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are used)"
                ))
        }
        return errors
    }

    private static func walk(_ s: JSONSchemaProps, path: String, root: JSONSchemaProps, trail: [String], errors: inout [FieldError], total: inout Double) {
        for (i, rule) in (s.validations ?? []).enumerated() {
            let at = "\(path).x-kubernetes-validations[\(i)]"
            switch program(rule.rule) {
            case .failure(let e):
                errors.append(FieldError(.invalid, at + ".rule", value: .string(rule.rule), "compilation failed: \(e)"))
            case .success(let p):
                var selfType = celType(s)
                if trail == ["self"], case .object(var fields, let open) = selfType {
                    // At the root a rule also sees apiVersion, kind and metadata.
                    for key in ["apiVersion", "kind", "metadata"] where fields[key] == nil { fields[key] = .dyn }
                    selfType = .object(fields, open: open)
                }
                let typeProblems = p.typeErrors(["self": selfType, "oldSelf": rule.optionalOldSelf == true ? .dyn : selfType])
                if let first = typeProblems.first {
                    errors.append(FieldError(.invalid, at + ".rule", value: .string(rule.rule), "compilation failed: \(first)"))
                    continue
                }
                let cost = p.estimatedCost { names in bound(s, Array(names.dropFirst())) }
                total += cost
                if cost > perRuleCostLimit {
                    errors.append(
                        FieldError(
                            .forbidden, at + ".rule",
                            "estimated rule cost exceeds budget by factor of \(String(format: "%.1f", cost / perRuleCostLimit))x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
                        ))
                }
            }
            if let fp = rule.fieldPath, let problem = fieldPathProblem(fp, in: s) {
                errors.append(FieldError(.invalid, at + ".fieldPath", value: .string(fp), problem))
            }
            if let m = rule.messageExpression, case .failure(let e) = program(m) {
                errors.append(FieldError(.invalid, at + ".messageExpression", value: .string(m), "messageExpression compilation failed: \(e)"))
            }
        }
        for (k, v) in (s.properties ?? [:]).sorted(by: { $0.key < $1.key }) {
            walk(v, path: "\(path).properties[\(k)]", root: root, trail: trail + [k], errors: &errors, total: &total)
        }
        if let items = s.items { walk(items, path: path + ".items", root: root, trail: trail + ["@items"], errors: &errors, total: &total) }
        if let a = s.additionalProperties { walk(a, path: path + ".additionalProperties", root: root, trail: trail + ["@items"], errors: &errors, total: &total) }
    }

    /// Why a rule's `fieldPath` does not name a field of `schema` (`.spec.x`, `.map['key']`),
    /// or nil when it does.
    static func fieldPathProblem(_ path: String, in schema: JSONSchemaProps) -> String? {
        var names: [String] = []
        var rest = Substring(path)
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return "fieldPath must be a valid path: an empty field name" }
                names.append(String(name))
                rest = rest.dropFirst(name.count)
            } else if rest.hasPrefix("['"), let end = rest.range(of: "']") {
                names.append(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound]))
                rest = rest[end.upperBound...]
            } else {
                return "fieldPath must be a valid path such as .spec.field or .map['key']"
            }
        }
        var node: JSONSchemaProps? = schema
        for name in names {
            guard let n = node else { return nil }
            if n.preserveUnknownFields == true || n.intOrString == true { return nil }
            if let p = n.properties?[name] {
                node = p
            } else if let ap = n.additionalProperties {
                node = ap
            } else {
                return "fieldPath must be a valid path: field \(name) does not exist in the schema"
            }
        }
        return nil
    }

    /// What CEL makes of a string field, by its format: Kubernetes gives `date-time` and `date`
    /// strings as timestamps, `duration` as durations and `byte` as bytes.
    static func stringType(_ schema: JSONSchemaProps?) -> CELType {
        guard schema?.intOrString != true else { return .string }
        switch schema?.format {
        case "date-time"?, "datetime"?, "date"?: return .timestamp
        case "duration"?: return .duration
        case "byte"?: return .bytes
        default: return .string
        }
    }

    /// The static type of values of a schema, for the checker: declared fields only where the
    /// schema is closed; anything uncertain (int-or-string, preserved unknown fields) is dyn.
    static func celType(_ s: JSONSchemaProps?, depth: Int = 0) -> CELType {
        guard let s, depth < 32, s.intOrString != true else { return .dyn }
        switch s.type {
        case "integer": return .int
        case "number": return .double
        case "boolean": return .bool
        case "string": return stringType(s)
        case "array": return .list(celType(s.items, depth: depth + 1))
        case "object":
            if let ap = s.additionalProperties, s.properties == nil { return .map(celType(ap, depth: depth + 1)) }
            guard let props = s.properties else { return .dyn }
            let open = s.preserveUnknownFields == true || s.embeddedResource == true || s.additionalProperties != nil
            var fields: [String: CELType] = [:]
            for (k, v) in props { fields[k] = celType(v, depth: depth + 1) }
            return .object(fields, open: open)
        default: return .dyn
        }
    }

    /// The declared maximum size of the value at `names` below `schema`, if any.
    static func bound(_ schema: JSONSchemaProps, _ names: [String]) -> Int? {
        var s: JSONSchemaProps? = schema
        for n in names {
            guard let current = s else { return nil }
            switch n {
            case "@items": s = current.items ?? current.additionalProperties
            case "@keys": return nil
            default: s = current.properties?[n] ?? current.additionalProperties
            }
        }
        guard let s else { return nil }
        return s.maxItems ?? s.maxProperties ?? s.maxLength
    }
}
