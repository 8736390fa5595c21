import Foundation

/// Why the core decided what it did: the inputs it used, the options it weighed, and the
/// deciding reasons. Controllers copy it into status (`lastDecision`) and Events.
public struct Explanation: Sendable, Hashable, CustomStringConvertible {
    /// A named input value, kept in the order the decision used them.
    public struct Input: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One option considered, and what became of it.
    public struct Candidate: Sendable, Hashable {
        public var name: String
        public var chosen: Bool
        /// A sortable score where it has one (e.g. dollars per hour); nil when rejected outright.
        public var score: Double?
        public var note: String
        public init(name: String, chosen: Bool = false, score: Double? = nil, note: String) {
            self.name = name
            self.chosen = chosen
            self.score = score
            self.note = note
        }
    }

    /// One line a person reads first: what was decided.
    public var summary: String
    public var inputs: [Input]
    public var candidates: [Candidate]
    /// Why the winner won, most important first.
    public var reasons: [String]

    public init(summary: String, inputs: [Input] = [], candidates: [Candidate] = [], reasons: [String] = []) {
        self.summary = summary
        self.inputs = inputs
        self.candidates = candidates
        self.reasons = reasons
    }

    /// Inputs as a map, for status fields that hold `map[string]string`.
    public var inputMap: [String: String] {
        Dictionary(inputs.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    public var description: String {
        var lines = [summary]
        lines += reasons.map { "  because: " + $0 }
        return lines.joined(separator: "\n")
    }
}

/// Formats numbers in explanations the same way everywhere.
enum Fmt {
    static func num(_ x: Double, _ digits: Int = 2) -> String {
        guard x.isFinite else { return x > 0 ? "∞" : "-∞" }
        var s = String(format: "%.\(digits)f", x)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    static func ms(_ seconds: Double) -> String { num(seconds * 1000, 1) + " ms" }
    static func dollars(_ x: Double) -> String { "$" + String(format: "%.2f", x) }
}
