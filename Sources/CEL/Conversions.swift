import Foundation

/// CEL's type conversion functions: `int`, `uint`, `double`, `string`, `bytes`, `bool`,
/// `duration` and `timestamp`, with range errors where a value does not fit.
enum Conversions {
    static func toInt(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .int: return v
        case .uint(let u):
            guard u <= UInt64(Int64.max) else { throw CELError("range error converting \(u) to int") }
            return .int(Int64(u))
        case .double(let d):
            guard d.isFinite, d > -9_223_372_036_854_775_809.0, d < 9_223_372_036_854_775_807.0 else { throw CELError("range error converting \(d) to int") }
            return .int(Int64(d.rounded(.towardZero)))
        case .string(let s):
            guard let i = Int64(s) else { throw CELError("cannot convert string '\(s)' to int") }
            return .int(i)
        case .timestamp(let t): return .int(t.seconds)
        case .bool(let b): return .int(b ? 1 : 0)
        default: throw Library.noOverload("int", [v])
        }
    }

    static func toUint(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .uint: return v
        case .int(let i):
            guard i >= 0 else { throw CELError("range error converting \(i) to uint") }
            return .uint(UInt64(i))
        case .double(let d):
            guard d.isFinite, d > -1, d < 18_446_744_073_709_551_616.0 else { throw CELError("range error converting \(d) to uint") }
            return .uint(UInt64(d.rounded(.towardZero)))
        case .string(let s):
            guard let u = UInt64(s) else { throw CELError("cannot convert string '\(s)' to uint") }
            return .uint(u)
        case .bool(let b): return .uint(b ? 1 : 0)
        default: throw Library.noOverload("uint", [v])
        }
    }

    static func toDouble(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .double: return v
        case .int(let i): return .double(Double(i))
        case .uint(let u): return .double(Double(u))
        case .string(let s):
            let lower = s.lowercased()
            if ["inf", "+inf", "infinity", "+infinity"].contains(lower) { return .double(.infinity) }
            if ["-inf", "-infinity"].contains(lower) { return .double(-.infinity) }
            if lower == "nan" { return .double(.nan) }
            guard let d = Double(s) else { throw CELError("cannot convert string '\(s)' to double") }
            return .double(d)
        default: throw Library.noOverload("double", [v])
        }
    }

    static func toString(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .string: return v
        case .int(let i): return .string(String(i))
        case .uint(let u): return .string(String(u))
        case .double(let d): return .string(formatDouble(d))
        case .bool(let b): return .string(b ? "true" : "false")
        case .bytes(let b):
            guard let s = String(validating: b, as: UTF8.self) else { throw CELError("invalid UTF-8 in bytes, cannot convert to string") }
            return .string(s)
        case .timestamp(let t): return .string(Times.format(t))
        case .duration(let d): return .string(Times.format(d))
        case .type(let t): return .string(t)
        case .opaque(let o as CustomStringConvertible): return .string(o.description)
        default: throw Library.noOverload("string", [v])
        }
    }

    /// Go's `strconv.FormatFloat(d, 'g', -1, 64)` as cel-go prints doubles.
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "+Inf" : "-Inf" }
        if d == d.rounded(), abs(d) < 1e21 {
            let text = String(format: "%.0f", d)
            return text == "-0" ? "-0" : text
        }
        var s = "\(d)"
        if s.contains("e") {
            // Swift writes 1e-07; Go writes 1e-07 too, and 1e+21 for large exponents.
            if let e = s.firstIndex(of: "e"), s[s.index(after: e)] != "-" && s[s.index(after: e)] != "+" { s.insert("+", at: s.index(after: e)) }
        }
        return s
    }

    static func toBytes(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .bytes: return v
        case .string(let s): return .bytes(Array(s.utf8))
        default: throw Library.noOverload("bytes", [v])
        }
    }

    static func toBool(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .bool: return v
        case .string(let s):
            switch s {
            case "1", "t", "T", "TRUE", "true", "True": return .bool(true)
            case "0", "f", "F", "FALSE", "false", "False": return .bool(false)
            default: throw CELError("type conversion error from 'string' to 'bool': '\(s)'")
            }
        default: throw Library.noOverload("bool", [v])
        }
    }

    static func toDuration(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .duration: return v
        case .string(let s): return .duration(try Times.parseDuration(s))
        case .int(let i): return .duration(try Duration.normalized(seconds: 0, nanos: i))
        default: throw Library.noOverload("duration", [v])
        }
    }

    static func toTimestamp(_ v: Value) throws(CELError) -> Value {
        switch v {
        case .timestamp: return v
        case .string(let s): return .timestamp(try Times.parseTimestamp(s))
        case .int(let i):
            let t = Timestamp(seconds: i)
            guard t.isValid else { throw CELError("timestamp out of range") }
            return .timestamp(t)
        default: throw Library.noOverload("timestamp", [v])
        }
    }
}
