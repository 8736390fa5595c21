import Foundation

/// Running mean and variance (Welford's algorithm), mergeable, so controllers can keep a
/// summary per interval instead of every sample.
public struct RunningStats: Sendable, Hashable {
    public private(set) var count: Int = 0
    public private(set) var mean: Double = 0
    private var m2: Double = 0

    public init() {}

    public init<S: Sequence>(_ values: S) where S.Element == Double {
        for v in values { add(v) }
    }

    public mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
    }

    /// Sample variance (n − 1 denominator); 0 below two samples.
    public var variance: Double { count > 1 ? m2 / Double(count - 1) : 0 }

    /// Chan et al.'s parallel combination of two summaries.
    public func merged(with other: RunningStats) -> RunningStats {
        guard other.count > 0 else { return self }
        guard count > 0 else { return other }
        var out = RunningStats()
        out.count = count + other.count
        let delta = other.mean - mean
        out.mean = mean + delta * Double(other.count) / Double(out.count)
        out.m2 = m2 + other.m2 + delta * delta * Double(count) * Double(other.count) / Double(out.count)
        return out
    }
}

enum Normal {
    /// Upper-tail probability P(Z > z) of the standard normal.
    static func survival(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }

    /// Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9,
    /// refined by one Newton step).
    static func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1)
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }
}

/// The Mann–Whitney U test, one-sided, as Kayenta's judge uses it: is the canary's metric
/// stochastically larger (worse) than the baseline's inflated by the allowed regression?
public enum MannWhitney {
    public struct Outcome: Sendable, Hashable {
        public var u: Double
        public var z: Double
        /// One-sided p-value for "canary worse than baseline × (1 + margin)".
        public var pValue: Double
    }

    /// Normal approximation with tie correction and continuity correction (Mann & Whitney
    /// 1947; the tie-corrected variance is in any nonparametrics text, e.g. Hollander & Wolfe).
    public static func test(baseline: [Double], canary: [Double], margin: Double) -> Outcome? {
        let n1 = baseline.count, n2 = canary.count
        guard n1 > 0, n2 > 0 else { return nil }
        // Label 0 = baseline (scaled by the margin), 1 = canary.
        var all = baseline.map { ($0 * (1 + margin), 0) } + canary.map { ($0, 1) }
        all.sort { $0.0 < $1.0 }
        var rankSumCanary = 0.0
        var tieTerm = 0.0
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count, all[j + 1].0 == all[i].0 { j += 1 }
            let avgRank = Double(i + j + 2) / 2
            let t = Double(j - i + 1)
            if t > 1 { tieTerm += t * t * t - t }
            for k in i...j where all[k].1 == 1 { rankSumCanary += avgRank }
            i = j + 1
        }
        let a = Double(n1), b = Double(n2)
        let u = rankSumCanary - b * (b + 1) / 2  // canary's U: pairs where canary > baseline
        let mean = a * b / 2
        let n = a + b
        let variance = a * b / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return Outcome(u: u, z: 0, pValue: 0.5) }
        let z = (u - mean - 0.5) / variance.squareRoot()
        return Outcome(u: u, z: z, pValue: Normal.survival(z))
    }
}

/// The mixture sequential probability ratio test (mSPRT) of Johari, Pekelis and Walsh,
/// "Always Valid Inference: Bringing Sequential Analysis to A/B Testing" (2017/2022): for an
/// estimate Δ with variance V and a normal mixing prior of variance τ² on the effect,
/// Λ = sqrt(V/(V+τ²)) · exp(τ²·Δ² / (2V(V+τ²))). Rejecting when Λ ≥ 1/α keeps the false-alarm
/// rate at α however often the data are checked, and p = min over checks of 1/Λ is an
/// always-valid p-value.
public enum MixtureSPRT {
    public struct Outcome: Sendable, Hashable {
        public var likelihoodRatio: Double
        /// 1/Λ capped at 1 (callers keep the running minimum across checks).
        public var pValue: Double
        public var estimate: Double
        public var standardError: Double
    }

    /// `estimate` is the observed effect minus the null effect θ0; `variance` its variance.
    public static func test(estimate: Double, variance: Double, tau2: Double) -> Outcome {
        guard variance > 0, variance.isFinite, estimate.isFinite else {
            return Outcome(likelihoodRatio: 1, pValue: 1, estimate: estimate, standardError: variance.squareRoot())
        }
        let logLambda = 0.5 * log(variance / (variance + tau2)) + tau2 * estimate * estimate / (2 * variance * (variance + tau2))
        let lambda = exp(min(logLambda, 700))
        return Outcome(likelihoodRatio: lambda, pValue: min(1, 1 / lambda), estimate: estimate, standardError: variance.squareRoot())
    }
}
