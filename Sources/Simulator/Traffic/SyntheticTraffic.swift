import Foundation
import LLMOpsCore

/// Synthetic request traffic with the features that make LLM serving hard to size: bursty
/// arrivals and heavy-tailed prompt and output lengths. It exists so that decisions are checked
/// on traffic nobody tuned for: the benchmark keeps some seeds for testing only.
///
/// Arrivals are a renewal process with Gamma inter-arrival times (coefficient of variation
/// `arrivalCV`; 1 is Poisson, larger is burstier) whose rate is modulated by a two-state
/// Markov chain (an MMPP: calm and burst states with exponential sojourns) and a slow daily-like
/// swing, so a fleet must both ride bursts and follow the trend. Each arrival may bring a batch
/// of requests at once (`meanBatchSize`, geometric sizes): clients that fan one action out into
/// many completions, or submit evaluation and code-assist jobs together, arrive this way, and
/// a minute's rate then hides a spike no smooth arrival process shows. Lengths are log-normal with a
/// Pareto tail mixed in (share `tailShare`), the shape the Azure 2023 traces and
/// BurstGPT (Wang et al., 2024) report for prompts.
public struct TrafficSpec: Sendable, Hashable {
    public var durationSeconds: Double
    /// Mean arrival rate over the whole trace, requests per second.
    public var meanRate: Double
    public var arrivalCV: Double
    /// Rate in the burst state over the rate in the calm state (1 disables the MMPP).
    public var burstRatio: Double
    public var meanCalmSeconds: Double
    public var meanBurstSeconds: Double
    /// Relative amplitude of the slow swing (0 = flat), one full period over the trace.
    public var swing: Double
    /// Mean number of requests per arrival (geometric sizes; 1 = one request per arrival).
    public var meanBatchSize: Double
    public var input: LengthDistribution
    public var output: LengthDistribution

    public init(
        durationSeconds: Double, meanRate: Double, arrivalCV: Double = 1, burstRatio: Double = 1, meanCalmSeconds: Double = 300,
        meanBurstSeconds: Double = 60, swing: Double = 0, meanBatchSize: Double = 1, input: LengthDistribution, output: LengthDistribution
    ) {
        self.meanBatchSize = meanBatchSize
        self.durationSeconds = durationSeconds
        self.meanRate = meanRate
        self.arrivalCV = arrivalCV
        self.burstRatio = burstRatio
        self.meanCalmSeconds = meanCalmSeconds
        self.meanBurstSeconds = meanBurstSeconds
        self.swing = swing
        self.input = input
        self.output = output
    }

    /// Why the spec cannot generate traffic (field and reason), or nil.
    public func validate() -> String? {
        if !(durationSeconds.isFinite && durationSeconds > 0) { return "duration must be a positive number of seconds" }
        if !(meanRate.isFinite && meanRate > 0) { return "rate must be a positive number of requests per second" }
        if !(arrivalCV.isFinite && arrivalCV > 0) { return "arrival CV must be positive" }
        if !(burstRatio.isFinite && burstRatio >= 1) { return "burst ratio must be at least 1" }
        if !(meanCalmSeconds > 0 && meanBurstSeconds > 0) { return "calm and burst durations must be positive" }
        if !(swing >= 0 && swing < 1) { return "swing must be in [0, 1)" }
        if !(meanBatchSize.isFinite && meanBatchSize >= 1) { return "mean batch size must be at least 1 request" }
        return input.validate().map { "input: \($0)" } ?? output.validate().map { "output: \($0)" }
    }

    /// Named shapes for the benchmark and the CLI.
    public static func preset(_ name: String, rate: Double, duration: Double) -> TrafficSpec? {
        switch name {
        case "bursty":
            // Chat-like lengths, bursts of 4x lasting about a minute every few minutes.
            return TrafficSpec(
                durationSeconds: duration, meanRate: rate, arrivalCV: 1.5, burstRatio: 4, meanCalmSeconds: 240, meanBurstSeconds: 60, swing: 0.4,
                input: LengthDistribution(median: 900, sigma: 1.0, tailShare: 0.03, tailAlpha: 1.5, maximum: 16_000),
                output: LengthDistribution(median: 220, sigma: 0.8, tailShare: 0.02, tailAlpha: 2, maximum: 2_000))
        case "long-context":
            // Retrieval/agent-like: long prompts with a heavy tail, short answers, clustered arrivals.
            return TrafficSpec(
                durationSeconds: duration, meanRate: rate, arrivalCV: 2.5, burstRatio: 2, meanCalmSeconds: 400, meanBurstSeconds: 120, swing: 0.3,
                input: LengthDistribution(median: 6_000, sigma: 0.9, tailShare: 0.05, tailAlpha: 1.2, maximum: 30_000),
                output: LengthDistribution(median: 150, sigma: 0.9, tailShare: 0.02, tailAlpha: 2, maximum: 1_500))
        case "batch":
            // Requests in groups of eight on average that arrive together, modest bursts, prompts
            // a little longer and answers much shorter than chat (completion-like).
            return TrafficSpec(
                durationSeconds: duration, meanRate: rate, arrivalCV: 1.5, burstRatio: 2, meanCalmSeconds: 300, meanBurstSeconds: 90, swing: 0.3,
                meanBatchSize: 8,
                input: LengthDistribution(median: 1_500, sigma: 0.9, tailShare: 0.03, tailAlpha: 1.5, maximum: 16_000),
                output: LengthDistribution(median: 60, sigma: 1.0, tailShare: 0.02, tailAlpha: 2, maximum: 1_000))
        case "steady":
            return TrafficSpec(
                durationSeconds: duration, meanRate: rate, input: LengthDistribution(median: 1_000, sigma: 0.7, maximum: 8_000),
                output: LengthDistribution(median: 250, sigma: 0.6, maximum: 2_000))
        default:
            return nil
        }
    }

    public static let presetNames = ["bursty", "long-context", "batch", "steady"]
}

/// Token counts: log-normal body, with a share drawn from a Pareto tail above the body's
/// 95th percentile, clipped to `maximum` (a context limit).
public struct LengthDistribution: Sendable, Hashable {
    public var median: Double
    public var sigma: Double
    public var tailShare: Double
    public var tailAlpha: Double
    public var maximum: Int

    public init(median: Double, sigma: Double, tailShare: Double = 0, tailAlpha: Double = 1.5, maximum: Int) {
        self.median = median
        self.sigma = sigma
        self.tailShare = tailShare
        self.tailAlpha = tailAlpha
        self.maximum = maximum
    }

    func validate() -> String? {
        if !(median >= 1 && median.isFinite) { return "median must be at least 1 token" }
        if !(sigma >= 0 && sigma.isFinite) { return "sigma must be non-negative" }
        if !(tailShare >= 0 && tailShare < 1) { return "tail share must be in [0, 1)" }
        if !(tailAlpha > 0) { return "tail alpha must be positive" }
        if maximum < 1 { return "maximum must be at least 1 token" }
        return nil
    }

    func sample<G: RandomNumberGenerator>(_ g: inout G) -> Int {
        let value: Double
        if tailShare > 0 && Random.uniform(&g) < tailShare {
            // Pareto with scale at the body's 95th percentile (z = 1.645).
            let scale = median * exp(1.645 * sigma)
            value = scale / pow(1 - Random.uniform(&g), 1 / tailAlpha)
        } else {
            value = median * exp(sigma * Random.normal(&g))
        }
        return max(1, min(maximum, Int(value.rounded())))
    }
}

public enum TrafficGenerator {
    /// Requests sorted by arrival, starting near 0. Deterministic for a seed.
    public static func generate(_ spec: TrafficSpec, seed: UInt64) -> [TraceRequest] {
        var g = SeededGenerator(seed: seed)
        // Calm and burst rates of arrivals (each bringing a batch) such that the time-average
        // rate of requests is `meanRate`.
        let burstShare = spec.burstRatio > 1 ? spec.meanBurstSeconds / (spec.meanBurstSeconds + spec.meanCalmSeconds) : 0
        let calmRate = spec.meanRate / spec.meanBatchSize / (1 - burstShare + burstShare * spec.burstRatio)
        // Geometric batch sizes on 1, 2, ... with the requested mean: P(k) = p(1 − p)^(k−1).
        let stop = 1 / spec.meanBatchSize
        var bursting = false
        var stateEnds = Random.exponential(&g, mean: spec.meanCalmSeconds)
        // Gamma inter-arrival times with shape k = 1/CV² have the requested CV; time runs in
        // "unit-rate" time and is stretched by the current rate, which keeps the CV while
        // the rate moves.
        let shape = 1 / (spec.arrivalCV * spec.arrivalCV)
        var t = 0.0
        var requests: [TraceRequest] = []
        while true {
            let rate = calmRate * (bursting ? spec.burstRatio : 1) * (1 + spec.swing * sin(2 * Double.pi * t / spec.durationSeconds - Double.pi / 2))
            t += Random.gamma(&g, shape: shape) / shape / max(rate, 1e-9)
            while t >= stateEnds {
                bursting.toggle()
                stateEnds += Random.exponential(&g, mean: bursting ? spec.meanBurstSeconds : spec.meanCalmSeconds)
            }
            if t >= spec.durationSeconds { break }
            repeat {
                requests.append(TraceRequest(arrival: t, inputTokens: spec.input.sample(&g), outputTokens: spec.output.sample(&g)))
            } while stop < 1 && Random.uniform(&g) >= stop
        }
        return requests
    }
}

/// Samplers over an injected generator.
enum Random {
    /// Uniform in [0, 1).
    static func uniform<G: RandomNumberGenerator>(_ g: inout G) -> Double { Double(g.next() >> 11) * 0x1.0p-53 }

    static func exponential<G: RandomNumberGenerator>(_ g: inout G, mean: Double) -> Double { -mean * log(1 - uniform(&g)) }

    /// Standard normal by Box–Muller.
    static func normal<G: RandomNumberGenerator>(_ g: inout G) -> Double {
        let u1 = 1 - uniform(&g), u2 = uniform(&g)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (ACM TOMS 2000); shapes below 1 use the boost
    /// Gamma(k) = Gamma(k + 1) · U^(1/k).
    static func gamma<G: RandomNumberGenerator>(_ g: inout G, shape: Double) -> Double {
        if shape < 1 {
            return gamma(&g, shape: shape + 1) * pow(1 - uniform(&g), 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = normal(&g)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = uniform(&g)
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
