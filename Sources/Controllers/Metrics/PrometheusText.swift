import Foundation

/// Samples from the Prometheus text exposition format (what `/metrics` serves): one per line,
/// `name{label="value",...} number`. Comments, timestamps and malformed lines are skipped.
struct PrometheusSample: Sendable, Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

enum PrometheusText {
    static func parse(_ text: String) -> [PrometheusSample] {
        var out: [PrometheusSample] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var name = ""
            var labels: [String: String] = [:]
            var rest: Substring
            if let brace = line.firstIndex(of: "{") {
                name = String(line[..<brace])
                guard let close = line.lastIndex(of: "}") , close > brace else { continue }
                labels = parseLabels(line[line.index(after: brace)..<close])
                rest = line[line.index(after: close)...]
            } else {
                guard let space = line.firstIndex(of: " ") else { continue }
                name = String(line[..<space])
                rest = line[space...]
            }
            let fields = rest.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first, let value = parseValue(String(first)) else { continue }
            out.append(PrometheusSample(name: name, labels: labels, value: value))
        }
        return out
    }

    static func parseValue(_ s: String) -> Double? {
        switch s {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(s)
        }
    }

    static func parseLabels(_ s: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var i = s.startIndex
        while i < s.endIndex {
            guard let eq = s[i...].firstIndex(of: "=") else { break }
            let key = s[i..<eq].trimmingCharacters(in: CharacterSet(charactersIn: " ,"))
            var j = s.index(after: eq)
            guard j < s.endIndex, s[j] == "\"" else { break }
            j = s.index(after: j)
            var value = ""
            while j < s.endIndex, s[j] != "\"" {
                if s[j] == "\\", s.index(after: j) < s.endIndex {
                    j = s.index(after: j)
                    value.append(s[j] == "n" ? "\n" : s[j])
                } else {
                    value.append(s[j])
                }
                j = s.index(after: j)
            }
            labels[key] = value
            i = j < s.endIndex ? s.index(after: j) : j
        }
        return labels
    }
}

/// A cumulative histogram (`le` upper bounds and counts), as Prometheus exposes one.
struct CumulativeHistogram: Sendable, Equatable {
    var buckets: [(le: Double, count: Double)]

    static func == (a: CumulativeHistogram, b: CumulativeHistogram) -> Bool {
        a.buckets.count == b.buckets.count && zip(a.buckets, b.buckets).allSatisfy { $0.le == $1.le && $0.count == $1.count }
    }

    static func from(_ samples: [PrometheusSample], name: String) -> CumulativeHistogram? {
        var byLE: [Double: Double] = [:]
        for s in samples where s.name == name + "_bucket" {
            guard let le = s.labels["le"].flatMap(PrometheusText.parseValue) else { continue }
            byLE[le, default: 0] += s.value
        }
        guard !byLE.isEmpty else { return nil }
        return CumulativeHistogram(buckets: byLE.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// Observations between two scrapes of the same series; nil after a counter reset.
    func minus(_ earlier: CumulativeHistogram) -> CumulativeHistogram? {
        guard earlier.buckets.count == buckets.count else { return nil }
        var out: [(Double, Double)] = []
        for (a, b) in zip(buckets, earlier.buckets) {
            guard a.le == b.le, a.count >= b.count else { return nil }
            out.append((a.le, a.count - b.count))
        }
        return CumulativeHistogram(buckets: out)
    }

    func plus(_ other: CumulativeHistogram) -> CumulativeHistogram {
        guard other.buckets.count == buckets.count else { return self }
        return CumulativeHistogram(buckets: zip(buckets, other.buckets).map { ($0.le, $0.count + $1.count) })
    }

    var count: Double { buckets.last?.count ?? 0 }

    /// The q-quantile by linear interpolation within the bucket, as PromQL's
    /// `histogram_quantile` computes it; nil without observations.
    func quantile(_ q: Double) -> Double? {
        let total = count
        guard total > 0 else { return nil }
        let rank = q * total
        var previousLE = 0.0
        var previousCount = 0.0
        for b in buckets {
            if b.count >= rank {
                if b.le.isInfinite { return previousLE }
                let inBucket = b.count - previousCount
                guard inBucket > 0 else { return b.le }
                return previousLE + (b.le - previousLE) * (rank - previousCount) / inBucket
            }
            previousLE = b.le
            previousCount = b.count
        }
        return previousLE
    }
}
