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
        case .comprehension(let c):
            // The loop variable shadows an outer name of the same spelling.
            if c.variable == name { return mentions(name, c.range) }
            return mentions(name, c.range) || (c.predicate.map { mentions(name, $0) } ?? false) || (c.transform.map { mentions(name, $0) } ?? false)
        }
    }
}
