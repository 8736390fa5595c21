import Foundation

public enum RolloutStrategyKind: String, Sendable, Hashable {
    case canary, blueGreen, rolling
}

public enum ChangeKind: String, Sendable, Hashable {
    /// New model weights: quality and latency can change.
    case model
    /// New engine image: kernels, scheduler and memory behaviour can change.
    case engine
    /// Engine arguments only.
    case config
}

public struct RolloutRequest: Sendable, Hashable {
    public var change: ChangeKind
    /// Requests per second the deployment serves now.
    public var trafficRPS: Double
    public var currentReplicas: Int
    public var gpusPerReplica: Int
    /// Free GPUs of the deployment's type that new replicas could use.
    public var spareGPUs: Int
    /// 1 − observed p95 latency / SLO, the worst of TTFT and ITL; 0.3 means 30% to spare.
    public var sloHeadroom: Double
    /// Samples each analysis step needs.
    public var minSamplesPerStep: Int
    /// Steps the user fixed; when nil the planner proposes them.
    public var requestedWeights: [Int]?
    public var minStepSeconds: Double

    public init(
        change: ChangeKind, trafficRPS: Double, currentReplicas: Int, gpusPerReplica: Int, spareGPUs: Int, sloHeadroom: Double,
        minSamplesPerStep: Int = 200, requestedWeights: [Int]? = nil, minStepSeconds: Double = 300
    ) {
        self.change = change
        self.trafficRPS = trafficRPS
        self.currentReplicas = currentReplicas
        self.gpusPerReplica = gpusPerReplica
        self.spareGPUs = spareGPUs
        self.sloHeadroom = sloHeadroom
        self.minSamplesPerStep = minSamplesPerStep
        self.requestedWeights = requestedWeights
        self.minStepSeconds = minStepSeconds
    }
}

public struct PlannedStep: Sendable, Hashable {
    public var weight: Int
    public var durationSeconds: Double
    public var minSamples: Int
    /// Replicas running the new revision during the step.
    public var canaryReplicas: Int
    /// Whether they are added beside the baseline (surge) or replace baseline replicas.
    public var surge: Bool
}

public struct RolloutPlan: Sendable, Hashable {
    public var strategy: RolloutStrategyKind
    public var steps: [PlannedStep]
    public var explanation: Explanation
}

/// Picks canary, blue-green or rolling with a small decision tree whose splits are the risk
/// features (what changed, SLO headroom, spare GPUs, traffic), and plans steps that fit the
/// spare GPUs and gather enough samples at the traffic the deployment actually has.
public enum RolloutPlanner {
    /// Below this SLO headroom a change is judged statistically even if it is only configuration.
    public static let tightHeadroom = 0.2
    /// Traffic at which a canary at 5% collects 200 samples in under ~7 minutes; below it a
    /// canary would crawl, so with room for a full copy blue-green (smoke-tested, switched at
    /// once, switched back at once) is the faster safe choice.
    public static let lowTrafficRPS = 10.0

    public static func plan(_ r: RolloutRequest) -> Result<RolloutPlan, CoreError> {
        guard r.currentReplicas >= 1 else { return .failure(.invalidInput(field: "currentReplicas", reason: "the target has no replicas to roll out from")) }
        guard r.gpusPerReplica >= 1 else { return .failure(.invalidInput(field: "gpusPerReplica", reason: "must be at least 1")) }
        guard r.spareGPUs >= 0, r.trafficRPS >= 0, r.trafficRPS.isFinite else {
            return .failure(.invalidInput(field: "spareGPUs", reason: "spare GPUs and traffic must not be negative"))
        }
        if let w = r.requestedWeights, w.isEmpty || w.contains(where: { $0 < 1 || $0 > 100 }) || w != w.sorted() {
            return .failure(.invalidInput(field: "steps", reason: "weights must be increasing values between 1 and 100"))
        }
        let spareReplicas = r.spareGPUs / r.gpusPerReplica
        var path: [String] = []
        let strategy: RolloutStrategyKind
        if r.change == .config {
            path.append("change is configuration only")
            if r.sloHeadroom >= tightHeadroom {
                path.append("SLO headroom \(Fmt.num(r.sloHeadroom * 100, 0))% ≥ \(Fmt.num(tightHeadroom * 100, 0))%")
                strategy = .rolling
            } else {
                path.append("SLO headroom \(Fmt.num(r.sloHeadroom * 100, 0))% < \(Fmt.num(tightHeadroom * 100, 0))%: judge it")
                strategy = .canary
            }
        } else {
            path.append("change is a new \(r.change.rawValue): risky")
            if spareReplicas >= r.currentReplicas && r.trafficRPS < lowTrafficRPS {
                path.append("spare GPUs hold a full copy (\(spareReplicas) ≥ \(r.currentReplicas) replicas)")
                path.append("traffic \(Fmt.num(r.trafficRPS, 1)) req/s < \(Fmt.num(lowTrafficRPS, 0)): a canary would gather samples too slowly")
                strategy = .blueGreen
            } else {
                if spareReplicas >= r.currentReplicas {
                    path.append("traffic \(Fmt.num(r.trafficRPS, 1)) req/s ≥ \(Fmt.num(lowTrafficRPS, 0)): a canary learns fast and risks little")
                } else {
                    path.append("spare GPUs hold \(spareReplicas) of \(r.currentReplicas) replicas: no full copy")
                }
                strategy = .canary
            }
        }
        let steps = planSteps(r, strategy: strategy, spareReplicas: spareReplicas)
        let summary = "\(strategy.rawValue) in \(steps.count) step\(steps.count == 1 ? "" : "s"): " + steps.map { "\($0.weight)%" }.joined(separator: " → ")
        let candidates: [Explanation.Candidate] = [RolloutStrategyKind.canary, .blueGreen, .rolling].map {
            .init(name: $0.rawValue, chosen: $0 == strategy, note: $0 == strategy ? "chosen by the tree" : "not on the tree's path")
        }
        let explanation = Explanation(
            summary: summary,
            inputs: [
                .init("change", r.change.rawValue), .init("trafficRPS", Fmt.num(r.trafficRPS, 2)), .init("currentReplicas", String(r.currentReplicas)),
                .init("spareGPUs", String(r.spareGPUs)), .init("sloHeadroom", Fmt.num(r.sloHeadroom, 2)),
            ],
            candidates: candidates, reasons: path)
        return .success(RolloutPlan(strategy: strategy, steps: steps, explanation: explanation))
    }

    static func planSteps(_ r: RolloutRequest, strategy: RolloutStrategyKind, spareReplicas: Int) -> [PlannedStep] {
        let n = r.currentReplicas
        func step(_ weight: Int, canaryReplicas: Int, surge: Bool) -> PlannedStep {
            // Long enough for the samples at this weight's share of traffic, with 20% slack.
            let rate = r.trafficRPS * Double(weight) / 100
            let sampling = rate > 0 ? Double(r.minSamplesPerStep) / rate * 1.2 : r.minStepSeconds
            return PlannedStep(
                weight: weight, durationSeconds: max(r.minStepSeconds, sampling.rounded(.up)), minSamples: r.minSamplesPerStep,
                canaryReplicas: canaryReplicas, surge: surge)
        }
        switch strategy {
        case .blueGreen:
            // A full copy beside the old one; one analysis step on the copy, then switch.
            return [step(100, canaryReplicas: n, surge: true)]
        case .rolling:
            // Replace a quarter of the replicas (at least one) at a time.
            let batch = max(1, n / 4)
            return stride(from: batch, through: n, by: batch).map { k in
                step(Int((Double(min(k, n)) / Double(n) * 100).rounded()), canaryReplicas: min(k, n), surge: false)
            } + (n % batch == 0 ? [] : [step(100, canaryReplicas: n, surge: false)])
        case .canary:
            let weights = r.requestedWeights ?? defaultWeights(replicas: n)
            return weights.map { w in
                let needed = max(1, Int((Double(w) / 100 * Double(n)).rounded(.up)))
                // Surge while spare GPUs allow, otherwise convert baseline replicas in place.
                return step(w, canaryReplicas: needed, surge: needed <= spareReplicas)
            }
        }
    }

    /// One replica's worth first (the smallest step a replica can carry, at least 5%), then 25%
    /// and 50%; promotion to 100% follows the last step.
    static func defaultWeights(replicas n: Int) -> [Int] {
        let first = max(5, Int((100 / Double(max(n, 1))).rounded(.down)))
        return ([first] + [25, 50]).filter { $0 >= first }.reduce(into: [Int]()) { acc, w in
            if acc.last.map({ w > $0 }) ?? true { acc.append(w) }
        }
    }
}
