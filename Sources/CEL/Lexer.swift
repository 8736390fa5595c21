/// CEL's lexical grammar: identifiers, decimal and hexadecimal integers (`u` for unsigned),
/// doubles with fraction or exponent, strings and bytes in single, double or triple quotes,
/// raw (`r`) or with escapes (`\n`, `\x41`, `\u00e9`, `\U0001F600`, `\101`), operators, and
/// `//` comments.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        /// Digits as written (sign applied by the parser, so `-9223372036854775808` parses).
        case int(String, hex: Bool)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case symbol(String)
        case end
    }
    var kind: Kind
    /// Offset of the first character, for error messages.
    var offset: Int
}

enum Lexer {
    static let symbols2: Set<String> = ["&&", "||", "==", "!=", "<=", ">="]
    static let symbols1: Set<Character> = ["(", ")", "[", "]", "{", "}", ".", ",", "?", ":", "!", "-", "+", "*", "/", "%", "<", ">"]

    static func tokens(_ source: String) throws(CELError) -> [Token] {
        let s = Array(source.unicodeScalars)
        var i = 0
        var out: [Token] = []
        func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }
        func isDigit(_ c: Unicode.Scalar?) -> Bool { c.map { ("0"..."9").contains($0) } ?? false }
        func isHex(_ c: Unicode.Scalar?) -> Bool { c.map { ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) } ?? false }
        func isIdentStart(_ c: Unicode.Scalar?) -> Bool { c.map { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "_" } ?? false }

        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" {
                i += 1
                continue
            }
            if c == "/" && peek(1) == "/" {
                while i < s.count && s[i] != "\n" { i += 1 }
                continue
            }
            let start = i
            // String and bytes literals, with optional r/b prefixes in either order.
            var prefixLength = 0
            var raw = false, isBytes = false
            while prefixLength < 2, let p = peek(prefixLength), "rRbB".unicodeScalars.contains(p) {
                if p == "r" || p == "R" { if raw { break }; raw = true } else { if isBytes { break }; isBytes = true }
                prefixLength += 1
            }
            if let q = peek(prefixLength), q == "'" || q == "\"" {
                i += prefixLength
                let (bytes, next) = try readQuoted(s, i, raw: raw, bytes: isBytes)
                i = next
                if isBytes {
                    out.append(Token(kind: .bytes(bytes), offset: start))
                } else {
                    guard let text = String(validating: bytes, as: UTF8.self) else { throw CELError("invalid UTF-8 in string literal at \(start)") }
                    out.append(Token(kind: .string(text), offset: start))
                }
                continue
            }
            if isIdentStart(c) {
                var name = ""
                while let d = peek(), isIdentStart(d) || isDigit(d) {
                    name.unicodeScalars.append(d)
                    i += 1
                }
                out.append(Token(kind: .identifier(name), offset: start))
                continue
            }
            if isDigit(c) || (c == "." && isDigit(peek(1))) {
                if c == "0", peek(1) == "x" || peek(1) == "X" {
                    i += 2
                    var digits = ""
                    while isHex(peek()) { digits.unicodeScalars.append(peek()!); i += 1 }
                    guard !digits.isEmpty else { throw CELError("malformed hexadecimal literal at \(start)") }
                    if peek() == "u" || peek() == "U" {
                        i += 1
                        guard let v = UInt64(digits, radix: 16) else { throw CELError("uint literal out of range at \(start)") }
                        out.append(Token(kind: .uint(v), offset: start))
                    } else {
                        out.append(Token(kind: .int(digits, hex: true), offset: start))
                    }
                    continue
                }
                var text = ""
                var isDouble = false
                while isDigit(peek()) { text.unicodeScalars.append(peek()!); i += 1 }
                if peek() == ".", isDigit(peek(1)) {
                    isDouble = true
                    text += "."
                    i += 1
                    while isDigit(peek()) { text.unicodeScalars.append(peek()!); i += 1 }
                }
                if peek() == "e" || peek() == "E" {
                    var k = 1
                    if peek(1) == "+" || peek(1) == "-" { k = 2 }
                    if isDigit(peek(k)) {
                        isDouble = true
                        for _ in 0..<k { text.unicodeScalars.append(peek()!); i += 1 }
                        while isDigit(peek()) { text.unicodeScalars.append(peek()!); i += 1 }
                    }
                }
                if isDouble {
                    guard let d = Double(text) else { throw CELError("malformed double literal at \(start)") }
                    out.append(Token(kind: .double(d), offset: start))
                } else if peek() == "u" || peek() == "U" {
                    i += 1
                    guard let v = UInt64(text) else { throw CELError("uint literal out of range at \(start)") }
                    out.append(Token(kind: .uint(v), offset: start))
                } else {
                    out.append(Token(kind: .int(text, hex: false), offset: start))
                }
                if isIdentStart(peek()) { throw CELError("unexpected character '\(peek()!)' after number at \(i)") }
                continue
            }
            if let n = peek(1) {
                let pair = String(String.UnicodeScalarView([c, n]))
                if symbols2.contains(pair) {
                    out.append(Token(kind: .symbol(pair), offset: start))
                    i += 2
                    continue
                }
            }
            if symbols1.contains(Character(c)) {
                out.append(Token(kind: .symbol(String(Character(c))), offset: start))
                i += 1
                continue
            }
            throw CELError("Syntax error: token recognition error at: '\(Character(c))' (offset \(start))")
        }
        out.append(Token(kind: .end, offset: s.count))
        return out
    }

    /// Reads a quoted literal starting at its opening quote; returns its bytes (UTF-8 for
    /// strings) and the index after the closing quote.
    private static func readQuoted(_ s: [Unicode.Scalar], _ start: Int, raw: Bool, bytes: Bool) throws(CELError) -> ([UInt8], Int) {
        let q = s[start]
        let triple = start + 2 < s.count && s[start + 1] == q && s[start + 2] == q
        var i = start + (triple ? 3 : 1)
        var out: [UInt8] = []
        func append(_ scalar: Unicode.Scalar) { out.append(contentsOf: Array(String(Character(scalar)).utf8)) }
        while true {
            guard i < s.count else { throw CELError("Syntax error: unterminated \(bytes ? "bytes" : "string") literal starting at \(start)") }
            let c = s[i]
            if triple {
                if c == q && i + 2 < s.count && s[i + 1] == q && s[i + 2] == q { return (out, i + 3) }
            } else {
                if c == q { return (out, i + 1) }
                if c == "\n" || c == "\r" { throw CELError("Syntax error: newline in a single-quoted literal at \(i)") }
            }
            if c == "\\" && !raw {
                guard i + 1 < s.count else { throw CELError("Syntax error: unterminated escape at \(i)") }
                let e = s[i + 1]
                i += 2
                switch e {
                case "a": out.append(7)
                case "b": out.append(8)
                case "f": out.append(12)
                case "n": out.append(10)
                case "r": out.append(13)
                case "t": out.append(9)
                case "v": out.append(11)
                case "\\", "'", "\"", "`", "?": append(e)
                case "x", "X", "u", "U":
                    let count = e == "x" || e == "X" ? 2 : (e == "u" ? 4 : 8)
                    guard i + count <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + count)])), radix: 16) else {
                        throw CELError("Syntax error: invalid \\\(e) escape at \(i - 2)")
                    }
                    i += count
                    if (e == "x" || e == "X") && bytes {
                        out.append(UInt8(v))
                    } else {
                        // In bytes, \u and \U give the code point's UTF-8 encoding.
                        guard let scalar = Unicode.Scalar(v) else { throw CELError("Syntax error: invalid code point \\\(e)\(String(v, radix: 16)) at \(i - count - 2)") }
                        append(scalar)
                    }
                case "0"..."3":
                    guard i + 2 <= s.count, let v = UInt32(String(String.UnicodeScalarView([e, s[i], s[i + 1]])), radix: 8) else {
                        throw CELError("Syntax error: invalid octal escape at \(i - 2)")
                    }
                    i += 2
                    if bytes {
                        out.append(UInt8(v))
                    } else {
                        guard let scalar = Unicode.Scalar(v) else { throw CELError("Syntax error: invalid octal escape") }
                        append(scalar)
                    }
                default:
                    throw CELError("Syntax error: invalid escape sequence \\\(e) at \(i - 2)")
                }
                continue
            }
            append(c)
            i += 1
        }
    }
}
