import Foundation

/// A CEL value: the types of the CEL specification (null, bool, int, uint, double, string,
/// bytes, list, map, timestamp, duration, type) and optionals.
public indirect enum Value: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([Value])
    case map(MapValue)
    case timestamp(Timestamp)
    case duration(Duration)
    case type(String)
    /// `optional.of(x)` or `optional.none()`.
    case optional(Value?)
    /// A value of a library type (`url`, `quantity`, `ip`, `cidr`, `semver`).
    case opaque(OpaqueValue)

    /// The CEL type name, as `type(x)` prints it.
    public var typeName: String {
        switch self {
        case .null: return "null_type"
        case .bool: return "bool"
        case .int: return "int"
        case .uint: return "uint"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .list: return "list"
        case .map: return "map"
        case .timestamp: return "google.protobuf.Timestamp"
        case .duration: return "google.protobuf.Duration"
        case .type: return "type"
        case .optional: return "optional_type"
        case .opaque(let o): return o.typeName
        }
    }
}

/// A map with keys of type bool, int, uint or string, kept in insertion order.
public struct MapValue: Sendable {
    public private(set) var entries: [(key: Value, value: Value)] = []

    public init() {}

    public init(_ entries: [(Value, Value)]) throws(CELError) {
        for (k, v) in entries {
            guard Self.validKey(k) else { throw CELError("unsupported key type: \(k.typeName)") }
            if self[k] != nil { throw CELError("Failed with repeated key") }
            self.entries.append((k, v))
        }
    }

    static func validKey(_ k: Value) -> Bool {
        switch k {
        case .bool, .int, .uint, .string: return true
        default: return false
        }
    }

    public subscript(key: Value) -> Value? {
        entries.first { Value.equal($0.key, key) == true }?.value
    }

    public var count: Int { entries.count }
    public var keys: [Value] { entries.map(\.key) }
}

/// Seconds and nanoseconds since the Unix epoch, within the years 0001 to 9999.
public struct Timestamp: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanos: Int32

    public init(seconds: Int64, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    static let minSeconds: Int64 = -62_135_596_800  // 0001-01-01T00:00:00Z
    static let maxSeconds: Int64 = 253_402_300_799  // 9999-12-31T23:59:59Z

    var isValid: Bool { seconds >= Self.minSeconds && seconds <= Self.maxSeconds }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }
}

/// A signed span of seconds and nanoseconds (both with the same sign), within what int64
/// nanoseconds hold (about 292 years either way), as Kubernetes' cel-go bounds durations.
public struct Duration: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanos: Int32

    public init(seconds: Int64, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    static let maxSeconds: Int64 = 9_223_372_036

    var totalNanos: Double { Double(seconds) * 1e9 + Double(nanos) }

    var isValid: Bool { abs(seconds) <= Self.maxSeconds }

    static func normalized(seconds: Int64, nanos: Int64) throws(CELError) -> Duration {
        var s = seconds
        var n = nanos
        let (q, overflow) = s.addingReportingOverflow(n / 1_000_000_000)
        if overflow { throw CELError("duration out of range") }
        s = q
        n %= 1_000_000_000
        if s > 0 && n < 0 {
            s -= 1
            n += 1_000_000_000
        } else if s < 0 && n > 0 {
            s += 1
            n -= 1_000_000_000
        }
        let d = Duration(seconds: s, nanos: Int32(n))
        guard d.isValid else { throw CELError("duration out of range") }
        return d
    }

    public static func < (a: Duration, b: Duration) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }
}

/// A value of an extension library's type.
public protocol OpaqueValue: Sendable {
    var typeName: String { get }
    func isEqual(to other: any OpaqueValue) -> Bool
}

/// An evaluation error; CEL carries errors as values through `&&`, `||` and `?:`, which
/// absorb them when the other side decides the result.
public struct CELError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Value {
    /// CEL equality: numbers compare across int, uint and double; lists and maps element by
    /// element; values of different types are unequal. nil when a NaN is involved in an
    /// ordering sense is not needed: NaN is never equal.
    public static func equal(_ a: Value, _ b: Value) -> Bool? {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.timestamp(let x), .timestamp(let y)): return x == y
        case (.duration(let x), .duration(let y)): return x == y
        case (.type(let x), .type(let y)): return x == y
        case (.list(let x), .list(let y)):
            guard x.count == y.count else { return false }
            for (l, r) in zip(x, y) where equal(l, r) != true { return false }
            return true
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x.entries {
                guard let w = y[k], equal(v, w) == true else { return false }
            }
            return true
        case (.optional(let x), .optional(let y)):
            switch (x, y) {
            case (nil, nil): return true
            case (let l?, let r?): return equal(l, r)
            default: return false
            }
        case (.opaque(let x), .opaque(let y)): return x.isEqual(to: y)
        default:
            if let c = compareNumbers(a, b) { return c == 0 }
            return false
        }
    }

    /// -1, 0 or 1 for two numbers of any numeric types; nil when either is not a number or a
    /// NaN is involved.
    static func compareNumbers(_ a: Value, _ b: Value) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.uint(let x), .uint(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.int(let x), .uint(let y)):
            if x < 0 { return -1 }
            return UInt64(x) < y ? -1 : (UInt64(x) > y ? 1 : 0)
        case (.uint, .int): return compareNumbers(b, a).map { -$0 }
        case (.int(let x), .double(let y)): return compareIntDouble(x, y)
        case (.double, .int): return compareNumbers(b, a).map { -$0 }
        case (.uint(let x), .double(let y)):
            if y.isNaN { return nil }
            if y < 0 { return 1 }
            if y >= 18_446_744_073_709_551_616.0 { return -1 }
            let t = y.rounded(.down)
            let u = UInt64(t)
            if x < u { return -1 }
            if x > u { return 1 }
            return y > t ? -1 : 0
        case (.double, .uint): return compareNumbers(b, a).map { -$0 }
        default: return nil
        }
    }

    private static func compareIntDouble(_ x: Int64, _ y: Double) -> Int? {
        if y.isNaN { return nil }
        if y >= 9_223_372_036_854_775_808.0 { return -1 }
        if y < -9_223_372_036_854_775_808.0 { return 1 }
        let t = y.rounded(.down)
        let i = Int64(t)
        if x < i { return -1 }
        if x > i { return 1 }
        return y > t ? -1 : 0
    }
}
