/// A compiled CEL expression, evaluated against named variables: the public face of the
/// module. Parsing happens once; evaluation is pure (no clock, no I/O) and bounded by a
/// cost budget, as Kubernetes bounds each validation rule.
public struct Program: Sendable {
    public let source: String
    let root: Expr

    /// Kubernetes' per-expression runtime cost limit.
    public static let defaultCostLimit = 1_000_000

    public init(_ source: String) throws(CELError) {
        self.source = source
        var parser = try Parser(source)
        root = try parser.parse()
    }

    /// Evaluates with `variables` bound (`self`, `oldSelf`, ...); errors carry CEL's messages.
    public func evaluate(_ variables: [String: Value], costLimit: Int = Program.defaultCostLimit) throws(CELError) -> Value {
        var interpreter = Interpreter(variables: variables, costLimit: costLimit)
        return try interpreter.eval(root)
    }

    /// Whether the expression names `variable` anywhere (`oldSelf` marks a transition rule).
    public func references(_ variable: String) -> Bool { Self.mentions(variable, root) }

    static func mentions(_ name: String, _ e: Expr) -> Bool {
        switch e {
        case .literal: return false
        case .ident(let n): return n == name
        case .select(let b, _, _), .presence(let b, _), .unary(_, let b): return mentions(name, b)
        case .index(let a, let b, _), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): return mentions(name, a) || mentions(name, b)
        case .call(_, let target, let args): return (target.map { mentions(name, $0) } ?? false) || args.contains { mentions(name, $0) }
        case .list(let items, _): return items.contains { mentions(name, $0) }
        case .map(let entries): return entries.contains { mentions(name, $0.key) || mentions(name, $0.value) }
        case .conditional(let a, let b, let c): return mentions(name, a) || mentions(name, b) || mentions(name, c)
        case .bind(let v, let initial, let body), .optMap(let initial, let v, let body, _):
            return mentions(name, initial) || (v != name && mentions(name, body))
        case .comprehension(let c):
            // The loop variable shadows an outer name of the same spelling.
            if c.variable == name { return mentions(name, c.range) }
            return mentions(name, c.range) || (c.predicate.map { mentions(name, $0) } ?? false) || (c.transform.map { mentions(name, $0) } ?? false)
        }
    }
}

// MARK: Static cost

extension Program {
    /// The default bound Kubernetes assumes for a list, map or string without a declared
    /// maximum: as many elements as fit in a 3 MiB request at two bytes each.
    public static let unboundedSize = 3 * 1024 * 1024 / 2

    /// A worst-case cost before running, as Kubernetes estimates it when a CRD is written:
    /// each comprehension costs its range's largest size times its body. `maxSize` gives the
    /// declared bound of a value reached by a path of names from a variable (`["self",
    /// "spec", "rules", "@items"]`; `@items` for list elements and map values, `@keys` for map
    /// keys), or nil when none is declared.
    public func estimatedCost(maxSize: ([String]) -> Int?) -> Double {
        Self.cost(root, [:], maxSize)
    }

    static func path(_ e: Expr, _ loops: [String: [String]]) -> [String]? {
        switch e {
        case .ident(let n): return loops[n] ?? [n]
        case .select(let b, let f, _): return path(b, loops).map { $0 + [Interpreter.unescape(f)] }
        case .index(let b, _, _): return path(b, loops).map { $0 + ["@items"] }
        default: return nil
        }
    }

    static func cost(_ e: Expr, _ loops: [String: [String]], _ maxSize: ([String]) -> Int?) -> Double {
        func c(_ x: Expr) -> Double { cost(x, loops, maxSize) }
        switch e {
        case .literal, .ident: return 1
        case .select(let b, _, _), .presence(let b, _), .unary(_, let b): return 1 + c(b)
        case .index(let a, let b, _), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): return 1 + c(a) + c(b)
        case .call(let name, let target, let args):
            var total = 1 + (target.map(c) ?? 0) + args.map(c).reduce(0, +)
            // String scans cost their length.
            if ["matches", "contains", "startsWith", "endsWith", "find", "findAll", "split", "replace", "indexOf", "lastIndexOf"].contains(name),
                let t = target, let p = path(t, loops)
            {
                total += Double(maxSize(p) ?? unboundedSize) / 10
            }
            return total
        case .list(let items, _): return 1 + items.map(c).reduce(0, +)
        case .map(let entries): return 1 + entries.map { c($0.key) + c($0.value) }.reduce(0, +)
        case .conditional(let a, let b, let d): return 1 + c(a) + max(c(b), c(d))
        case .optMap(let target, _, let body, _): return 1 + c(target) + c(body)
        case .bind(let v, let initial, let body):
            var inner = loops
            inner[v] = path(initial, loops)
            return 1 + c(initial) + cost(body, inner, maxSize)
        case .comprehension(let comp):
            let rangePath = path(comp.range, loops)
            let n = Double(rangePath.flatMap(maxSize) ?? unboundedSize)
            var inner = loops
            if let rangePath { inner[comp.variable] = rangePath + ["@items"] } else { inner[comp.variable] = nil }
            let body = (comp.predicate.map { cost($0, inner, maxSize) } ?? 0) + (comp.transform.map { cost($0, inner, maxSize) } ?? 0) + 1
            return c(comp.range) + n * body
        }
    }
}

// MARK: Values from text

extension Value {
    /// An RFC 3339 timestamp, as a `date-time` string field becomes in Kubernetes.
    public static func timestamp(rfc3339 text: String) throws(CELError) -> Value { .timestamp(try Times.parseTimestamp(text)) }
    /// A Go-style duration string (`1h30m`), as a `duration` string field becomes.
    public static func duration(parsing text: String) throws(CELError) -> Value { .duration(try Times.parseDuration(text)) }
}
