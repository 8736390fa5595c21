import Foundation

/// CEL's operators and standard functions (arithmetic with overflow errors, comparisons
/// across numeric types, `in`, `size`, string predicates, `matches`, type conversions,
/// timestamps and durations), then the Kubernetes libraries by name (`Library+Kubernetes`).
enum Library {
    static func noOverload(_ name: String, _ args: [Value]) -> CELError {
        CELError("no matching overload for '\(name)' applied to '(\(args.map(\.typeName).joined(separator: ", ")))'")
    }

    // MARK: Operators

    static func unary(_ op: String, _ v: Value) throws(CELError) -> Value {
        switch (op, v) {
        case ("!", .bool(let b)): return .bool(!b)
        case ("-", .int(let i)):
            guard i != .min else { throw CELError("return error for overflow") }
            return .int(-i)
        case ("-", .double(let d)): return .double(-d)
        case ("-", .duration(let d)): return .duration(Duration(seconds: -d.seconds, nanos: -d.nanos))
        default: throw noOverload(op == "!" ? "!_" : "-_", [v])
        }
    }

    static func binary(_ op: String, _ l: Value, _ r: Value) throws(CELError) -> Value {
        switch op {
        case "==": return .bool(Value.equal(l, r) ?? false)
        case "!=": return .bool(!(Value.equal(l, r) ?? false))
        case "in":
            switch r {
            case .list(let items): return .bool(items.contains { Value.equal($0, l) == true })
            case .map(let m): return .bool(m[l] != nil)
            default: throw noOverload("@in", [l, r])
            }
        case "<", "<=", ">", ">=":
            guard let c = try compare(l, r, op) else { return .bool(false) }  // NaN: every ordering is false
            switch op {
            case "<": return .bool(c < 0)
            case "<=": return .bool(c <= 0)
            case ">": return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        case "+", "-", "*", "/", "%": return try arithmetic(op, l, r)
        default: throw CELError("unsupported operator \(op)")
        }
    }

    /// -1, 0, 1, or nil for NaN; throws for values without an order.
    static func compare(_ l: Value, _ r: Value, _ op: String) throws(CELError) -> Int? {
        if l.isNumber && r.isNumber { return Value.compareNumbers(l, r) }
        func order<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
        switch (l, r) {
        case (.string(let a), .string(let b)):
            // Code point order, as CEL specifies (not Swift's canonical-equivalence order).
            if a.unicodeScalars.elementsEqual(b.unicodeScalars) { return 0 }
            return a.unicodeScalars.map(\.value).lexicographicallyPrecedes(b.unicodeScalars.map(\.value)) ? -1 : 1
        case (.bytes(let a), .bytes(let b)): return a == b ? 0 : (a.lexicographicallyPrecedes(b) ? -1 : 1)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (!a ? -1 : 1)
        case (.timestamp(let a), .timestamp(let b)): return order(a, b)
        case (.duration(let a), .duration(let b)): return order(a, b)
        case (.opaque(let a as ComparableOpaque), .opaque(let b)): return try a.compare(to: b)
        default: throw noOverload("_\(op)_", [l, r])
        }
    }

    static func arithmetic(_ op: String, _ l: Value, _ r: Value) throws(CELError) -> Value {
        let overflow = CELError("return error for overflow")
        switch (l, r) {
        case (.int(let a), .int(let b)):
            switch op {
            case "+": let (v, o) = a.addingReportingOverflow(b); if o { throw overflow }; return .int(v)
            case "-": let (v, o) = a.subtractingReportingOverflow(b); if o { throw overflow }; return .int(v)
            case "*": let (v, o) = a.multipliedReportingOverflow(by: b); if o { throw overflow }; return .int(v)
            case "/":
                guard b != 0 else { throw CELError("division by zero") }
                let (v, o) = a.dividedReportingOverflow(by: b); if o { throw overflow }; return .int(v)
            default:
                guard b != 0 else { throw CELError("modulus by zero") }
                let (v, o) = a.remainderReportingOverflow(dividingBy: b); if o { throw overflow }; return .int(v)
            }
        case (.uint(let a), .uint(let b)):
            switch op {
            case "+": let (v, o) = a.addingReportingOverflow(b); if o { throw overflow }; return .uint(v)
            case "-": let (v, o) = a.subtractingReportingOverflow(b); if o { throw overflow }; return .uint(v)
            case "*": let (v, o) = a.multipliedReportingOverflow(by: b); if o { throw overflow }; return .uint(v)
            case "/":
                guard b != 0 else { throw CELError("division by zero") }
                return .uint(a / b)
            default:
                guard b != 0 else { throw CELError("modulus by zero") }
                return .uint(a % b)
            }
        case (.double(let a), .double(let b)):
            switch op {
            case "+": return .double(a + b)
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            case "/": return .double(a / b)
            default: throw noOverload("_%_", [l, r])
            }
        case (.string(let a), .string(let b)) where op == "+": return .string(a + b)
        case (.bytes(let a), .bytes(let b)) where op == "+": return .bytes(a + b)
        case (.list(let a), .list(let b)) where op == "+": return .list(a + b)
        case (.timestamp(let t), .duration(let d)) where op == "+" || op == "-":
            return .timestamp(try add(t, op == "+" ? d : Duration(seconds: -d.seconds, nanos: -d.nanos)))
        case (.duration(let d), .timestamp(let t)) where op == "+":
            return .timestamp(try add(t, d))
        case (.duration(let a), .duration(let b)) where op == "+" || op == "-":
            let sign: Int64 = op == "+" ? 1 : -1
            let (s, o) = a.seconds.addingReportingOverflow(sign * b.seconds)
            if o { throw overflow }
            do { return .duration(try Duration.normalized(seconds: s, nanos: Int64(a.nanos) + sign * Int64(b.nanos))) } catch { throw overflow }
        case (.timestamp(let a), .timestamp(let b)) where op == "-":
            do { return .duration(try Duration.normalized(seconds: a.seconds - b.seconds, nanos: Int64(a.nanos) - Int64(b.nanos))) } catch { throw overflow }
        default:
            throw noOverload("_\(op)_", [l, r])
        }
    }

    static func add(_ t: Timestamp, _ d: Duration) throws(CELError) -> Timestamp {
        var s = t.seconds + d.seconds
        var n = Int64(t.nanos) + Int64(d.nanos)
        if n >= 1_000_000_000 { s += 1; n -= 1_000_000_000 }
        if n < 0 { s -= 1; n += 1_000_000_000 }
        let result = Timestamp(seconds: s, nanos: Int32(n))
        guard result.isValid else { throw CELError("timestamp out of range") }
        return result
    }

    // MARK: Functions

    static func call(_ name: String, target: Value?, args: [Value]) throws(CELError) -> Value {
        let all = (target.map { [$0] } ?? []) + args
        switch (name, target, args.count) {
        case ("size", _, _) where all.count == 1:
            switch all[0] {
            case .string(let s): return .int(Int64(s.unicodeScalars.count))
            case .bytes(let b): return .int(Int64(b.count))
            case .list(let l): return .int(Int64(l.count))
            case .map(let m): return .int(Int64(m.count))
            default: throw noOverload("size", all)
            }
        case ("contains", .string(let s)?, 1):
            guard case .string(let t) = args[0] else { throw noOverload(name, all) }
            return .bool(t.isEmpty || s.contains(t))
        case ("startsWith", .string(let s)?, 1):
            guard case .string(let t) = args[0] else { throw noOverload(name, all) }
            return .bool(s.unicodeScalars.starts(with: t.unicodeScalars))
        case ("endsWith", .string(let s)?, 1):
            guard case .string(let t) = args[0] else { throw noOverload(name, all) }
            return .bool(Array(s.unicodeScalars).reversed().starts(with: Array(t.unicodeScalars).reversed()))
        case ("matches", _, _) where all.count == 2:
            guard case .string(let s) = all[0], case .string(let pattern) = all[1] else { throw noOverload(name, all) }
            return .bool(try Regex.compile(pattern).firstMatch(in: s) != nil)
        case ("int", nil, 1): return try Conversions.toInt(args[0])
        case ("uint", nil, 1): return try Conversions.toUint(args[0])
        case ("double", nil, 1): return try Conversions.toDouble(args[0])
        case ("string", nil, 1): return try Conversions.toString(args[0])
        case ("bytes", nil, 1): return try Conversions.toBytes(args[0])
        case ("bool", nil, 1): return try Conversions.toBool(args[0])
        case ("duration", nil, 1): return try Conversions.toDuration(args[0])
        case ("timestamp", nil, 1): return try Conversions.toTimestamp(args[0])
        case ("dyn", nil, 1): return args[0]
        case ("type", nil, 1): return .type(args[0].typeName)
        case (_, .timestamp(let t)?, 0...1) where Times.accessors.contains(name):
            var zone: String?
            if args.count == 1 {
                guard case .string(let z) = args[0] else { throw noOverload(name, all) }
                zone = z
            }
            return try Times.timestampPart(name, t, zone: zone)
        case (_, .duration(let d)?, 0) where Times.durationAccessors.contains(name):
            return Times.durationPart(name, d)
        case ("optional.of", nil, 1): return .optional(args[0])
        case ("optional.ofNonZeroValue", nil, 1): return .optional(isZero(args[0]) ? nil : args[0])
        case ("hasValue", .optional(let o)?, 0): return .bool(o != nil)
        case ("value", .optional(let o)?, 0):
            guard let o else { throw CELError("optional.none() dereference") }
            return o
        default:
            if let v = try Kubernetes.call(name, target: target, args: args) { return v }
            throw CELError("found no matching overload for '\(name)' applied to '\(target.map { $0.typeName + "." } ?? "")(\(args.map(\.typeName).joined(separator: ", ")))'")
        }
    }

    static func isZero(_ v: Value) -> Bool {
        switch v {
        case .null: return true
        case .bool(let b): return !b
        case .int(let i): return i == 0
        case .uint(let u): return u == 0
        case .double(let d): return d == 0
        case .string(let s): return s.isEmpty
        case .bytes(let b): return b.isEmpty
        case .list(let l): return l.isEmpty
        case .map(let m): return m.count == 0
        case .duration(let d): return d.seconds == 0 && d.nanos == 0
        case .timestamp(let t): return t.seconds == 0 && t.nanos == 0
        default: return false
        }
    }

    /// How a value reads in an error message.
    static func display(_ v: Value) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return "\(u)u"
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return v.typeName
        }
    }
}

/// A library type with an order (`quantity`, `semver`).
protocol ComparableOpaque: OpaqueValue {
    func compare(to other: any OpaqueValue) throws(CELError) -> Int
}
