import Foundation
import Synchronization

/// Regular expressions for `matches`, `find` and `findAll`. CEL specifies RE2 syntax; ICU
/// (through NSRegularExpression) accepts the same for what validation rules use (classes,
/// anchors, repetition, groups, `(?i)`); patterns RE2 refuses, such as backreferences, are
/// refused here too. Compiled patterns are cached.
struct Regex: @unchecked Sendable {
    let expression: NSRegularExpression

    private static let cache = Mutex<[String: Regex]>([:])

    static func compile(_ pattern: String) throws(CELError) -> Regex {
        if let r = cache.withLock({ $0[pattern] }) { return r }
        if pattern.range(of: #"\\[1-9]"#, options: .regularExpression) != nil || pattern.contains("(?=") || pattern.contains("(?!") || pattern.contains("(?<") && !pattern.contains("(?P<") {
            throw CELError("invalid regular expression \"\(pattern)\": backreferences and lookaround are not RE2 syntax")
        }
        do {
            // RE2's (?P<name>...) is ICU's (?<name>...).
            // An empty pattern matches everywhere; ICU refuses it as written.
            let icu = pattern.isEmpty ? "(?:)" : pattern.replacingOccurrences(of: "(?P<", with: "(?<")
            let r = Regex(expression: try NSRegularExpression(pattern: icu))
            cache.withLock { c in
                if c.count > 512 { c.removeAll() }
                c[pattern] = r
            }
            return r
        } catch {
            throw CELError("invalid regular expression \"\(pattern)\": \(error.localizedDescription)")
        }
    }

    func firstMatch(in s: String) -> String? {
        let ns = s as NSString
        guard let m = expression.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return ns.substring(with: m.range)
    }

    func allMatches(in s: String, limit: Int) -> [String] {
        let ns = s as NSString
        var out: [String] = []
        for m in expression.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
            if limit >= 0 && out.count >= limit { break }
            out.append(ns.substring(with: m.range))
        }
        return out
    }
}
