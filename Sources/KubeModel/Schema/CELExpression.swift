/// A small interpreter for the subset of CEL used in `x-kubernetes-validations` rules:
/// `self` field selection, `has()`, `size()`, indexing, literals (int, double, string, bool,
/// null, lists), arithmetic, comparison, `in`, `!`, `&&`, `||` and `?:`.
/// Rules outside the subset fail to parse with a message rather than being skipped.
public struct CELExpression: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    indirect enum Node: Sendable {
        case literal(JSONValue)
        case list([Node])
        case identifier(String)
        case select(Node, String)
        case index(Node, Node)
        case has(Node)
        case call(String, [Node])
        case unary(String, Node)
        case binary(String, Node, Node)
        case conditional(Node, Node, Node)
    }

    let root: Node
    public let source: String

    public init(_ source: String) throws(Failure) {
        self.source = source
        var parser = CELParser(tokens: try CELLexer.tokens(source))
        root = try parser.parseExpression()
        guard parser.atEnd else { throw Failure(message: "unexpected '\(parser.peek)' in rule") }
    }

    /// The variables a rule sees: `self`, and `oldSelf` in a transition rule on update.
    struct Bindings {
        var current: JSONValue
        var old: JSONValue?
    }

    /// Evaluates the rule with `self` bound to `value` and, for a transition rule, `oldSelf`
    /// to the value it replaces.
    public func evaluate(self value: JSONValue, oldSelf: JSONValue? = nil) throws(Failure) -> JSONValue {
        try eval(root, Bindings(current: value, old: oldSelf))
    }

    /// Whether the rule compares with the previous value (a transition rule): Kubernetes
    /// evaluates those only on update, where an old value exists.
    public var isTransitionRule: Bool { Self.mentions("oldSelf", root) }

    static func mentions(_ name: String, _ node: Node) -> Bool {
        switch node {
        case .literal: return false
        case .identifier(let n): return n == name
        case .list(let items): return items.contains { mentions(name, $0) }
        case .select(let b, _), .has(let b), .unary(_, let b): return mentions(name, b)
        case .index(let a, let b), .binary(_, let a, let b): return mentions(name, a) || mentions(name, b)
        case .call(_, let args): return args.contains { mentions(name, $0) }
        case .conditional(let a, let b, let c): return mentions(name, a) || mentions(name, b) || mentions(name, c)
        }
    }

    private func eval(_ node: Node, _ selfValue: Bindings) throws(Failure) -> JSONValue {
        switch node {
        case .literal(let v): return v
        case .list(let items):
            var out: [JSONValue] = []
            for i in items { out.append(try eval(i, selfValue)) }
            return .array(out)
        case .identifier(let name):
            if name == "self" { return selfValue.current }
            if name == "oldSelf", let old = selfValue.old { return old }
            throw Failure(message: "undeclared reference to '\(name)'")
        case .select(let base, let field):
            let b = try eval(base, selfValue)
            guard case .object(let o) = b else { throw Failure(message: "cannot select '\(field)' from \(b.typeName)") }
            guard let v = o[field] else { throw Failure(message: "no such key: \(field)") }
            return v
        case .index(let base, let idx):
            let b = try eval(base, selfValue)
            let i = try eval(idx, selfValue)
            switch (b, i) {
            case (.array(let a), .int(let n)):
                guard n >= 0, n < a.count else { throw Failure(message: "index \(n) out of range") }
                return a[Int(n)]
            case (.object(let o), .string(let k)):
                guard let v = o[k] else { throw Failure(message: "no such key: \(k)") }
                return v
            default: throw Failure(message: "cannot index \(b.typeName) with \(i.typeName)")
            }
        case .has(let arg):
            guard case .select(let base, let field) = arg else { throw Failure(message: "has() needs a field selection") }
            let b = try eval(base, selfValue)
            guard case .object(let o) = b else { return .bool(false) }
            return .bool(o[field] != nil)
        case .call(let name, let args):
            guard name == "size", args.count == 1 else { throw Failure(message: "unsupported function '\(name)'") }
            switch try eval(args[0], selfValue) {
            case .string(let s): return .int(Int64(s.unicodeScalars.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            case let other: throw Failure(message: "size() of \(other.typeName)")
            }
        case .unary(let op, let operand):
            let v = try eval(operand, selfValue)
            switch (op, v) {
            case ("!", .bool(let b)): return .bool(!b)
            case ("-", .int(let i)): return .int(-i)
            case ("-", .double(let d)): return .double(-d)
            default: throw Failure(message: "operator \(op) not defined for \(v.typeName)")
            }
        case .conditional(let c, let a, let b):
            guard case .bool(let cond) = try eval(c, selfValue) else { throw Failure(message: "condition is not a boolean") }
            return try eval(cond ? a : b, selfValue)
        case .binary(let op, let lhs, let rhs):
            // && and || short-circuit, so `!has(self.x) || self.x > 0` is safe.
            if op == "&&" || op == "||" {
                guard case .bool(let l) = try eval(lhs, selfValue) else { throw Failure(message: "\(op) needs booleans") }
                if op == "&&" && !l { return .bool(false) }
                if op == "||" && l { return .bool(true) }
                guard case .bool(let r) = try eval(rhs, selfValue) else { throw Failure(message: "\(op) needs booleans") }
                return .bool(r)
            }
            return try binary(op, try eval(lhs, selfValue), try eval(rhs, selfValue))
        }
    }

    private func binary(_ op: String, _ l: JSONValue, _ r: JSONValue) throws(Failure) -> JSONValue {
        switch op {
        case "==": return .bool(l == r)  // JSONValue equality: 1 == 1.0, as in JSON
        case "!=": return .bool(l != r)
        case "in":
            guard case .array(let a) = r else { throw Failure(message: "'in' needs a list on the right") }
            return .bool(a.contains(l))
        case "<", "<=", ">", ">=":
            let order: Int
            if let x = l.numberValue, let y = r.numberValue {
                order = x < y ? -1 : (x > y ? 1 : 0)
            } else if case .string(let x) = l, case .string(let y) = r {
                order = x < y ? -1 : (x > y ? 1 : 0)
            } else {
                throw Failure(message: "cannot compare \(l.typeName) with \(r.typeName)")
            }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "+", "-", "*", "/", "%":
            if case .int(let x) = l, case .int(let y) = r {
                switch op {
                case "+": return .int(x &+ y)
                case "-": return .int(x &- y)
                case "*": return .int(x &* y)
                default:
                    guard y != 0 else { throw Failure(message: "division by zero") }
                    return .int(op == "/" ? x / y : x % y)
                }
            }
            if op == "+", case .string(let x) = l, case .string(let y) = r { return .string(x + y) }
            guard let x = l.numberValue, let y = r.numberValue, op != "%" else {
                throw Failure(message: "operator \(op) not defined for \(l.typeName) and \(r.typeName)")
            }
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            default: return .double(x / y)
            }
        default:
            throw Failure(message: "unsupported operator \(op)")
        }
    }
}

enum CELToken: Equatable, CustomStringConvertible {
    case ident(String)
    case int(Int64)
    case double(Double)
    case string(String)
    case symbol(String)
    case end

    var description: String {
        switch self {
        case .ident(let s), .symbol(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "'\(s)'"
        case .end: return "end of rule"
        }
    }
}

enum CELLexer {
    static func tokens(_ source: String) throws(CELExpression.Failure) -> [CELToken] {
        let chars = Array(source.unicodeScalars)
        var i = 0
        var out: [CELToken] = []
        let symbols2 = ["&&", "||", "==", "!=", "<=", ">="]
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\n" || c == "\t" || c == "\r" { i += 1; continue }
            if c.properties.isAlphabetic || c == "_" {
                var s = ""
                while i < chars.count, chars[i].properties.isAlphabetic || chars[i] == "_" || ("0"..."9").contains(chars[i]) {
                    s.unicodeScalars.append(chars[i])
                    i += 1
                }
                out.append(.ident(s))
                continue
            }
            if ("0"..."9").contains(c) {
                var s = ""
                while i < chars.count, ("0"..."9").contains(chars[i]) || chars[i] == "." || chars[i] == "e" {
                    s.unicodeScalars.append(chars[i])
                    i += 1
                }
                if let n = Int64(s) {
                    out.append(.int(n))
                } else if let d = Double(s) {
                    out.append(.double(d))
                } else {
                    throw CELExpression.Failure(message: "bad number '\(s)'")
                }
                continue
            }
            if c == "'" || c == "\"" {
                var s = ""
                i += 1
                while i < chars.count, chars[i] != c {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    s.unicodeScalars.append(chars[i])
                    i += 1
                }
                guard i < chars.count else { throw CELExpression.Failure(message: "unterminated string") }
                i += 1
                out.append(.string(s))
                continue
            }
            if i + 1 < chars.count {
                let pair = String(String.UnicodeScalarView([c, chars[i + 1]]))
                if symbols2.contains(pair) {
                    out.append(.symbol(pair))
                    i += 2
                    continue
                }
            }
            guard "()[].,!<>+-*/%?:".unicodeScalars.contains(c) else {
                throw CELExpression.Failure(message: "unexpected character '\(c)' in rule")
            }
            out.append(.symbol(String(c)))
            i += 1
        }
        out.append(.end)
        return out
    }
}

/// Recursive-descent parser following CEL's precedence: ?: < || < && < relations < +- < */% < unary.
struct CELParser {
    typealias Node = CELExpression.Node
    var tokens: [CELToken]
    var pos = 0

    var peek: CELToken { tokens[pos] }
    var atEnd: Bool { peek == .end }

    mutating func next() -> CELToken {
        defer { if pos < tokens.count - 1 { pos += 1 } }
        return tokens[pos]
    }

    mutating func expect(_ symbol: String) throws(CELExpression.Failure) {
        guard next() == .symbol(symbol) else { throw CELExpression.Failure(message: "expected '\(symbol)'") }
    }

    mutating func parseExpression() throws(CELExpression.Failure) -> Node {
        let cond = try parseBinary(level: 0)
        if peek == .symbol("?") {
            _ = next()
            let a = try parseExpression()
            try expect(":")
            let b = try parseExpression()
            return .conditional(cond, a, b)
        }
        return cond
    }

    static let levels: [[String]] = [["||"], ["&&"], ["==", "!=", "<", "<=", ">", ">=", "in"], ["+", "-"], ["*", "/", "%"]]

    mutating func parseBinary(level: Int) throws(CELExpression.Failure) -> Node {
        guard level < Self.levels.count else { return try parseUnary() }
        var lhs = try parseBinary(level: level + 1)
        while true {
            let op: String
            switch peek {
            case .symbol(let s) where Self.levels[level].contains(s): op = s
            case .ident("in") where Self.levels[level].contains("in"): op = "in"
            default: return lhs
            }
            _ = next()
            lhs = .binary(op, lhs, try parseBinary(level: level + 1))
        }
    }

    mutating func parseUnary() throws(CELExpression.Failure) -> Node {
        if peek == .symbol("!") || peek == .symbol("-") {
            guard case .symbol(let op) = next() else { fatalError("unreachable: peeked a symbol") }
            return .unary(op, try parseUnary())
        }
        return try parsePostfix()
    }

    mutating func parsePostfix() throws(CELExpression.Failure) -> Node {
        var node = try parsePrimary()
        while true {
            if peek == .symbol(".") {
                _ = next()
                guard case .ident(let field) = next() else { throw CELExpression.Failure(message: "expected a field name after '.'") }
                if peek == .symbol("(") {
                    // Receiver-style call: x.size()
                    _ = next()
                    try expect(")")
                    node = .call(field, [node])
                } else {
                    node = .select(node, field)
                }
            } else if peek == .symbol("[") {
                _ = next()
                let idx = try parseExpression()
                try expect("]")
                node = .index(node, idx)
            } else {
                return node
            }
        }
    }

    mutating func parsePrimary() throws(CELExpression.Failure) -> Node {
        switch next() {
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .string(let s): return .literal(.string(s))
        case .ident("true"): return .literal(.bool(true))
        case .ident("false"): return .literal(.bool(false))
        case .ident("null"): return .literal(.null)
        case .ident(let name):
            if peek == .symbol("(") {
                _ = next()
                var args: [Node] = []
                if peek != .symbol(")") {
                    args.append(try parseExpression())
                    while peek == .symbol(",") {
                        _ = next()
                        args.append(try parseExpression())
                    }
                }
                try expect(")")
                if name == "has" {
                    guard args.count == 1 else { throw CELExpression.Failure(message: "has() takes one argument") }
                    return .has(args[0])
                }
                return .call(name, args)
            }
            return .identifier(name)
        case .symbol("("):
            let e = try parseExpression()
            try expect(")")
            return e
        case .symbol("["):
            var items: [Node] = []
            if peek != .symbol("]") {
                items.append(try parseExpression())
                while peek == .symbol(",") {
                    _ = next()
                    items.append(try parseExpression())
                }
            }
            try expect("]")
            return .list(items)
        case let t:
            throw CELExpression.Failure(message: "unexpected \(t) in rule")
        }
    }
}
