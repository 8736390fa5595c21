import Foundation

/// Which test judges a step.
public enum CanaryTestKind: String, Sendable, Hashable {
    /// Fixed horizon: judged once, when the step's samples and duration are complete.
    case mannWhitney
    /// Always valid: judged at every interval without inflating false alarms.
    case sequential
}

/// Latency samples (seconds or milliseconds; any positive unit) of one metric for both arms.
public struct LatencySamples: Sendable, Hashable {
    public var metric: String
    public var baseline: [Double]
    public var canary: [Double]
    public init(metric: String, baseline: [Double], canary: [Double]) {
        self.metric = metric
        self.baseline = baseline
        self.canary = canary
    }
}

/// Request and error counts of both arms.
public struct ErrorCounts: Sendable, Hashable {
    public var baselineRequests: Int
    public var baselineErrors: Int
    public var canaryRequests: Int
    public var canaryErrors: Int
    public init(baselineRequests: Int, baselineErrors: Int, canaryRequests: Int, canaryErrors: Int) {
        self.baselineRequests = baselineRequests
        self.baselineErrors = baselineErrors
        self.canaryRequests = canaryRequests
        self.canaryErrors = canaryErrors
    }
}

public struct CanaryJudgeInput: Sendable, Hashable {
    public var latencies: [LatencySamples]
    public var errors: ErrorCounts?
    public var test: CanaryTestKind
    /// 1 − false-alarm rate, e.g. 0.99.
    public var confidence: Double
    /// Relative worsening tolerated, e.g. 0.05.
    public var maxRegression: Double
    public var minSamples: Int
    public var stepElapsedSeconds: Double
    public var stepDurationSeconds: Double
    /// Always-valid p-values from earlier checks of this step, by metric (sequential test).
    public var previousPValues: [String: Double]
    /// Scale of the relative effects the sequential test is tuned to detect (its mixing
    /// prior's standard deviation on the log scale); 0.1 suits regressions around 10%.
    public var mixingScale: Double

    public init(
        latencies: [LatencySamples], errors: ErrorCounts? = nil, test: CanaryTestKind = .sequential, confidence: Double = 0.99,
        maxRegression: Double = 0.05, minSamples: Int = 200, stepElapsedSeconds: Double = .infinity, stepDurationSeconds: Double = 0,
        previousPValues: [String: Double] = [:], mixingScale: Double = 0.1
    ) {
        self.latencies = latencies
        self.errors = errors
        self.test = test
        self.confidence = confidence
        self.maxRegression = maxRegression
        self.minSamples = minSamples
        self.stepElapsedSeconds = stepElapsedSeconds
        self.stepDurationSeconds = stepDurationSeconds
        self.previousPValues = previousPValues
        self.mixingScale = mixingScale
    }
}

public enum MetricOutcome: String, Sendable, Hashable {
    case pass, fail, inconclusive
}

public struct MetricJudgement: Sendable, Hashable {
    public var metric: String
    public var test: String
    public var baselineSamples: Int
    public var canarySamples: Int
    public var baselineMedian: Double?
    public var canaryMedian: Double?
    /// Relative change of the canary against the baseline (0.1 = 10% worse).
    public var effectSize: Double
    /// One-sided 95% upper confidence bound on the effect.
    public var effectUpperBound: Double
    public var pValue: Double
    public var outcome: MetricOutcome
}

public enum CanaryAction: String, Sendable, Hashable {
    /// Keep the current weight and gather more data.
    case `continue`
    /// This step passed: move to the next weight (or promote after the last).
    case advance
    case rollback
}

public struct CanaryVerdict: Sendable, Hashable {
    public var action: CanaryAction
    /// Multiplier for the next step's duration: below 1 for clearly healthy canaries, above
    /// 1 for marginal ones.
    public var pace: Double
    public var metrics: [MetricJudgement]
    public var explanation: Explanation
}

/// Compares canary and baseline and says continue, advance or roll back, with the numbers.
public enum CanaryJudge {
    public static func judge(_ input: CanaryJudgeInput) -> Result<CanaryVerdict, CoreError> {
        guard input.confidence > 0.5, input.confidence < 1 else {
            return .failure(.invalidInput(field: "analysis.confidence", reason: "must be in (0.5, 1)"))
        }
        guard input.maxRegression >= 0, input.maxRegression.isFinite else {
            return .failure(.invalidInput(field: "analysis.maxRegression", reason: "must be a non-negative number"))
        }
        guard input.mixingScale > 0 else { return .failure(.invalidInput(field: "mixingScale", reason: "must be positive")) }
        for l in input.latencies {
            if let bad = (l.baseline + l.canary).first(where: { !($0 > 0 && $0.isFinite) }) {
                return .failure(.invalidInput(field: "samples.\(l.metric)", reason: "latencies must be positive and finite, got \(bad)"))
            }
        }
        if let e = input.errors,
            e.baselineErrors < 0 || e.canaryErrors < 0 || e.baselineErrors > e.baselineRequests || e.canaryErrors > e.canaryRequests
        {
            return .failure(.invalidInput(field: "samples.errorRate", reason: "error counts must be between 0 and the request counts"))
        }
        let alpha = 1 - input.confidence
        let horizonReached = input.stepElapsedSeconds >= input.stepDurationSeconds
        var judgements = input.latencies.map { judgeLatency($0, input, alpha: alpha, horizonReached: horizonReached) }
        if let e = input.errors { judgements.append(judgeErrors(e, input, alpha: alpha, horizonReached: horizonReached)) }

        let failed = judgements.filter { $0.outcome == .fail }
        let action: CanaryAction
        if !failed.isEmpty {
            action = .rollback
        } else if !judgements.isEmpty, judgements.allSatisfy({ $0.outcome == .pass }) {
            action = .advance
        } else {
            action = .continue
        }
        // Pace: when even the 95% upper bound of every effect is within half the allowed
        // regression the canary is clearly healthy and the next step is shortened; when a
        // bound still reaches past the allowed regression the evidence is thin and it is lengthened.
        var pace = 1.0
        if action == .advance {
            if judgements.allSatisfy({ $0.effectUpperBound <= input.maxRegression / 2 }) {
                pace = 0.5
            } else if judgements.contains(where: { $0.effectUpperBound > input.maxRegression }) {
                pace = 1.5
            }
        }
        let reasons: [String] = judgements.map { j in
            "\(j.metric): \(j.outcome.rawValue) (\(j.test), canary \(Fmt.num(j.effectSize * 100, 1))% vs baseline, p=\(Fmt.num(j.pValue, 4)), n=\(j.canarySamples)/\(j.baselineSamples))"
        }
        let summary: String
        switch action {
        case .rollback: summary = "roll back: " + failed.map { "\($0.metric) regressed \(Fmt.num($0.effectSize * 100, 1))%" }.joined(separator: ", ")
        case .advance: summary = "step passed" + (pace < 1 ? "; healthy, next step shortened" : pace > 1 ? "; marginal, next step lengthened" : "")
        case .continue: summary = "keep observing: not enough evidence yet"
        }
        let explanation = Explanation(
            summary: summary,
            inputs: [
                .init("confidence", Fmt.num(input.confidence, 4)), .init("maxRegression", Fmt.num(input.maxRegression, 4)),
                .init("test", input.test.rawValue), .init("minSamples", String(input.minSamples)),
            ],
            candidates: [], reasons: reasons)
        return .success(CanaryVerdict(action: action, pace: pace, metrics: judgements, explanation: explanation))
    }

    static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func judgeLatency(_ l: LatencySamples, _ input: CanaryJudgeInput, alpha: Double, horizonReached: Bool) -> MetricJudgement {
        let enough = l.canary.count >= input.minSamples && l.baseline.count >= input.minSamples
        // Latencies are compared on the log scale, where a relative regression is a shift.
        let b = RunningStats(l.baseline.map { log($0) }), c = RunningStats(l.canary.map { log($0) })
        let effect = l.baseline.isEmpty || l.canary.isEmpty ? 0 : exp(c.mean - b.mean) - 1
        let se = b.count >= 2 && c.count >= 2 ? (b.variance / Double(b.count) + c.variance / Double(c.count)).squareRoot() : .infinity
        var j = MetricJudgement(
            metric: l.metric, test: input.test.rawValue, baselineSamples: l.baseline.count, canarySamples: l.canary.count,
            baselineMedian: median(l.baseline), canaryMedian: median(l.canary), effectSize: effect,
            effectUpperBound: exp(c.mean - b.mean + 1.645 * se) - 1, pValue: 1, outcome: .inconclusive)
        switch input.test {
        case .sequential:
            guard b.count >= 2, c.count >= 2 else { return j }
            let theta0 = log(1 + input.maxRegression)
            let outcome = MixtureSPRT.test(
                estimate: c.mean - b.mean - theta0, variance: b.variance / Double(b.count) + c.variance / Double(c.count),
                tau2: input.mixingScale * input.mixingScale)
            j.pValue = min(input.previousPValues[l.metric] ?? 1, outcome.pValue)
            if j.pValue <= alpha && outcome.estimate > 0 {
                j.outcome = .fail
            } else if enough && horizonReached {
                j.outcome = .pass
            }
        case .mannWhitney:
            guard enough && horizonReached, let mw = MannWhitney.test(baseline: l.baseline, canary: l.canary, margin: input.maxRegression) else {
                return j
            }
            j.pValue = mw.pValue
            j.outcome = mw.pValue <= alpha ? .fail : .pass
        }
        return j
    }

    static func judgeErrors(_ e: ErrorCounts, _ input: CanaryJudgeInput, alpha: Double, horizonReached: Bool) -> MetricJudgement {
        // Add-half smoothing keeps the variance positive when an arm has no errors yet.
        let pb = (Double(e.baselineErrors) + 0.5) / (Double(e.baselineRequests) + 1)
        let pc = (Double(e.canaryErrors) + 0.5) / (Double(e.canaryRequests) + 1)
        // Relative margins are meaningless near zero, so at least 0.1 percentage points.
        let margin = max(input.maxRegression * pb, 0.001)
        let variance = pb * (1 - pb) / Double(max(e.baselineRequests, 1)) + pc * (1 - pc) / Double(max(e.canaryRequests, 1))
        var j = MetricJudgement(
            metric: "errorRate", test: input.test.rawValue, baselineSamples: e.baselineRequests, canarySamples: e.canaryRequests,
            baselineMedian: Double(e.baselineErrors) / Double(max(e.baselineRequests, 1)),
            canaryMedian: Double(e.canaryErrors) / Double(max(e.canaryRequests, 1)), effectSize: pc / pb - 1,
            effectUpperBound: (pc + 1.645 * variance.squareRoot()) / pb - 1, pValue: 1, outcome: .inconclusive)
        let enough = e.canaryRequests >= input.minSamples && e.baselineRequests >= input.minSamples
        let estimate = pc - pb - margin
        switch input.test {
        case .sequential:
            // Mixing scale in absolute rate units: regressions of about one percentage point.
            let outcome = MixtureSPRT.test(estimate: estimate, variance: variance, tau2: 0.01 * 0.01)
            j.pValue = min(input.previousPValues["errorRate"] ?? 1, outcome.pValue)
            if j.pValue <= alpha && estimate > 0 {
                j.outcome = .fail
            } else if enough && horizonReached {
                j.outcome = .pass
            }
        case .mannWhitney:
            // On 0/1 outcomes the rank test reduces to comparing proportions: a one-sided z-test.
            guard enough && horizonReached else { return j }
            j.pValue = Normal.survival(estimate / variance.squareRoot())
            j.outcome = j.pValue <= alpha ? .fail : .pass
        }
        return j
    }
}
