import Foundation

/// Timestamps and durations: RFC 3339 parsing and printing, Go-style duration strings
/// (`1h30m`, `1.5s`, `-3ms`), and the accessors (`getFullYear`, `getHours`, ...) in UTC or a
/// time zone (`"America/New_York"`, `"+05:30"`), on the proleptic Gregorian calendar.
enum Times {
    static let accessors: Set<String> = [
        "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfYear", "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    ]
    static let durationAccessors: Set<String> = ["getHours", "getMinutes", "getSeconds", "getMilliseconds"]

    // MARK: Civil calendar (days since 1970-01-01 <-> y/m/d)

    static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    // MARK: Timestamps

    static func parseTimestamp(_ s: String) throws(CELError) -> Timestamp {
        let c = Array(s.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= c.count else { return nil }
            var v: Int64 = 0
            for b in c[from..<(from + count)] {
                guard b >= 48 && b <= 57 else { return nil }
                v = v * 10 + Int64(b - 48)
            }
            return v
        }
        let bad = CELError("timestamp parse error: \"\(s)\" is not an RFC 3339 time such as 2006-01-02T15:04:05Z")
        guard c.count >= 20, let year = num(0, 4), c[4] == 45, let month = num(5, 2), c[7] == 45, let day = num(8, 2), c[10] == 84 || c[10] == 116,
            let hour = num(11, 2), c[13] == 58, let minute = num(14, 2), c[16] == 58, let second = num(17, 2)
        else { throw bad }
        guard (1...12).contains(month), day >= 1, day <= 31, hour < 24, minute < 60, second < 61 else { throw bad }
        var i = 19
        var nanos: Int64 = 0
        if i < c.count, c[i] == 46 {
            i += 1
            var digits = 0
            while i < c.count, c[i] >= 48, c[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int64(c[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw bad }
            if digits < 9 { for _ in digits..<9 { nanos *= 10 } }
        }
        var offset: Int64 = 0
        guard i < c.count else { throw bad }
        if c[i] == 90 || c[i] == 122 {
            i += 1
        } else if c[i] == 43 || c[i] == 45, let oh = num(i + 1, 2), i + 3 < c.count, c[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (c[i] == 45 ? -1 : 1)
            i += 6
        } else {
            throw bad
        }
        guard i == c.count else { throw bad }
        let secs = days(fromCivil: year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
        let t = Timestamp(seconds: secs, nanos: Int32(nanos))
        guard t.isValid else { throw CELError("timestamp out of range") }
        return t
    }

    static func format(_ t: Timestamp) -> String {
        let d = floorDiv(t.seconds, 86400)
        let rem = t.seconds - d * 86400
        let (y, m, day) = civil(fromDays: d)
        var s = String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", y, m, day, rem / 3600, (rem / 60) % 60, rem % 60)
        if t.nanos != 0 {
            var frac = String(format: "%09d", t.nanos)
            while frac.hasSuffix("0") { frac.removeLast() }
            s += "." + frac
        }
        return s + "Z"
    }

    static func offset(_ zone: String?, at seconds: Int64) throws(CELError) -> Int64 {
        guard let zone, !zone.isEmpty, zone != "UTC", zone != "Z" else { return 0 }
        let u = Array(zone.utf8)
        if u.count == 6, u[0] == 43 || u[0] == 45, u[3] == 58, let h = Int64(String(zone.dropFirst().prefix(2))), let m = Int64(String(zone.suffix(2))) {
            return (h * 3600 + m * 60) * (u[0] == 45 ? -1 : 1)
        }
        if u.count == 5, u[2] == 58, let h = Int64(String(zone.prefix(2))), let m = Int64(String(zone.suffix(2))) {
            return h * 3600 + m * 60
        }
        guard let tz = TimeZone(identifier: zone) else { throw CELError("unknown time zone: \(zone)") }
        return Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    static func timestampPart(_ name: String, _ t: Timestamp, zone: String?) throws(CELError) -> Value {
        let local = t.seconds + (try offset(zone, at: t.seconds))
        let d = floorDiv(local, 86400)
        let rem = local - d * 86400
        let (y, m, day) = civil(fromDays: d)
        switch name {
        case "getFullYear": return .int(y)
        case "getMonth": return .int(m - 1)
        case "getDate": return .int(day)
        case "getDayOfMonth": return .int(day - 1)
        case "getDayOfYear": return .int(d - days(fromCivil: y, 1, 1))
        case "getDayOfWeek": return .int(((d % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
        case "getHours": return .int(rem / 3600)
        case "getMinutes": return .int((rem / 60) % 60)
        case "getSeconds": return .int(rem % 60)
        default: return .int(Int64(t.nanos) / 1_000_000)
        }
    }

    // MARK: Durations

    static func durationPart(_ name: String, _ d: Duration) -> Value {
        switch name {
        case "getHours": return .int(d.seconds / 3600)
        case "getMinutes": return .int(d.seconds / 60)
        case "getSeconds": return .int(d.seconds)
        // The milliseconds component, not the total (as CEL's conformance suite specifies).
        default: return .int(Int64(d.nanos) / 1_000_000)
        }
    }

    /// Go's `time.ParseDuration` grammar: `[-+]` then number-unit pairs (`ns`, `us`, `µs`,
    /// `ms`, `s`, `m`, `h`), numbers possibly fractional; `0` alone is allowed.
    static func parseDuration(_ text: String) throws(CELError) -> Duration {
        let bad = CELError("invalid duration \"\(text)\": use numbers with units h, m, s, ms, us or ns, such as 1h30m or 1.5s")
        var s = Substring(text)
        var negative = false
        if s.first == "-" || s.first == "+" {
            negative = s.first == "-"
            s = s.dropFirst()
        }
        if s == "0" { return Duration(seconds: 0) }
        guard !s.isEmpty else { throw bad }
        var totalNanos: Double = 0
        var wholeNanos: Int64 = 0
        while !s.isEmpty {
            var number = ""
            while let c = s.first, c.isNumber || c == "." {
                number.append(c)
                s = s.dropFirst()
            }
            guard !number.isEmpty, let value = Double(number) else { throw bad }
            var unit = ""
            while let c = s.first, !(c.isNumber || c == ".") {
                unit.append(c)
                s = s.dropFirst()
            }
            let scale: Int64
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1000
            case "ms": scale = 1_000_000
            case "s": scale = 1_000_000_000
            case "m": scale = 60_000_000_000
            case "h": scale = 3_600_000_000_000
            default: throw bad
            }
            if let whole = Int64(number) {
                let (p, o1) = whole.multipliedReportingOverflow(by: scale)
                let (sum, o2) = wholeNanos.addingReportingOverflow(p)
                if o1 || o2 { throw CELError("duration out of range: \(text)") }
                wholeNanos = sum
            } else {
                totalNanos += value * Double(scale)
            }
        }
        let extra = Int64(totalNanos.rounded())
        let (n, o) = wholeNanos.addingReportingOverflow(extra)
        if o { throw CELError("duration out of range: \(text)") }
        let signed = negative ? -n : n
        return try Duration.normalized(seconds: signed / 1_000_000_000, nanos: signed % 1_000_000_000)
    }

    /// CEL prints durations as seconds: `1.5s`, `3600s`, `-0.001s`.
    static func format(_ d: Duration) -> String {
        var s = d.seconds < 0 || d.nanos < 0 ? "-" : ""
        s += String(abs(d.seconds))
        if d.nanos != 0 {
            var frac = String(format: "%09d", abs(d.nanos))
            while frac.hasSuffix("0") { frac.removeLast() }
            s += "." + frac
        }
        return s + "s"
    }
}
