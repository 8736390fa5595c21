import Foundation
import LLMOpsCore

/// The whole comparison: the core picks the GPU configuration for the trace's load, then each
/// policy runs on it; hpa, kpa, static-peak and oracle are each tuned to their cheapest setting
/// that meets the attainment target (the best case for them), llmops runs untuned.
public struct Evaluation: Sendable {
    public struct Options: Sendable {
        public var model: ModelProfile
        public var slo: LatencySLO
        public var gpuTypes: [String]
        public var policies: [String]
        public var maxReplicas: Int
        public var catalog: GPUCatalog
        public init(model: ModelProfile, slo: LatencySLO, gpuTypes: [String], policies: [String], maxReplicas: Int = 64, catalog: GPUCatalog = .standard) {
            self.model = model
            self.slo = slo
            self.gpuTypes = gpuTypes
            self.policies = policies
            self.maxReplicas = maxReplicas
            self.catalog = catalog
        }
    }

    public struct Report: Sendable {
        public var gpuType: String
        public var tensorParallel: Int
        public var capacityPerReplica: Double
        public var coldStartSeconds: Double
        public var results: [SimulationResult]
        /// Settings the tuned policies ended with, by policy.
        public var tuning: [String: String]
        public var planExplanation: Explanation
    }

    public static let allPolicies = ["static-peak", "hpa", "kpa", "llmops", "oracle"]

    /// Model load time: weights over a 2 GB/s storage path plus 30 s of engine start-up
    /// (CUDA graph capture, tokenizer, server); the oracle gets only the physical minimum.
    public static func coldStart(_ model: ModelProfile, tp: Int) -> Double { model.weightBytes / 2e9 + 30 }
    public static func physicalColdStart(_ model: ModelProfile, tp: Int) -> Double { model.weightBytes / Double(tp) / 25e9 }

    public static func run(requests: [TraceRequest], options o: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws(SimulationError) -> Report {
        guard !requests.isEmpty else { throw SimulationError(message: "the trace holds no requests") }
        for p in o.policies where !allPolicies.contains(p) {
            throw SimulationError(message: "unknown policy \(p); choose from \(allPolicies.joined(separator: ", "))")
        }
        // Load statistics of the trace, for the optimizer.
        let duration = max(requests.last!.arrival, 1)
        let meanIn = Double(requests.reduce(0) { $0 + $1.inputTokens }) / Double(requests.count)
        let meanOut = Double(requests.reduce(0) { $0 + $1.outputTokens }) / Double(requests.count)
        let inputs = requests.map { Double($0.inputTokens) }.sorted()
        let sd = (inputs.reduce(0) { $0 + ($1 - meanIn) * ($1 - meanIn) } / Double(inputs.count)).squareRoot()
        let tail = inputs[min(inputs.count - 1, Int(Double(inputs.count) * o.slo.attainment))]
        let load = LoadProfile(
            requestsPerSecond: Double(requests.count) / duration, meanInputTokens: max(1, meanIn), meanOutputTokens: max(1, meanOut),
            inputCV: meanIn > 0 ? sd / meanIn : 0, inputTailTokens: max(tail, meanIn))
        let request = OptimizerRequest(model: o.model, load: load, slo: o.slo, allowedGPUs: o.gpuTypes, headroom: 0.1)
        let plan: ServingPlan
        switch ConfigurationOptimizer.optimize(request, catalog: o.catalog) {
        case .success(let p): plan = p
        case .failure(let e): throw SimulationError(message: "no GPU configuration can serve this trace: \(e)")
        }
        let group = plan.groups[0]
        let replica = ReplicaModel(model: o.model, gpu: o.catalog[group.gpuType]!, tensorParallel: group.tensorParallel)
        let setup = SimulationSetup(requests: requests, replica: replica, slo: o.slo, maxReplicas: o.maxReplicas)
        let cold = coldStart(o.model, tp: group.tensorParallel)
        let target = o.slo.attainment

        var results: [SimulationResult] = []
        var tuning: [String: String] = [:]
        let counter = ProgressCounter(report: progress)
        await withTaskGroup(of: (SimulationResult, String)?.self) { groupTasks in
            if o.policies.contains("static-peak") {
                groupTasks.addTask {
                    let (n, r) = await smallest(1...o.maxReplicas, target: target, counter: counter) { n in simulate(setup, policy: StaticPolicy(replicas: n)) }
                    return (r, "replicas=\(n)")
                }
            }
            if o.policies.contains("hpa") {
                groupTasks.addTask {
                    let (t, r) = await cheapest([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96], target: target, counter: counter) { t in
                        simulate(setup, policy: HPAPolicy(targetInFlightPerReplica: t, maxReplicas: o.maxReplicas, coldStartSeconds: cold))
                    }
                    return (r, "targetInFlightPerReplica=\(Int(t))")
                }
            }
            if o.policies.contains("kpa") {
                groupTasks.addTask {
                    let (t, r) = await cheapest([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96], target: target, counter: counter) { t in
                        simulate(setup, policy: KPAPolicy(targetConcurrency: t, maxReplicas: o.maxReplicas, coldStartSeconds: cold))
                    }
                    return (r, "targetConcurrency=\(Int(t))")
                }
            }
            if o.policies.contains("llmops") {
                groupTasks.addTask {
                    let r = simulate(
                        setup,
                        policy: LLMOpsPolicy(capacityPerReplica: group.ratePerReplica, maxReplicas: o.maxReplicas, coldStartSeconds: cold, ttftTargetSeconds: o.slo.ttftSeconds, itlTargetSeconds: o.slo.itlSeconds))
                    counter.tick()
                    return (r, "capacityPerReplica=\(String(format: "%.2f", group.ratePerReplica)) (capacity model, untuned)")
                }
            }
            if o.policies.contains("oracle") {
                groupTasks.addTask {
                    // The largest capacity per replica (fewest replicas) that still meets the target.
                    let candidates = (1...60).map { group.ratePerReplica * 0.25 * pow(1.06, Double($0)) }
                    let (c, r) = await cheapest(candidates, target: target, counter: counter) { c in
                        simulate(setup, policy: OraclePolicy(requests: requests, capacityPerReplica: c, maxReplicas: o.maxReplicas, coldStartSeconds: physicalColdStart(o.model, tp: group.tensorParallel)))
                    }
                    return (r, "capacityPerReplica=\(String(format: "%.2f", c))")
                }
            }
            for await item in groupTasks {
                if let (r, t) = item {
                    results.append(r)
                    tuning[r.policy] = t
                }
            }
        }
        results.sort { allPolicies.firstIndex(of: $0.policy)! < allPolicies.firstIndex(of: $1.policy)! }
        return Report(
            gpuType: group.gpuType, tensorParallel: group.tensorParallel, capacityPerReplica: group.ratePerReplica, coldStartSeconds: cold,
            results: results, tuning: tuning, planExplanation: plan.explanation)
    }

    /// The cheapest setting whose run meets the attainment target, or the best-attaining one.
    static func cheapest<T: Sendable>(_ settings: [T], target: Double, counter: ProgressCounter, run: @Sendable @escaping (T) -> SimulationResult) async -> (T, SimulationResult) {
        var runs: [(T, SimulationResult)] = []
        for s in settings {
            runs.append((s, run(s)))
            counter.tick()
        }
        let meeting = runs.filter { $0.1.sloAttainment >= target }
        if let best = meeting.min(by: { $0.1.gpuHours < $1.1.gpuHours }) { return best }
        return runs.max { $0.1.sloAttainment < $1.1.sloAttainment }!
    }

    /// The smallest n in `range` whose run meets the target (attainment grows with n), by bisection.
    static func smallest(_ range: ClosedRange<Int>, target: Double, counter: ProgressCounter, run: @Sendable @escaping (Int) -> SimulationResult) async -> (Int, SimulationResult) {
        var lo = range.lowerBound, hi = range.upperBound
        var best = (hi, run(hi))
        counter.tick()
        if best.1.sloAttainment < target { return best }
        while lo < hi {
            let mid = (lo + hi) / 2
            let r = run(mid)
            counter.tick()
            if r.sloAttainment >= target {
                best = (mid, r)
                hi = mid
            } else {
                lo = mid + 1
            }
        }
        return best
    }
}

public struct SimulationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// Counts finished simulations for the progress line.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private let report: @Sendable (String) -> Void
    init(report: @escaping @Sendable (String) -> Void) { self.report = report }
    func tick() {
        lock.lock()
        done += 1
        let n = done
        lock.unlock()
        report("\(n) simulations done")
    }
}
