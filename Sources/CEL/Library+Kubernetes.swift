import Foundation

/// The libraries Kubernetes adds to CEL for validation rules: strings (`charAt`, `indexOf`,
/// `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`, `split`, `substring`, `trim`,
/// `join`, `reverse`), lists (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`),
/// regex (`find`, `findAll`), and by type in their own files: URLs, quantities, IP
/// addresses and CIDRs, semantic versions and `format`.
enum Kubernetes {
    /// nil when no Kubernetes function has this name and receiver.
    static func call(_ name: String, target: Value?, args: [Value]) throws(CELError) -> Value? {
        switch target {
        case .string(let s)?:
            if let v = try strings(name, s, args) { return v }
        case .list(let l)?:
            if let v = try lists(name, l, args) { return v }
        case .opaque(let o)?:
            if let lib = o as? any MethodProvider { return try lib.call(name, args) }
        default: break
        }
        if target == nil { return try Constructors.call(name, args) }
        return nil
    }

    static func int(_ v: Value, _ what: String) throws(CELError) -> Int {
        guard case .int(let i) = v else { throw CELError("\(what) must be an int, not \(v.typeName)") }
        return Int(i)
    }

    static func str(_ v: Value, _ what: String) throws(CELError) -> String {
        guard case .string(let s) = v else { throw CELError("\(what) must be a string, not \(v.typeName)") }
        return s
    }

    static func strings(_ name: String, _ s: String, _ args: [Value]) throws(CELError) -> Value? {
        let scalars = Array(s.unicodeScalars)
        func text(_ c: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(c)) }
        switch (name, args.count) {
        case ("charAt", 1):
            let i = try int(args[0], "charAt's index")
            guard i >= 0, i <= scalars.count else { throw CELError("index out of range: \(i)") }
            return .string(i == scalars.count ? "" : String(Character(scalars[i])))
        case ("indexOf", 1), ("indexOf", 2), ("lastIndexOf", 1), ("lastIndexOf", 2):
            let needle = Array(try str(args[0], "\(name)'s argument").unicodeScalars)
            let last = name == "lastIndexOf"
            var from = last ? scalars.count - needle.count : 0
            if args.count == 2 {
                from = try int(args[1], "\(name)'s offset")
                guard from >= 0, from <= scalars.count else { throw CELError("index out of range: \(from)") }
                if last { from = min(from, scalars.count - needle.count) }
            }
            if needle.isEmpty { return .int(Int64(last && args.count == 1 ? scalars.count : from)) }
            let range = last ? Array(stride(from: from, through: 0, by: -1)) : Array(from..<max(from, scalars.count - needle.count + 1))
            for i in range where i >= 0 && i + needle.count <= scalars.count && Array(scalars[i..<(i + needle.count)]) == needle { return .int(Int64(i)) }
            return .int(-1)
        case ("lowerAscii", 0):
            return .string(String(String.UnicodeScalarView(scalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 })))
        case ("upperAscii", 0):
            return .string(String(String.UnicodeScalarView(scalars.map { ("a"..."z").contains($0) ? Unicode.Scalar($0.value - 32)! : $0 })))
        case ("replace", 2), ("replace", 3):
            let old = try str(args[0], "replace's target"), new = try str(args[1], "replace's replacement")
            var limit = args.count == 3 ? try int(args[2], "replace's count") : -1
            if old.isEmpty {
                // Go's strings.Replace: the replacement goes before every character and at the end.
                var out = ""
                for (i, c) in scalars.enumerated() {
                    if limit != 0 { out += new; limit -= 1 }
                    out.unicodeScalars.append(c)
                    _ = i
                }
                if limit != 0 { out += new }
                return .string(out)
            }
            var out = ""
            var rest = Substring(s)
            while limit != 0, let r = rest.range(of: old) {
                out += rest[..<r.lowerBound] + new
                rest = rest[r.upperBound...]
                limit -= 1
            }
            return .string(out + rest)
        case ("split", 1), ("split", 2):
            let sep = try str(args[0], "split's separator")
            let limit = args.count == 2 ? try int(args[1], "split's limit") : -1
            if limit == 0 { return .list([]) }
            if sep.isEmpty {
                var parts = scalars.map { String(Character($0)) }
                if limit > 0 && parts.count > limit { parts = Array(parts.prefix(limit - 1)) + [text(scalars[(limit - 1)...])] }
                return .list(parts.map(Value.string))
            }
            var parts: [String] = []
            var rest = Substring(s)
            while limit < 0 || parts.count < limit - 1, let r = rest.range(of: sep) {
                parts.append(String(rest[..<r.lowerBound]))
                rest = rest[r.upperBound...]
            }
            parts.append(String(rest))
            return .list(parts.map(Value.string))
        case ("substring", 1), ("substring", 2):
            let start = try int(args[0], "substring's start")
            let end = args.count == 2 ? try int(args[1], "substring's end") : scalars.count
            guard start >= 0, start <= scalars.count else { throw CELError("index out of range: \(start)") }
            guard end >= start, end <= scalars.count else { throw CELError(end < start ? "invalid substring range. start: \(start), end: \(end)" : "index out of range: \(end)") }
            return .string(text(scalars[start..<end]))
        case ("trim", 0):
            let ws: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
            guard let first = scalars.firstIndex(where: { !ws($0) }), let last = scalars.lastIndex(where: { !ws($0) }) else { return .string("") }
            return .string(text(scalars[first...last]))
        case ("reverse", 0):
            return .string(String(String.UnicodeScalarView(scalars.reversed())))
        case ("find", 1):
            return .string(try Regex.compile(try str(args[0], "find's pattern")).firstMatch(in: s) ?? "")
        case ("findAll", 1), ("findAll", 2):
            let limit = args.count == 2 ? try int(args[1], "findAll's limit") : -1
            return .list(try Regex.compile(try str(args[0], "findAll's pattern")).allMatches(in: s, limit: limit).map(Value.string))
        case ("format", 1):
            guard case .list(let values) = args[0] else { throw CELError("format's argument must be a list") }
            return .string(try Format.format(s, values))
        default:
            return nil
        }
    }

    static func lists(_ name: String, _ l: [Value], _ args: [Value]) throws(CELError) -> Value? {
        switch (name, args.count) {
        case ("join", 0), ("join", 1):
            let sep = args.isEmpty ? "" : try str(args[0], "join's separator")
            var parts: [String] = []
            for v in l {
                guard case .string(let s) = v else { throw CELError("join needs a list of strings, found \(v.typeName)") }
                parts.append(s)
            }
            return .string(parts.joined(separator: sep))
        case ("isSorted", 0):
            for i in l.indices.dropFirst() {
                guard let c = try Library.compare(l[i - 1], l[i], "<") else { return .bool(false) }
                if c > 0 { return .bool(false) }
            }
            return .bool(true)
        case ("sum", 0):
            guard let first = l.first else { return .int(0) }
            var total = first
            for v in l.dropFirst() { total = try Library.arithmetic("+", total, v) }
            return total
        case ("min", 0), ("max", 0):
            guard var best = l.first else { throw CELError("\(name) called on an empty list") }
            for v in l.dropFirst() {
                guard let c = try Library.compare(v, best, "<") else { continue }
                if (name == "min" && c < 0) || (name == "max" && c > 0) { best = v }
            }
            return best
        case ("indexOf", 1):
            return .int(Int64(l.firstIndex { Value.equal($0, args[0]) == true } ?? -1))
        case ("lastIndexOf", 1):
            return .int(Int64(l.lastIndex { Value.equal($0, args[0]) == true } ?? -1))
        case ("slice", 2):
            let a = try int(args[0], "slice's start"), b = try int(args[1], "slice's end")
            guard a >= 0, b >= a, b <= l.count else { throw CELError("cannot slice(\(a), \(b)) a list of \(l.count)") }
            return .list(Array(l[a..<b]))
        case ("flatten", 0):
            return .list(l.flatMap { v -> [Value] in if case .list(let inner) = v { return inner } else { return [v] } })
        case ("distinct", 0):
            var out: [Value] = []
            for v in l where !out.contains(where: { Value.equal($0, v) == true }) { out.append(v) }
            return .list(out)
        default:
            return nil
        }
    }
}

/// A library type's methods (`url.getHost()`, `quantity.isInteger()`, ...).
protocol MethodProvider: OpaqueValue {
    func call(_ name: String, _ args: [Value]) throws(CELError) -> Value
}
