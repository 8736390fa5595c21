/// The static types a checker knows of a variable before evaluation: enough to find the
/// mistakes Kubernetes refuses when a CRD is written (a field the schema does not declare, a
/// comparison of a string with a number, a rule that cannot give a bool). Anything the checker
/// cannot be sure of is `dyn`, and `dyn` is never an error: the checker reports only what
/// would fail for every value.
public indirect enum CELType: Sendable, Equatable, CustomStringConvertible {
    case int, uint, double, string, bytes, bool, null, timestamp, duration, dyn
    case list(CELType)
    case map(CELType)
    /// An object with declared fields; `open` when other fields may appear.
    case object([String: CELType], open: Bool)

    public var description: String {
        switch self {
        case .int: return "int"
        case .uint: return "uint"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .bool: return "bool"
        case .null: return "null_type"
        case .timestamp: return "google.protobuf.Timestamp"
        case .duration: return "google.protobuf.Duration"
        case .dyn: return "dyn"
        case .list(let e): return "list(\(e))"
        case .map(let v): return "map(string, \(v))"
        case .object: return "object"
        }
    }

    var isNumber: Bool { self == .int || self == .uint || self == .double }
    var isPrimitive: Bool { [.int, .uint, .double, .string, .bytes, .bool].contains(self) }
}

extension Program {
    /// Definite type errors of the expression with `variables` typed, each as a message.
    public func typeErrors(_ variables: [String: CELType]) -> [String] {
        var errors: [String] = []
        let result = Checker(variables: variables).type(root, &errors)
        if errors.isEmpty, result != .bool, result != .dyn {
            errors.append("rule must evaluate to a bool, not \(result)")
        }
        return errors
    }
}

struct Checker {
    var variables: [String: CELType]

    func type(_ e: Expr, _ errors: inout [String]) -> CELType {
        switch e {
        case .literal(let v):
            switch v {
            case .int: return .int
            case .uint: return .uint
            case .double: return .double
            case .string: return .string
            case .bytes: return .bytes
            case .bool: return .bool
            case .null: return .null
            default: return .dyn
            }
        case .ident(let name): return variables[name] ?? .dyn
        case .select(let base, let field, let optional):
            let b = type(base, &errors)
            if optional { return .dyn }
            return member(b, field, &errors)
        case .presence(let base, let field):
            let b = type(base, &errors)
            _ = member(b, field, &errors)
            return .bool
        case .index(let base, let i, _):
            let b = type(base, &errors)
            _ = type(i, &errors)
            switch b {
            case .list(let el): return el
            case .map(let v): return v
            default: return .dyn
            }
        case .call(let name, let target, let args):
            if let target { _ = type(target, &errors) }
            for a in args { _ = type(a, &errors) }
            switch name {
            case "size", "int", "indexOf", "lastIndexOf": return .int
            case "matches", "contains", "startsWith", "endsWith", "isURL", "isQuantity", "isIP", "isCIDR", "isSemver", "hasValue", "isSorted": return .bool
            case "string", "lowerAscii", "upperAscii", "trim", "replace", "substring", "charAt", "find", "format", "join": return .string
            case "timestamp": return .timestamp
            case "duration": return .duration
            default: return .dyn
            }
        case .list(let items, _):
            var el: CELType?
            for i in items {
                let t = type(i, &errors)
                el = el == nil || el == t ? t : .dyn
            }
            return .list(el ?? .dyn)
        case .map(let entries):
            for entry in entries {
                _ = type(entry.key, &errors)
                _ = type(entry.value, &errors)
            }
            return .dyn
        case .unary(let op, let operand):
            let t = type(operand, &errors)
            if op == "!" {
                if t.isPrimitive && t != .bool { errors.append("found no matching overload for '!_' applied to '(\(t))'") }
                return .bool
            }
            return t
        case .binary(let op, let l, let r):
            let a = type(l, &errors), b = type(r, &errors)
            switch op {
            case "==", "!=", "<", "<=", ">", ">=":
                // A string against a number or a bool can never compare; numbers may.
                let clash = a.isPrimitive && b.isPrimitive && a != b && !(a.isNumber && b.isNumber)
                if clash { errors.append("found no matching overload for '_\(op)_' applied to '(\(a), \(b))'") }
                return .bool
            case "in": return .bool
            default:
                if a == b, a.isPrimitive { return a }
                return .dyn
            }
        case .and(let l, let r), .or(let l, let r):
            for side in [l, r] {
                let t = type(side, &errors)
                if t.isPrimitive && t != .bool { errors.append("found no matching overload for '_\(e.isAnd ? "&&" : "||")_' applied to '(\(t), ...)'") }
            }
            return .bool
        case .conditional(let c, let a, let b):
            _ = type(c, &errors)
            let x = type(a, &errors), y = type(b, &errors)
            return x == y ? x : .dyn
        case .comprehension(let c):
            let range = type(c.range, &errors)
            var inner = self
            switch range {
            case .list(let el): inner.variables[c.variable] = el
            case .map, .object: inner.variables[c.variable] = .string
            default: inner.variables[c.variable] = .dyn
            }
            if let p = c.predicate { _ = inner.type(p, &errors) }
            let t = c.transform.map { inner.type($0, &errors) }
            switch c.kind {
            case .all, .exists, .existsOne: return .bool
            case .filter: return range
            case .map: return .list(t ?? .dyn)
            }
        case .optMap(let target, let name, let body, _):
            _ = type(target, &errors)
            var inner = self
            inner.variables[name] = .dyn
            _ = inner.type(body, &errors)
            return .dyn
        case .bind(let name, let initial, let body):
            var inner = self
            inner.variables[name] = type(initial, &errors)
            return inner.type(body, &errors)
        }
    }

    func member(_ base: CELType, _ field: String, _ errors: inout [String]) -> CELType {
        switch base {
        case .object(let fields, let open):
            if let t = fields[field] ?? fields[Interpreter.unescape(field)] { return t }
            if !open { errors.append("undefined field '\(field)'") }
            return .dyn
        case .map(let v): return v
        case .int, .uint, .double, .string, .bytes, .bool, .timestamp, .duration, .list:
            errors.append("type '\(base)' does not support field selection")
            return .dyn
        default: return .dyn
        }
    }
}

extension Expr {
    var isAnd: Bool {
        if case .and = self { return true }
        return false
    }
}
