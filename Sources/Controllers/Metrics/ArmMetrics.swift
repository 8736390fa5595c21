import Foundation
import KubeModel

/// What a canary analysis needs from one arm (baseline or canary) over an interval: request
/// and error counts, and latency distributions as vLLM exposes them (histogram bucket counts,
/// not raw samples).
public struct ArmWindow: Sendable, Equatable {
    public var requests: Double = 0
    public var errors: Double = 0
    var ttft: CumulativeHistogram?
    var tpot: CumulativeHistogram?
}

/// Cumulative counters of one arm's Pods at a moment, to subtract from a later reading.
struct ArmReading: Sendable {
    struct PodCounters: Sendable {
        var success: Double
        var aborted: Double
        var ttft: CumulativeHistogram?
        var tpot: CumulativeHistogram?
    }
    var pods: [String: PodCounters] = [:]

    /// What happened since `start`. A Pod absent from `start` counts from zero (it started
    /// within the window); one whose counters went down restarted and counts from zero too.
    func since(_ start: ArmReading) -> ArmWindow {
        var w = ArmWindow()
        for (uid, now) in pods {
            let before = start.pods[uid]
            let reset = before.map { now.success < $0.success } ?? false
            let base = reset ? nil : before
            w.requests += now.success - (base?.success ?? 0)
            w.errors += now.aborted - (base?.aborted ?? 0)
            func delta(_ a: CumulativeHistogram?, _ b: CumulativeHistogram?) -> CumulativeHistogram? {
                guard let a else { return nil }
                guard let b else { return a }
                return a.minus(b) ?? a
            }
            if let d = delta(now.ttft, base?.ttft) { w.ttft = w.ttft.map { $0.plus(d) } ?? d }
            if let d = delta(now.tpot, base?.tpot) { w.tpot = w.tpot.map { $0.plus(d) } ?? d }
        }
        return w
    }
}

extension CumulativeHistogram {
    /// Pseudo-samples that reproduce the bucket counts: the n observations of a bucket spread
    /// evenly (on a log scale) between its bounds. Rank and log-mean tests on these see the
    /// same shifts between buckets a regression causes; resolution is the buckets'.
    func pseudoSamples(limit: Int = 20_000) -> [Double] {
        var out: [Double] = []
        var previousLE = 0.0
        var previousCount = 0.0
        let total = count
        let scale = total > Double(limit) ? Double(limit) / total : 1
        for b in buckets {
            let n = Int(((b.count - previousCount) * scale).rounded())
            if n > 0 {
                let hi = b.le.isInfinite ? max(previousLE * 2, 1) : b.le
                let lo = max(previousLE, hi / 10, 1e-6)
                for i in 0..<n {
                    let f = (Double(i) + 0.5) / Double(n)
                    out.append(lo * pow(hi / lo, f))
                }
            }
            previousLE = b.le.isInfinite ? previousLE : b.le
            previousCount = b.count
        }
        return out
    }
}

/// Reads the cumulative counters of a set of Pods from their `/metrics`.
protocol ArmScraper: Sendable {
    func read(_ pods: [Pod]) async -> ArmReading
}

extension PodMetricsScraper: ArmScraper {
    func read(_ pods: [Pod]) async -> ArmReading {
        var reading = ArmReading()
        for (uid, text) in await fetch(pods) {
            let samples = PrometheusText.parse(text)
            let success = samples.filter { $0.name == "vllm:request_success_total" && $0.labels["finished_reason"] != "abort" }.reduce(0) { $0 + $1.value }
            let aborted = samples.filter { $0.name == "vllm:request_success_total" && $0.labels["finished_reason"] == "abort" }.reduce(0) { $0 + $1.value }
            reading.pods[uid] = .init(
                success: success + aborted, aborted: aborted, ttft: CumulativeHistogram.from(samples, name: "vllm:time_to_first_token_seconds"),
                tpot: CumulativeHistogram.from(samples, name: "vllm:time_per_output_token_seconds"))
        }
        return reading
    }
}
