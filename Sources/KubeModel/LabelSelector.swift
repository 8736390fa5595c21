import Foundation

/// A label selector in the string form of `-l` / `labelSelector=`: comma-separated
/// requirements `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`.
public struct LabelSelector: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case exists(String)
        case notExists(String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
    }

    public var requirements: [Requirement]

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    public init(parsing text: String) throws(ParseError) {
        var reqs: [Requirement] = []
        for raw in Self.splitTopLevel(text) {
            let term = raw.trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            if let r = try Self.setRequirement(term) {
                reqs.append(r)
            } else if let range = term.range(of: "!=") {
                reqs.append(.notEquals(try Self.key(term[..<range.lowerBound]), try Self.value(term[range.upperBound...])))
            } else if let range = term.range(of: "==") ?? term.range(of: "=") {
                reqs.append(.equals(try Self.key(term[..<range.lowerBound]), try Self.value(term[range.upperBound...])))
            } else if term.hasPrefix("!") {
                reqs.append(.notExists(try Self.key(term.dropFirst())))
            } else {
                reqs.append(.exists(try Self.key(Substring(term))))
            }
        }
        requirements = reqs
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { r in
            switch r {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .exists(let k): return labels[k] != nil
            case .notExists(let k): return labels[k] == nil
            case .in(let k, let vs): return labels[k].map(vs.contains) ?? false
            case .notIn(let k, let vs): return !(labels[k].map(vs.contains) ?? false)
            }
        }
    }

    static func splitTopLevel(_ s: String) -> [String] {
        var out: [String] = [], current = "", depth = 0
        for c in s {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if c == "," && depth == 0 {
                out.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        out.append(current)
        return out
    }

    static func setRequirement(_ term: String) throws(ParseError) -> Requirement? {
        for (op, negate) in [(" notin ", true), (" in ", false)] {
            guard let r = term.range(of: op) else { continue }
            let k = try key(term[..<r.lowerBound])
            let rest = term[r.upperBound...].trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix("("), rest.hasSuffix(")") else { throw ParseError(message: "values of \"\(k)\" must be in parentheses") }
            var values: Set<String> = []
            for v in rest.dropFirst().dropLast().split(separator: ",") { values.insert(try value(v)) }
            return negate ? .notIn(k, values) : .in(k, values)
        }
        return nil
    }

    static func key(_ s: Substring) throws(ParseError) -> String {
        let k = s.trimmingCharacters(in: .whitespaces)
        if let problem = ObjectMetaValidation.qualifiedName(k).first { throw ParseError(message: "invalid label key \"\(k)\": \(problem)") }
        return k
    }

    static func value(_ s: Substring) throws(ParseError) -> String {
        let v = s.trimmingCharacters(in: .whitespaces)
        if let problem = ObjectMetaValidation.labelValue(v).first { throw ParseError(message: "invalid label value \"\(v)\": \(problem)") }
        return v
    }
}

extension LabelSelector {
    /// The string form of a `metav1.LabelSelector` object (`matchLabels` and
    /// `matchExpressions`), as the scale subresource reports a Deployment's selector.
    public static func string(fromObject selector: JSONValue) -> String {
        var terms: [String] = []
        for (k, v) in (selector["matchLabels"]?.objectValue ?? JSONObject()).sorted(by: { $0.key < $1.key }) {
            terms.append("\(k)=\(v.stringValue ?? "")")
        }
        for e in selector["matchExpressions"]?.arrayValue ?? [] {
            guard let key = e["key"]?.stringValue else { continue }
            let values = (e["values"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            switch e["operator"]?.stringValue {
            case "In"?: terms.append("\(key) in (\(values))")
            case "NotIn"?: terms.append("\(key) notin (\(values))")
            case "Exists"?: terms.append(key)
            case "DoesNotExist"?: terms.append("!\(key)")
            default: continue
            }
        }
        return terms.joined(separator: ",")
    }
}
