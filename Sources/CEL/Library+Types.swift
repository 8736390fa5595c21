import Foundation

/// Constructors and predicates of the Kubernetes library types: `url`/`isURL`,
/// `quantity`/`isQuantity`, `ip`/`isIP`, `cidr`/`isCIDR`, `semver`/`isSemver`.
enum Constructors {
    static func call(_ name: String, _ args: [Value]) throws(CELError) -> Value? {
        guard args.count >= 1, case .string(let s) = args[0] else { return nil }
        switch (name, args.count) {
        case ("url", 1): return .opaque(try URLValue(s))
        case ("isURL", 1): return .bool((try? URLValue(s)) != nil)
        case ("quantity", 1): return .opaque(try Quantity(s))
        case ("isQuantity", 1): return .bool((try? Quantity(s)) != nil)
        case ("ip", 1): return .opaque(try IPAddress(s))
        case ("isIP", 1): return .bool((try? IPAddress(s)) != nil)
        case ("cidr", 1): return .opaque(try CIDR(s))
        case ("isCIDR", 1): return .bool((try? CIDR(s)) != nil)
        case ("semver", 1): return .opaque(try Semver(s, normalize: false))
        case ("semver", 2):
            guard case .bool(let n) = args[1] else { return nil }
            return .opaque(try Semver(s, normalize: n))
        case ("isSemver", 1): return .bool((try? Semver(s, normalize: false)) != nil)
        case ("isSemver", 2):
            guard case .bool(let n) = args[1] else { return nil }
            return .bool((try? Semver(s, normalize: n)) != nil)
        default: return nil
        }
    }
}

// MARK: URL

struct URLValue: MethodProvider, CustomStringConvertible {
    var typeName: String { "kubernetes.URL" }
    let text: String
    let components: URLComponents

    init(_ s: String) throws(CELError) {
        guard let c = URLComponents(string: s), (c.scheme != nil && (c.host != nil || !c.path.isEmpty)) || (c.scheme == nil && s.hasPrefix("/")) else {
            throw CELError("URL parse error during conversion from string: \(s)")
        }
        text = s
        components = c
    }

    var description: String { text }
    func isEqual(to other: any OpaqueValue) -> Bool { (other as? URLValue)?.text == text }

    func call(_ name: String, _ args: [Value]) throws(CELError) -> Value {
        guard args.isEmpty else { throw CELError("\(name) takes no arguments") }
        switch name {
        case "getScheme": return .string(components.scheme ?? "")
        case "getHostname": return .string(components.host.map { $0.hasPrefix("[") ? String($0.dropFirst().dropLast()) : $0 } ?? "")
        case "getHost":
            guard var host = components.host else { return .string("") }
            if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
            return .string(host + (components.port.map { ":\($0)" } ?? ""))
        case "getPort": return .string(components.port.map(String.init) ?? "")
        case "getEscapedPath": return .string(components.percentEncodedPath)
        case "getQuery":
            var entries: [(Value, Value)] = []
            var grouped: [String: [String]] = [:]
            var order: [String] = []
            for item in components.queryItems ?? [] {
                if grouped[item.name] == nil { order.append(item.name) }
                grouped[item.name, default: []].append(item.value ?? "")
            }
            for k in order { entries.append((.string(k), .list(grouped[k]!.map(Value.string)))) }
            return .map(try MapValue(entries))
        default: throw CELError("found no matching overload for '\(name)' on url")
        }
    }
}

// MARK: Quantity

/// A Kubernetes resource quantity (`500m`, `1.5Gi`, `2e3`), exact as a decimal.
struct Quantity: MethodProvider, ComparableOpaque, CustomStringConvertible {
    var typeName: String { "kubernetes.Quantity" }
    let value: Decimal
    let text: String

    static let suffixes: [(String, Decimal)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976),
        ("n", Decimal(string: "0.000000001")!), ("u", Decimal(string: "0.000001")!), ("m", Decimal(string: "0.001")!), ("k", 1000), ("M", 1_000_000),
        ("G", 1_000_000_000), ("T", 1_000_000_000_000), ("P", 1_000_000_000_000_000), ("E", 1_000_000_000_000_000_000),
    ]

    init(_ s: String) throws(CELError) {
        let bad = CELError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': \(s)")
        var number = Substring(s)
        var multiplier: Decimal = 1
        if let (suffix, m) = Self.suffixes.first(where: { s.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            multiplier = m
        } else if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }), let exp = Int(s[s.index(after: e)...]) {
            number = s[..<e]
            multiplier = Decimal(sign: .plus, exponent: exp, significand: 1)
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "+" || $0 == "-" }), number.filter({ $0 == "." }).count <= 1,
            !number.dropFirst().contains(where: { $0 == "+" || $0 == "-" }), let d = Decimal(string: String(number))
        else { throw bad }
        value = d * multiplier
        text = s
    }

    init(value: Decimal) {
        self.value = value
        text = "\(value)"
    }

    var description: String { text }
    func isEqual(to other: any OpaqueValue) -> Bool { (other as? Quantity)?.value == value }

    func compare(to other: any OpaqueValue) throws(CELError) -> Int {
        guard let o = other as? Quantity else { throw CELError("cannot compare a quantity with \(other.typeName)") }
        return value < o.value ? -1 : (value > o.value ? 1 : 0)
    }

    var isInteger: Bool {
        var v = value
        var r = Decimal()
        NSDecimalRound(&r, &v, 0, .down)
        return r == value
    }

    func operand(_ v: Value) throws(CELError) -> Decimal {
        switch v {
        case .opaque(let q as Quantity): return q.value
        case .int(let i): return Decimal(i)
        default: throw CELError("quantity arithmetic needs a quantity or an int, not \(v.typeName)")
        }
    }

    func call(_ name: String, _ args: [Value]) throws(CELError) -> Value {
        switch (name, args.count) {
        case ("isInteger", 0): return .bool(isInteger && abs(value) <= Decimal(Int64.max))
        case ("asInteger", 0):
            guard isInteger, abs(value) <= Decimal(Int64.max) else { throw CELError("cannot convert value to integer") }
            return .int(NSDecimalNumber(decimal: value).int64Value)
        case ("asApproximateFloat", 0): return .double(NSDecimalNumber(decimal: value).doubleValue)
        case ("sign", 0): return .int(value > 0 ? 1 : (value < 0 ? -1 : 0))
        case ("add", 1): return .opaque(Quantity(value: value + (try operand(args[0]))))
        case ("sub", 1): return .opaque(Quantity(value: value - (try operand(args[0]))))
        case ("isGreaterThan", 1): return .bool(value > (try operand(args[0])))
        case ("isLessThan", 1): return .bool(value < (try operand(args[0])))
        case ("compareTo", 1):
            let o = try operand(args[0])
            return .int(value < o ? -1 : (value > o ? 1 : 0))
        default: throw CELError("found no matching overload for '\(name)' on quantity")
        }
    }
}

// MARK: IP and CIDR

/// An IPv4 or IPv6 address, parsed strictly (no zones, no IPv4-mapped IPv6, no leading zeros).
struct IPAddress: MethodProvider, CustomStringConvertible {
    var typeName: String { "net.IP" }
    let bytes: [UInt8]

    init(_ s: String) throws(CELError) {
        guard let b = Self.parse(s) else { throw CELError("IP Address \"\(s)\" parse error during conversion from string") }
        bytes = b
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    static func parse(_ s: String) -> [UInt8]? {
        if s.contains(":") {
            guard !s.contains("%"), !s.contains(".") else { return nil }
            var out = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET6, s, &out) == 1 else { return nil }
            return out
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isNumber), p == "0" || !p.hasPrefix("0"), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    var family: Int64 { bytes.count == 4 ? 4 : 6 }

    var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: 64)
        var b = bytes
        inet_ntop(AF_INET6, &b, &buffer, 64)
        return String(cString: buffer)
    }

    func isEqual(to other: any OpaqueValue) -> Bool { (other as? IPAddress)?.bytes == bytes }

    func call(_ name: String, _ args: [Value]) throws(CELError) -> Value {
        guard args.isEmpty else { throw CELError("\(name) takes no arguments") }
        let v4 = bytes.count == 4
        switch name {
        case "family": return .int(family)
        case "isUnspecified": return .bool(bytes.allSatisfy { $0 == 0 })
        case "isLoopback": return .bool(v4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1])
        case "isLinkLocalMulticast": return .bool(v4 ? bytes[0] == 224 && bytes[1] == 0 && bytes[2] == 0 : bytes[0] == 0xFF && (bytes[1] & 0x0F) == 2)
        case "isLinkLocalUnicast": return .bool(v4 ? bytes[0] == 169 && bytes[1] == 254 : bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80)
        case "isGlobalUnicast":
            let unspecified = bytes.allSatisfy { $0 == 0 }
            let loopback = v4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
            let multicast = v4 ? bytes[0] >= 224 && bytes[0] <= 239 : bytes[0] == 0xFF
            let linkLocal = v4 ? bytes[0] == 169 && bytes[1] == 254 : bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80
            let broadcast = v4 && bytes == [255, 255, 255, 255]
            return .bool(!(unspecified || loopback || multicast || linkLocal || broadcast))
        default: throw CELError("found no matching overload for '\(name)' on ip")
        }
    }
}

struct CIDR: MethodProvider, CustomStringConvertible {
    var typeName: String { "net.IPPrefix" }
    let address: IPAddress
    let prefix: Int

    init(_ s: String) throws(CELError) {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IPAddress.parse(String(parts[0])), let p = Int(parts[1]), parts[1].allSatisfy(\.isNumber), p >= 0, p <= ip.count * 8 else {
            throw CELError("network address parse error during conversion from string: \(s)")
        }
        address = IPAddress(bytes: ip)
        prefix = p
    }

    var description: String { "\(address)/\(prefix)" }
    func isEqual(to other: any OpaqueValue) -> Bool { (other as? CIDR).map { $0.address.bytes == address.bytes && $0.prefix == prefix } ?? false }

    func masked(_ bytes: [UInt8], _ bits: Int) -> [UInt8] {
        bytes.enumerated().map { i, b in
            let keep = max(0, min(8, bits - i * 8))
            return keep == 8 ? b : b & UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
    }

    func contains(_ ip: [UInt8]) -> Bool { ip.count == address.bytes.count && masked(ip, prefix) == masked(address.bytes, prefix) }

    func call(_ name: String, _ args: [Value]) throws(CELError) -> Value {
        switch (name, args.count) {
        case ("containsIP", 1):
            switch args[0] {
            case .string(let s): return .bool(contains(try IPAddress(s).bytes))
            case .opaque(let ip as IPAddress): return .bool(contains(ip.bytes))
            default: throw CELError("containsIP needs an ip or a string")
            }
        case ("containsCIDR", 1):
            let other: CIDR
            switch args[0] {
            case .string(let s): other = try CIDR(s)
            case .opaque(let c as CIDR): other = c
            default: throw CELError("containsCIDR needs a cidr or a string")
            }
            return .bool(other.prefix >= prefix && contains(other.address.bytes))
        case ("ip", 0): return .opaque(address)
        case ("masked", 0): return .opaque(try CIDR("\(IPAddress(bytes: masked(address.bytes, prefix)))/\(prefix)"))
        case ("prefixLength", 0): return .int(Int64(prefix))
        default: throw CELError("found no matching overload for '\(name)' on cidr")
        }
    }
}

// MARK: Semver

struct Semver: MethodProvider, ComparableOpaque, CustomStringConvertible {
    var typeName: String { "kubernetes.Semver" }
    let major: Int64, minor: Int64, patch: Int64
    let prerelease: [String]

    init(_ s: String, normalize: Bool) throws(CELError) {
        var text = Substring(s)
        if normalize && text.hasPrefix("v") { text = text.dropFirst() }
        let build = text.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
        let pre = build[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        var nums = pre[0].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if normalize { while nums.count < 3 { nums.append("0") } }
        let bad = CELError("invalid semver: \(s)")
        guard nums.count == 3 else { throw bad }
        var parsed: [Int64] = []
        for n in nums {
            guard !n.isEmpty, n.allSatisfy(\.isNumber), n == "0" || !n.hasPrefix("0") || normalize, let v = Int64(n) else { throw bad }
            parsed.append(v)
        }
        (major, minor, patch) = (parsed[0], parsed[1], parsed[2])
        prerelease = pre.count == 2 ? pre[1].split(separator: ".", omittingEmptySubsequences: false).map(String.init) : []
        if pre.count == 2 && prerelease.contains(where: \.isEmpty) { throw bad }
    }

    var description: String { "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: ".")) }
    func isEqual(to other: any OpaqueValue) -> Bool { (try? compare(to: other)) == 0 }

    func compare(to other: any OpaqueValue) throws(CELError) -> Int {
        guard let o = other as? Semver else { throw CELError("cannot compare a semver with \(other.typeName)") }
        for (a, b) in [(major, o.major), (minor, o.minor), (patch, o.patch)] where a != b { return a < b ? -1 : 1 }
        if prerelease == o.prerelease { return 0 }
        if prerelease.isEmpty { return 1 }
        if o.prerelease.isEmpty { return -1 }
        for (a, b) in zip(prerelease, o.prerelease) where a != b {
            switch (Int64(a), Int64(b)) {
            case (let x?, let y?): return x < y ? -1 : 1
            case (_?, nil): return -1
            case (nil, _?): return 1
            default: return a < b ? -1 : 1
            }
        }
        return prerelease.count < o.prerelease.count ? -1 : 1
    }

    func call(_ name: String, _ args: [Value]) throws(CELError) -> Value {
        switch (name, args.count) {
        case ("major", 0): return .int(major)
        case ("minor", 0): return .int(minor)
        case ("patch", 0): return .int(patch)
        case ("isGreaterThan", 1), ("isLessThan", 1), ("compareTo", 1):
            guard case .opaque(let o) = args[0] else { throw CELError("\(name) needs a semver") }
            let c = try compare(to: o)
            return name == "compareTo" ? .int(Int64(c)) : .bool(name == "isGreaterThan" ? c > 0 : c < 0)
        default: throw CELError("found no matching overload for '\(name)' on semver")
        }
    }
}

// MARK: format

/// `"%s is %d".format([a, b])`: the verbs `%s %d %f %e %b %o %x %X %%`, with a precision
/// for `%f` and `%e` (`%.2f`).
enum Format {
    static func format(_ template: String, _ values: [Value]) throws(CELError) -> String {
        var out = ""
        var next = 0
        var chars = template.makeIterator()
        func arg(_ verb: Character) throws(CELError) -> Value {
            guard next < values.count else { throw CELError("index \(next) out of range: format has more verbs than arguments") }
            defer { next += 1 }
            return values[next]
        }
        while let c = chars.next() {
            guard c == "%" else { out.append(c); continue }
            var precision: Int?
            var verb = chars.next()
            if verb == "." {
                var digits = ""
                while let d = chars.next() {
                    if d.isNumber { digits.append(d) } else { verb = d; break }
                }
                precision = Int(digits)
            }
            guard let v = verb else { throw CELError("format string ends in '%'") }
            switch v {
            case "%": out.append("%")
            case "s": out += try string(try arg(v))
            case "d":
                switch try arg(v) {
                case .int(let i): out += String(i)
                case .uint(let u): out += String(u)
                case .double(let d) where d.isNaN || d.isInfinite: out += d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")
                case let other: throw CELError("error during formatting: decimal clause can only be used on integers, was given \(other.typeName)")
                }
            case "f", "e":
                let value = try arg(v)
                guard case .double(let d) = (try? Conversions.toDouble(value)) ?? .null else { throw CELError("error during formatting: fixed-point clause can only be used on doubles, was given \(value.typeName)") }
                if d.isNaN || d.isInfinite { out += d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity") } else { out += String(format: "%.\(precision ?? 6)\(v)", d) }
            case "b", "o", "x", "X":
                let radix = v == "b" ? 2 : (v == "o" ? 8 : 16)
                switch try arg(v) {
                case .int(let i): out += (i < 0 ? "-" : "") + String(i.magnitude, radix: radix, uppercase: v == "X")
                case .uint(let u): out += String(u, radix: radix, uppercase: v == "X")
                case .bool(let b) where radix == 2: out += b ? "1" : "0"
                case .string(let s) where radix == 16: out += s.utf8.map { String(format: v == "X" ? "%02X" : "%02x", $0) }.joined()
                case .bytes(let b) where radix == 16: out += b.map { String(format: v == "X" ? "%02X" : "%02x", $0) }.joined()
                case let other: throw CELError("error during formatting: only integers, strings and bytes can be formatted in base \(radix), was given \(other.typeName)")
                }
            default: throw CELError("could not parse formatting clause: unrecognized formatting clause \"\(v)\"")
            }
        }
        return out
    }

    static func string(_ v: Value) throws(CELError) -> String {
        switch v {
        case .list(let l): return "[" + (try l.map { x throws(CELError) in try string(x) }).joined(separator: ", ") + "]"
        case .map(let m):
            return "{" + (try m.entries.map { e throws(CELError) in try string(e.key) + ": " + string(e.value) }).joined(separator: ", ") + "}"
        case .null: return "null"
        default:
            guard case .string(let s) = try Conversions.toString(v) else { return "" }
            return s
        }
    }
}
