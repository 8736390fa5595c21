/// JSON text in and out of `JSONValue`, written here rather than borrowed from Foundation so
/// that integer/float identity, key order and limits on hostile input are under our control:
/// the API server parses untrusted request bodies with it.
public enum JSONText {
    /// Why a document could not be parsed, with the byte offset where parsing stopped.
    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        public var offset: Int
        public var message: String
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    /// Nesting deeper than this is rejected rather than risking the stack.
    public static let maxDepth = 512

    public static func parse(_ text: String, omitting: [String] = []) throws(ParseError) -> JSONValue {
        try parse(Array(text.utf8), omitting: omitting)
    }

    /// Parses a document. A value at the path `omitting` names (member names, `*` for any
    /// array item, e.g. `["items", "*", "metadata", "managedFields"]`) is checked for
    /// well-formed structure but not built, and its member is left out: a client that is going
    /// to drop a large field anyway does not pay for its tree.
    public static func parse(_ bytes: [UInt8], omitting: [String] = []) throws(ParseError) -> JSONValue {
        // Parsing over a raw buffer spares a bounds check and a retain per byte read.
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<JSONValue, ParseError> in
            var parser = Parser(bytes: buffer, omitting: omitting)
            do throws(ParseError) {
                parser.skipSpace()
                let value = try parser.value(depth: 0, matched: omitting.isEmpty ? -1 : 0)
                parser.skipSpace()
                guard parser.index == buffer.count else { throw parser.error("unexpected trailing characters") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Serialises compactly, or with two-space indentation when `pretty`.
    public static func serialize(_ value: JSONValue, pretty: Bool = false, sortKeys: Bool = false) -> String {
        String(decoding: bytes(value, pretty: pretty, sortKeys: sortKeys), as: UTF8.self)
    }

    /// Serialises to UTF-8 bytes, the form responses and storage need.
    public static func bytes(_ value: JSONValue, pretty: Bool = false, sortKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(value, to: &out, pretty: pretty, sortKeys: sortKeys)
        return out
    }

    /// Appends a value's serialisation, so documents can be assembled from parts without
    /// copying intermediate strings (list responses splice stored objects this way).
    public static func append(_ value: JSONValue, to out: inout [UInt8], pretty: Bool = false, sortKeys: Bool = false) {
        write(value, into: &out, pretty: pretty, sortKeys: sortKeys, indent: 0)
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8], pretty: Bool, sortKeys: Bool, indent: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: (d.isFinite ? formatDouble(d) : "null").utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                write(item, into: &out, pretty: pretty, sortKeys: sortKeys, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            var n = 0
            func member(_ key: String, _ value: JSONValue) {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                n += 1
                if pretty { newline(&out, indent + 1) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(value, into: &out, pretty: pretty, sortKeys: sortKeys, indent: indent + 1)
            }
            if sortKeys {
                for key in object.keys.sorted() { member(key, object[key]!) }
            } else {
                for (key, value) in object { member(key, value) }
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(0x0A)
        for _ in 0..<indent { out.append(0x20); out.append(0x20) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            // Runs of bytes that need no escaping are copied at once; multi-byte UTF-8 passes
            // through unchanged, as only `"`, `\` and control characters must be escaped.
            var runStart = 0
            for (i, c) in utf8.enumerated() where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                out.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: "u00".utf8)
                    out.append(hexDigits[Int(c >> 4)])
                    out.append(hexDigits[Int(c & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// Object keys longer than a small string, by a hash of their bytes: a list of
        /// Kubernetes objects repeats the same keys in every item (and many times over in
        /// managedFields), and sharing one String each saves an allocation per occurrence.
        var longKeys: [UInt64: String] = [:]

        /// The path whose value is skipped (see `parse(_:omitting:)`).
        let omitting: [String]

        init(bytes: UnsafeBufferPointer<UInt8>, omitting: [String]) {
            self.bytes = bytes
            self.omitting = omitting
        }

        func error(_ message: String) -> ParseError { ParseError(offset: index, message: message) }

        mutating func skipSpace() {
            while index < bytes.count {
                let c = bytes[index]
                guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
                index += 1
            }
        }

        /// `matched`: how many leading components of `omitting` the path to this value
        /// matches, or -1 once it has left that path.
        mutating func value(depth: Int, matched: Int = -1) throws(ParseError) -> JSONValue {
            guard depth < JSONText.maxDepth else { throw error("nesting deeper than \(JSONText.maxDepth) levels") }
            guard index < bytes.count else { throw error("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth, matched: matched)
            case UInt8(ascii: "["): return try array(depth: depth, matched: matched)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character '\(Character(UnicodeScalar(bytes[index])))'")
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            for c in word.utf8 {
                guard index < bytes.count, bytes[index] == c else { throw error("invalid literal") }
                index += 1
            }
        }

        /// How far the path to a child value matches `omitting`, given its parent's match and
        /// its own component (a member name, or `*` for an array item): `omitting.count` means
        /// skip it.
        func matchedComponent(_ component: String, _ matched: Int) -> Int {
            matched >= 0 && matched < omitting.count && omitting[matched] == component ? matched + 1 : -1
        }

        mutating func object(depth: Int, matched: Int) throws(ParseError) -> JSONValue {
            index += 1
            var object = JSONObject()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try objectKey()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                index += 1
                skipSpace()
                let inner = matchedComponent(key, matched)
                if inner == omitting.count {
                    try skip(depth: depth + 1)
                } else {
                    // Duplicate keys: the last one wins, as Go's encoding/json does.
                    object[key] = try value(depth: depth + 1, matched: inner)
                }
                skipSpace()
                guard index < bytes.count else { throw error("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
                throw error("expected ',' or '}' in object")
            }
        }

        mutating func array(depth: Int, matched: Int) throws(ParseError) -> JSONValue {
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            let inner = matchedComponent("*", matched)
            while true {
                skipSpace()
                if inner == omitting.count {
                    try skip(depth: depth + 1)
                } else {
                    items.append(try value(depth: depth + 1, matched: inner))
                }
                skipSpace()
                guard index < bytes.count else { throw error("unterminated array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw error("expected ',' or ']' in array")
            }
        }

        /// Passes over one value, checking its structure (brackets, separators, string
        /// escapes, literals, numbers) without building it. Skipped strings are not checked
        /// for valid UTF-8.
        mutating func skip(depth: Int) throws(ParseError) {
            guard depth < JSONText.maxDepth else { throw error("nesting deeper than \(JSONText.maxDepth) levels") }
            guard index < bytes.count else { throw error("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = bytes[index] == UInt8(ascii: "{")
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                index += 1
                skipSpace()
                if index < bytes.count, bytes[index] == close { index += 1; return }
                while true {
                    skipSpace()
                    if isObject {
                        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                        try skipString()
                        skipSpace()
                        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                        index += 1
                        skipSpace()
                    }
                    try skip(depth: depth + 1)
                    skipSpace()
                    guard index < bytes.count else { throw error(isObject ? "unterminated object" : "unterminated array") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == close { index += 1; return }
                    throw error(isObject ? "expected ',' or '}' in object" : "expected ',' or ']' in array")
                }
            case UInt8(ascii: "\""): try skipString()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
            default: throw error("unexpected character '\(Character(UnicodeScalar(bytes[index])))'")
            }
        }

        mutating func skipString() throws(ParseError) {
            index += 1
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\"") { index += 1; return }
                if c < 0x20 { throw error("control character in string") }
                index += c == UInt8(ascii: "\\") ? 2 : 1
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                v = v * 16 + d
                index += 1
            }
            return v
        }

        /// A key: shared with an earlier equal one when it is long enough to be allocated.
        mutating func objectKey() throws(ParseError) -> String {
            let start = index + 1
            var end = start
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") {
                hash = (hash ^ UInt64(bytes[end])) &* 0x100_0000_01b3
                end += 1
            }
            guard end - start > 15, end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return try string() }
            let run = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if let known = longKeys[hash], known.utf8.elementsEqual(run) {
                index = end + 1
                return known
            }
            let key = try string()
            longKeys[hash] = key
            return key
        }

        mutating func string() throws(ParseError) -> String {
            index += 1
            // Fast path: most strings have no escapes and can be made from the bytes at once.
            var end = index
            var ascii = true
            while end < bytes.count {
                let c = bytes[end]
                if c == UInt8(ascii: "\"") {
                    let run = UnsafeBufferPointer(rebasing: bytes[index..<end])
                    // ASCII cannot be invalid UTF-8, and String(decoding:) has a fast path
                    // for it; only other text needs the (slower, generic) validation.
                    guard let s = ascii ? String(decoding: run, as: UTF8.self) : String(validating: run, as: UTF8.self) else {
                        throw error("string is not valid UTF-8")
                    }
                    index = end + 1
                    return s
                }
                if c == UInt8(ascii: "\\") || c < 0x20 { break }
                ascii = ascii && c < 0x80
                end += 1
            }
            var raw: [UInt8] = Array(bytes[index..<end])
            index = end
            while true {
                guard index < bytes.count else { throw error("unterminated string") }
                let c = bytes[index]
                if c == UInt8(ascii: "\"") { index += 1; break }
                if c < 0x20 { throw error("control character in string") }
                if c != UInt8(ascii: "\\") { raw.append(c); index += 1; continue }
                index += 1
                guard index < bytes.count else { throw error("unterminated escape") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): raw.append(0x22)
                case UInt8(ascii: "\\"): raw.append(0x5C)
                case UInt8(ascii: "/"): raw.append(0x2F)
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count,
                        bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    // Lone surrogates become U+FFFD, as Go does, instead of failing the request.
                    let scalar = UnicodeScalar(code) ?? "\u{FFFD}"
                    raw.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw error("invalid escape character")
                }
            }
            guard let s = String(validating: raw, as: UTF8.self) else { throw error("string is not valid UTF-8") }
            return s
        }

        mutating func number() throws(ParseError) -> JSONValue {
            let start = index
            var isInteger = true
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            var digits = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                index += 1
                digits += 1
            }
            guard digits > 0 else { throw error("invalid number") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                var frac = 0
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                    index += 1
                    frac += 1
                }
                guard frac > 0 else { throw error("invalid number: digits expected after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                var exp = 0
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                    index += 1
                    exp += 1
                }
                guard exp > 0 else { throw error("invalid number: digits expected in exponent") }
            }
            if isInteger, index - start <= 18 {
                // Up to 18 digits cannot overflow Int64, so no String round trip is needed.
                var v: Int64 = 0
                var i = start
                let negative = bytes[i] == UInt8(ascii: "-")
                if negative { i += 1 }
                while i < index { v = v * 10 + Int64(bytes[i] - UInt8(ascii: "0")); i += 1 }
                return .int(negative ? -v : v)
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isInteger, let i = Int64(text) { return .int(i) }
            guard let d = Double(text), d.isFinite else { throw error("number out of range") }
            return .double(d)
        }
    }
}
