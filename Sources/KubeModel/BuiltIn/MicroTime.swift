/// A point in time with microsecond precision (`metav1.MicroTime`), encoded as
/// `2024-05-01T12:00:00.123456Z`. Leases and events.k8s.io Events require this form.
public struct MicroTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    public init(secondsSinceEpoch: Double) { self.microsecondsSinceEpoch = Int64((secondsSinceEpoch * 1_000_000).rounded()) }

    public static func < (a: MicroTime, b: MicroTime) -> Bool { a.microsecondsSinceEpoch < b.microsecondsSinceEpoch }

    public var secondsSinceEpoch: Double { Double(microsecondsSinceEpoch) / 1_000_000 }

    public var description: String {
        let whole = microsecondsSinceEpoch >= 0 ? microsecondsSinceEpoch / 1_000_000 : (microsecondsSinceEpoch - 999_999) / 1_000_000
        let micros = microsecondsSinceEpoch - whole * 1_000_000
        let base = Timestamp(secondsSinceEpoch: whole).rfc3339.dropLast()  // drop the "Z"
        let fraction = String(micros)
        return "\(base).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)Z"
    }

    /// Parses RFC 3339 with or without a fraction (which may have 1 to 9 digits).
    public init?(rfc3339 s: String) {
        guard let seconds = Timestamp(rfc3339: s) else { return nil }
        var micros: Int64 = 0
        if let dot = s.firstIndex(of: ".") {
            let digits = s[s.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            let six = String(digits.prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)
            micros = Int64(six) ?? 0
        }
        self.microsecondsSinceEpoch = seconds.secondsSinceEpoch * 1_000_000 + micros
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = MicroTime(rfc3339: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
