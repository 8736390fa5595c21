/// Evaluates an expression tree. Errors propagate as Swift errors except where CEL makes
/// them values: `&&` and `||` absorb an error when the other side decides the result
/// (`false && error` is false, whichever side errs), and `?:` evaluates only the branch taken.
struct Interpreter {
    var variables: [String: Value]
    let costLimit: Int
    var cost = 0

    init(variables: [String: Value], costLimit: Int) {
        self.variables = variables
        self.costLimit = costLimit
    }

    mutating func charge(_ n: Int = 1) throws(CELError) {
        cost += n
        if cost > costLimit { throw CELError("operation cancelled: actual cost limit exceeded") }
    }

    mutating func eval(_ e: Expr) throws(CELError) -> Value {
        try charge()
        switch e {
        case .literal(let v): return v
        case .ident(let name):
            if let v = variables[name] { return v }
            if let t = Self.typeNames[name] { return .type(t) }
            throw CELError("undeclared reference to '\(name)' (in container '')")
        case .select(let base, let field, let optional):
            let b = try eval(base)
            return try select(b, field, optional: optional)
        case .presence(let base, let field):
            switch try eval(base) {
            case .map(let m): return .bool(Self.field(field, in: m) != nil)
            case .optional(let o):
                guard case .map(let m)? = o else { return .bool(false) }
                return .bool(Self.field(field, in: m) != nil)
            case let other: throw CELError("invalid type for field selection: has() on \(other.typeName)")
            }
        case .index(let base, let index, let optional):
            let b = try eval(base)
            let i = try eval(index)
            return try self.index(b, i, optional: optional)
        case .call(let name, let target, let args):
            if name == "none", isOptionalNamespace(target) { return .optional(nil) }
            if let target, isOptionalNamespace(target) {
                let values = try args.map { a throws(CELError) in try eval(a) }
                return try Library.call("optional." + name, target: nil, args: values)
            }
            // `or` and `orValue` on optionals evaluate their argument only when needed.
            if let target, name == "or" || name == "orValue", args.count == 1 {
                let t = try eval(target)
                guard case .optional(let o) = t else { return try Library.call(name, target: t, args: [try eval(args[0])]) }
                if let o { return name == "or" ? .optional(o) : o }
                return try eval(args[0])
            }
            let t: Value? = try target.map { x throws(CELError) in try eval(x) }
            let values = try args.map { a throws(CELError) in try eval(a) }
            return try Library.call(name, target: t, args: values)
        case .list(let items, let optional):
            var out: [Value] = []
            for (i, item) in items.enumerated() {
                let v = try eval(item)
                if i < optional.count && optional[i] {
                    guard case .optional(let o) = v else { throw CELError("optional list element is not an optional: \(v.typeName)") }
                    if let o { out.append(o) }
                } else {
                    out.append(v)
                }
            }
            return .list(out)
        case .map(let entries):
            var pairs: [(Value, Value)] = []
            for entry in entries {
                let k = try eval(entry.key)
                let v = try eval(entry.value)
                if entry.optional {
                    guard case .optional(let o) = v else { throw CELError("optional map entry is not an optional: \(v.typeName)") }
                    if let o { pairs.append((k, o)) }
                } else {
                    pairs.append((k, v))
                }
            }
            return .map(try MapValue(pairs))
        case .unary(let op, let operand):
            let v = try eval(operand)
            return try Library.unary(op, v)
        case .binary(let op, let l, let r):
            return try Library.binary(op, try eval(l), try eval(r))
        case .and(let l, let r):
            return try logical(l, r, decisive: false)
        case .or(let l, let r):
            return try logical(l, r, decisive: true)
        case .conditional(let c, let a, let b):
            guard case .bool(let cond) = try eval(c) else { throw CELError("no matching overload for '_?_:_': the condition is not a bool") }
            return try eval(cond ? a : b)
        case .comprehension(let c):
            return try comprehension(c)
        case .optMap(let target, let name, let body, let flat):
            guard case .optional(let o) = try eval(target) else { throw CELError("\(flat ? "optFlatMap" : "optMap") needs an optional") }
            guard let inner = o else { return .optional(nil) }
            let saved = variables[name]
            variables[name] = inner
            defer { variables[name] = saved }
            let result = try eval(body)
            if flat {
                guard case .optional = result else { throw CELError("optFlatMap's expression must give an optional, not \(result.typeName)") }
                return result
            }
            return .optional(result)
        case .bind(let name, let initial, let body):
            let value = try eval(initial)
            let saved = variables[name]
            variables[name] = value
            defer { variables[name] = saved }
            return try eval(body)
        }
    }

    func isOptionalNamespace(_ e: Expr?) -> Bool {
        if case .ident("optional")? = e { return variables["optional"] == nil }
        return false
    }

    /// `&&` (decisive false) and `||` (decisive true), commutative over errors.
    mutating func logical(_ l: Expr, _ r: Expr, decisive: Bool) throws(CELError) -> Value {
        var leftError: CELError?
        do throws(CELError) {
            let v = try eval(l)
            guard case .bool(let b) = v else { throw CELError("no matching overload for '\(decisive ? "_||_" : "_&&_")' applied to '(\(v.typeName), ...)'") }
            if b == decisive { return .bool(decisive) }
        } catch {
            if error.message.hasPrefix("operation cancelled") { throw error }
            leftError = error
        }
        let v: Value
        do throws(CELError) {
            v = try eval(r)
        } catch {
            // Both sides failed: the left one's error is the one reported, as in cel-go.
            if error.message.hasPrefix("operation cancelled") { throw error }
            throw leftError ?? error
        }
        guard case .bool(let b) = v else { throw leftError ?? CELError("no matching overload for '\(decisive ? "_||_" : "_&&_")' applied to '(bool, \(v.typeName))'") }
        if b == decisive { return .bool(decisive) }
        if let leftError { throw leftError }
        return .bool(!decisive)
    }

    mutating func comprehension(_ c: Comprehension) throws(CELError) -> Value {
        let range = try eval(c.range)
        let items: [Value]
        switch range {
        case .list(let l): items = l
        case .map(let m): items = m.keys
        default: throw CELError("expression of type '\(range.typeName)' cannot be range of a comprehension (must be list, map, or dynamic)")
        }
        let saved = variables[c.variable]
        defer { variables[c.variable] = saved }
        var results: [Value] = []
        var count = 0
        var firstError: CELError?
        for item in items {
            try charge()
            variables[c.variable] = item
            switch c.kind {
            case .all, .exists:
                // Errors are absorbed when another element decides, as with && and ||.
                do throws(CELError) {
                    guard case .bool(let b) = try eval(c.predicate!) else { throw CELError("no matching overload: the predicate is not a bool") }
                    if c.kind == .all && !b { return .bool(false) }
                    if c.kind == .exists && b { return .bool(true) }
                } catch {
                    if error.message.hasPrefix("operation cancelled") { throw error }
                    if firstError == nil { firstError = error }
                }
            case .existsOne:
                guard case .bool(let b) = try eval(c.predicate!) else { throw CELError("no matching overload: the predicate is not a bool") }
                if b { count += 1 }
            case .filter:
                guard case .bool(let b) = try eval(c.predicate!) else { throw CELError("no matching overload: the predicate is not a bool") }
                if b { results.append(item) }
            case .map:
                if let p = c.predicate {
                    guard case .bool(let b) = try eval(p) else { throw CELError("no matching overload: the filter is not a bool") }
                    if !b { continue }
                }
                results.append(try eval(c.transform!))
            }
        }
        switch c.kind {
        case .all:
            if let firstError { throw firstError }
            return .bool(true)
        case .exists:
            if let firstError { throw firstError }
            return .bool(false)
        case .existsOne: return .bool(count == 1)
        case .filter, .map: return .list(results)
        }
    }

    func select(_ b: Value, _ field: String, optional: Bool) throws(CELError) -> Value {
        switch b {
        case .map(let m):
            if let v = Self.field(field, in: m) { return optional ? .optional(v) : v }
            if optional { return .optional(nil) }
            throw CELError("no such key: \(field)")
        case .optional(let o):
            guard let inner = o else { return .optional(nil) }
            let v = try select(inner, field, optional: true)
            return v
        case .opaque(let o):
            throw CELError("type '\(o.typeName)' does not support field selection")
        default:
            throw CELError("type '\(b.typeName)' does not support field selection")
        }
    }

    func index(_ b: Value, _ i: Value, optional: Bool) throws(CELError) -> Value {
        if case .optional(let o) = b {
            guard let inner = o else { return .optional(nil) }
            return try index(inner, i, optional: true)
        }
        switch (b, i) {
        case (.list(let l), _):
            let n: Int64
            switch i {
            case .int(let x): n = x
            case .uint(let x): n = Int64(clamping: x)
            case .double(let d) where d.rounded() == d && abs(d) < 9e18: n = Int64(d)
            default: throw CELError("no such overload: list index of type \(i.typeName)")
            }
            guard n >= 0, n < l.count else {
                if optional { return .optional(nil) }
                throw CELError("index out of bounds: \(n)")
            }
            return optional ? .optional(l[Int(n)]) : l[Int(n)]
        case (.map(let m), _):
            guard MapValue.validKey(i) || i.isNumber else { throw CELError("unsupported key type: \(i.typeName)") }
            if let v = m[i] { return optional ? .optional(v) : v }
            if optional { return .optional(nil) }
            throw CELError("no such key: \(Library.display(i))")
        default:
            throw CELError("no matching overload for '_[_]' applied to '(\(b.typeName), \(i.typeName))'")
        }
    }

    static let typeNames: [String: String] = [
        "int": "int", "uint": "uint", "double": "double", "bool": "bool", "string": "string", "bytes": "bytes", "list": "list", "map": "map",
        "null_type": "null_type", "type": "type", "google.protobuf.Timestamp": "google.protobuf.Timestamp", "google.protobuf.Duration": "google.protobuf.Duration",
        "optional_type": "optional_type",
    ]

    /// A map's entry for a selected field name, as written or unescaped.
    static func field(_ name: String, in m: MapValue) -> Value? {
        m[.string(name)] ?? m[.string(unescape(name))]
    }

    /// Kubernetes escapes property names that are not CEL identifiers: `__dash__` for `-`,
    /// `__dot__`, `__slash__`, `__underscores__` for `__`, and `__KEYWORD__` for reserved words.
    static func unescape(_ name: String) -> String {
        guard name.contains("__") else { return name }
        if name.hasPrefix("__"), name.hasSuffix("__"), name.count > 4 {
            let inner = String(name.dropFirst(2).dropLast(2))
            if Parser.reserved.contains(inner) || ["true", "false", "null", "in"].contains(inner) { return inner }
        }
        var out = ""
        var rest = Substring(name)
        while !rest.isEmpty {
            var matched = false
            for (escaped, plain) in [("__underscores__", "__"), ("__dot__", "."), ("__dash__", "-"), ("__slash__", "/")] where rest.hasPrefix(escaped) {
                out += plain
                rest = rest.dropFirst(escaped.count)
                matched = true
                break
            }
            if !matched {
                out.append(rest.first!)
                rest = rest.dropFirst()
            }
        }
        return out
    }
}

extension Value {
    var isNumber: Bool {
        switch self {
        case .int, .uint, .double: return true
        default: return false
        }
    }
}
