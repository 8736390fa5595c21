/// A parsed CEL expression. Macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`)
/// are expanded by the parser, as CEL specifies.
indirect enum Expr: Sendable {
    case literal(Value)
    /// A name, possibly qualified (`a.b.c` when `a` is not a variable is resolved at run time).
    case ident(String)
    case select(Expr, String, optional: Bool)
    /// `has(e.f)`.
    case presence(Expr, String)
    case index(Expr, Expr, optional: Bool)
    /// A function call, global (`size(x)`) or on a receiver (`x.size()`).
    case call(String, target: Expr?, args: [Expr])
    case list([Expr], optional: [Bool])
    case map([(key: Expr, value: Expr, optional: Bool)])
    case unary(String, Expr)
    case binary(String, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case conditional(Expr, Expr, Expr)
    case comprehension(Comprehension)
    /// `cel.bind(name, init, body)`: `body` with `name` bound to `init`'s value.
    case bind(String, Expr, Expr)
    /// `opt.optMap(v, e)` / `opt.optFlatMap(v, e)`: `e` with `v` bound to the optional's value.
    case optMap(Expr, String, Expr, flat: Bool)
}

struct Comprehension: Sendable {
    enum Kind: Sendable { case all, exists, existsOne, map, filter }
    var kind: Kind
    var range: Expr
    var variable: String
    /// The predicate (all, exists, exists_one, filter, map's filter) or nil.
    var predicate: Expr?
    /// map's transform.
    var transform: Expr?
}

/// Recursive descent over CEL's grammar:
/// `Expr = Or ["?" Or ":" Expr]`, `Or = And {"||" And}`, `And = Relation {"&&" Relation}`,
/// `Relation = Addition {relop Addition}`, `Addition = Multiplication {("+"|"-") Multiplication}`,
/// `Multiplication = Unary {("*"|"/"|"%") Unary}`, `Unary = Member | "!"... Member | "-"... Member`,
/// `Member = Primary {"." ["?"] IDENT ["(" args ")"] | "[" ["?"] Expr "]"}`.
struct Parser {
    static let reserved: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
    ]
    /// Nesting beyond this is refused rather than risking the stack.
    static let maxDepth = 250

    var tokens: [Token]
    var pos = 0
    var depth = 0

    init(_ source: String) throws(CELError) {
        tokens = try Lexer.tokens(source)
    }

    var peek: Token.Kind { tokens[pos].kind }

    mutating func advance() -> Token.Kind {
        defer { if pos < tokens.count - 1 { pos += 1 } }
        return tokens[pos].kind
    }

    func isSymbol(_ s: String) -> Bool { peek == .symbol(s) }

    mutating func accept(_ s: String) -> Bool {
        if isSymbol(s) {
            pos += 1
            return true
        }
        return false
    }

    mutating func expect(_ s: String) throws(CELError) {
        guard accept(s) else { throw error("expected '\(s)'") }
    }

    func error(_ message: String) -> CELError {
        let found: String
        switch peek {
        case .end: found = "end of expression"
        case .identifier(let n): found = "'\(n)'"
        case .symbol(let s): found = "'\(s)'"
        case .int(let t, _): found = "'\(t)'"
        case .uint(let u): found = "'\(u)u'"
        case .double(let d): found = "'\(d)'"
        case .string: found = "a string"
        case .bytes: found = "bytes"
        }
        return CELError("Syntax error: \(message), found \(found) at offset \(tokens[pos].offset)")
    }

    mutating func parse() throws(CELError) -> Expr {
        let e = try expression()
        guard peek == .end else { throw error("unexpected input after the expression") }
        return e
    }

    mutating func expression() throws(CELError) -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw CELError("expression nested too deeply (more than \(Self.maxDepth) levels)") }
        let condition = try or()
        guard accept("?") else { return condition }
        let a = try or()
        try expect(":")
        let b = try expression()
        return .conditional(condition, a, b)
    }

    mutating func or() throws(CELError) -> Expr {
        var e = try and()
        while accept("||") { e = .or(e, try and()) }
        return e
    }

    mutating func and() throws(CELError) -> Expr {
        var e = try relation()
        while accept("&&") { e = .and(e, try relation()) }
        return e
    }

    mutating func relation() throws(CELError) -> Expr {
        var e = try addition()
        while true {
            if case .identifier("in") = peek {
                pos += 1
                e = .binary("in", e, try addition())
                continue
            }
            guard case .symbol(let s) = peek, ["<", "<=", ">", ">=", "==", "!="].contains(s) else { return e }
            pos += 1
            e = .binary(s, e, try addition())
        }
    }

    mutating func addition() throws(CELError) -> Expr {
        var e = try multiplication()
        while case .symbol(let s) = peek, s == "+" || s == "-" {
            pos += 1
            e = .binary(s, e, try multiplication())
        }
        return e
    }

    mutating func multiplication() throws(CELError) -> Expr {
        var e = try unary()
        while case .symbol(let s) = peek, s == "*" || s == "/" || s == "%" {
            pos += 1
            e = .binary(s, e, try unary())
        }
        return e
    }

    mutating func unary() throws(CELError) -> Expr {
        if accept("!") {
            var count = 1
            while accept("!") { count += 1 }
            let operand = try member()
            return count % 2 == 1 ? .unary("!", operand) : .unary("!", .unary("!", operand))
        }
        if isSymbol("-") {
            var count = 0
            while accept("-") { count += 1 }
            // A negated literal is the literal's value (so the most negative int parses).
            if count % 2 == 1, case .int(let digits, let hex) = peek {
                pos += 1
                guard let v = hex ? Int64("-" + digits, radix: 16) : Int64("-" + digits) else { throw CELError("Syntax error: int literal out of range: -\(digits)") }
                return try memberSuffix(.literal(.int(v)))
            }
            if count % 2 == 1, case .double(let d) = peek {
                pos += 1
                return try memberSuffix(.literal(.double(-d)))
            }
            var operand = try member()
            for _ in 0..<count { operand = .unary("-", operand) }
            return operand
        }
        return try member()
    }

    mutating func member() throws(CELError) -> Expr {
        try memberSuffix(try primary())
    }

    mutating func memberSuffix(_ base: Expr) throws(CELError) -> Expr {
        var e = base
        while true {
            if accept(".") {
                let optional = accept("?")
                guard case .identifier(let name) = advance() else { throw error("expected a field or method name after '.'") }
                if !optional && isSymbol("(") {
                    pos += 1
                    let args = try arguments(closing: ")")
                    e = try macroOrCall(name, target: e, args: args)
                } else {
                    e = .select(e, name, optional: optional)
                }
            } else if accept("[") {
                let optional = accept("?")
                let index = try expression()
                try expect("]")
                e = .index(e, index, optional: optional)
            } else {
                return e
            }
        }
    }

    mutating func arguments(closing: String) throws(CELError) -> [Expr] {
        var args: [Expr] = []
        if accept(closing) { return args }
        repeat {
            args.append(try expression())
        } while accept(",")
        try expect(closing)
        return args
    }

    mutating func primary() throws(CELError) -> Expr {
        let kind = advance()
        switch kind {
        case .int(let digits, let hex):
            guard let v = hex ? Int64(digits, radix: 16) : Int64(digits) else { throw CELError("Syntax error: int literal out of range: \(digits)") }
            return .literal(.int(v))
        case .uint(let u): return .literal(.uint(u))
        case .double(let d): return .literal(.double(d))
        case .string(let s): return .literal(.string(s))
        case .bytes(let b): return .literal(.bytes(b))
        case .identifier(let name):
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            case "in": throw CELError("Syntax error: 'in' is an operator, not a name")
            default: break
            }
            guard !Self.reserved.contains(name) else { throw CELError("Syntax error: reserved identifier: \(name)") }
            if accept("(") {
                let args = try arguments(closing: ")")
                return try macroOrCall(name, target: nil, args: args)
            }
            if isSymbol("{") { throw CELError("message construction (\(name){...}) is not supported: only JSON-shaped values exist here") }
            return .ident(name)
        case .symbol("."):
            // A leading dot names the root namespace: `.name`.
            guard case .identifier(let name) = advance() else { throw error("expected a name after '.'") }
            if accept("(") { return try macroOrCall(name, target: nil, args: try arguments(closing: ")")) }
            return .ident(name)
        case .symbol("("):
            let e = try expression()
            try expect(")")
            return e
        case .symbol("["):
            var items: [Expr] = []
            var optional: [Bool] = []
            if !accept("]") {
                repeat {
                    if isSymbol("]") { break }  // trailing comma
                    optional.append(accept("?"))
                    items.append(try expression())
                } while accept(",")
                try expect("]")
            }
            return .list(items, optional: optional)
        case .symbol("{"):
            var entries: [(key: Expr, value: Expr, optional: Bool)] = []
            if !accept("}") {
                repeat {
                    if isSymbol("}") { break }
                    let optional = accept("?")
                    let k = try expression()
                    try expect(":")
                    entries.append((k, try expression(), optional))
                } while accept(",")
                try expect("}")
            }
            return .map(entries)
        default:
            pos -= 1
            throw error("expected an expression")
        }
    }

    /// Expands the macros; everything else is a call.
    mutating func macroOrCall(_ name: String, target: Expr?, args: [Expr]) throws(CELError) -> Expr {
        if target == nil && name == "has" {
            guard args.count == 1, case .select(let base, let field, false) = args[0] else {
                throw CELError("invalid argument to has() macro: it takes one field selection, such as has(self.spec.x)")
            }
            return .presence(base, field)
        }
        guard let target else { return .call(name, target: nil, args: args) }
        if case .ident("cel") = target, name == "bind" {
            guard args.count == 3, case .ident(let variable) = args[0] else {
                throw CELError("cel.bind() takes a variable name, its value and an expression")
            }
            return .bind(variable, args[1], args[2])
        }
        if name == "optMap" || name == "optFlatMap" {
            guard args.count == 2, case .ident(let variable) = args[0] else { throw CELError("\(name)() takes a variable name and an expression") }
            return .optMap(target, variable, args[1], flat: name == "optFlatMap")
        }
        let kinds: [String: Comprehension.Kind] = ["all": .all, "exists": .exists, "exists_one": .existsOne, "existsOne": .existsOne, "map": .map, "filter": .filter]
        guard let kind = kinds[name], args.count >= 2 else { return .call(name, target: target, args: args) }
        guard case .ident(let variable) = args[0] else { throw CELError("argument is not an identifier: the first argument of \(name)() names the loop variable") }
        switch (kind, args.count) {
        case (.map, 2): return .comprehension(Comprehension(kind: .map, range: target, variable: variable, predicate: nil, transform: args[1]))
        case (.map, 3): return .comprehension(Comprehension(kind: .map, range: target, variable: variable, predicate: args[1], transform: args[2]))
        case (_, 2) where kind != .map: return .comprehension(Comprehension(kind: kind, range: target, variable: variable, predicate: args[1], transform: nil))
        default: throw CELError("\(name)() takes \(kind == .map ? "2 or 3" : "2") arguments, not \(args.count)")
        }
    }
}
