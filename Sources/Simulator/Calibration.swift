import Foundation
import LLMOpsCore

/// The capacity model against its digital twin: for one configuration, the highest steady
/// request rate one replica serves within the SLO as the core predicts it (`maxRate`) and as
/// the simulator measures it (Poisson arrivals at a fixed rate, lengths resampled from a trace,
/// one replica, bisection on the rate).
public enum Calibration {
    public struct Row: Sendable {
        public var configuration: Evaluation.Configuration
        public var modelRate: Double
        public var simulatedRate: Double
        /// Replicas behind the router: both rates are per replica of a fleet this size.
        public var fleet: Int = 1
        /// model / simulator − 1: positive means the model promises more than a replica delivers.
        public var error: Double { simulatedRate > 0 ? modelRate / simulatedRate - 1 : (modelRate > 0 ? .infinity : 0) }
    }

    /// Lengths from `sample`, Poisson arrivals at `rate` for `duration` seconds. Deterministic.
    public static func steadyTrace(lengths sample: [TraceRequest], rate: Double, duration: Double, seed: UInt64) -> [TraceRequest] {
        var g = SeededGenerator(seed: seed)
        var t = 0.0
        var out: [TraceRequest] = []
        while true {
            t += Random.exponential(&g, mean: 1 / rate)
            if t >= duration { break }
            let r = sample[Int(Random.uniform(&g) * Double(sample.count))]
            out.append(TraceRequest(arrival: t, inputTokens: r.inputTokens, outputTokens: r.outputTokens))
        }
        return out
    }

    /// The simulator's steady-state SLO capacity per replica of a fleet of `fleet` replicas
    /// behind the router, for the trace's request mix; `load` is the trace's
    /// `Evaluation.loadProfile`, which bounds the search.
    public static func simulatedRate(
        _ replica: ReplicaModel, lengths: [TraceRequest], load: LoadProfile, slo: LatencySLO, fleet: Int = 1, duration: Double = 1800, seed: UInt64 = 7
    ) -> Double {
        let replicas = max(1, fleet)
        let c = Double(replicas)
        func meets(_ rate: Double) -> Bool {
            let trace = steadyTrace(lengths: lengths, rate: rate * c, duration: duration, seed: seed)
            guard !trace.isEmpty else { return true }
            let setup = SimulationSetup(requests: trace, replica: replica, slo: slo, maxReplicas: replicas, initialReplicas: replicas)
            let r = simulate(setup, policy: StaticPolicy(replicas: replicas))
            return r.sloAttainment >= slo.attainment
        }
        var hi = replica.rateUpperBound(for: load) * 1.05
        // At least tens of requests per run, or the attainment of a run says nothing.
        var lo = 50 / duration / c
        guard meets(lo) else { return 0 }
        if meets(hi) { return hi }
        while hi - lo > 0.02 * hi {
            let mid = (lo + hi) / 2
            if meets(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// Every configuration in `replicas`, model against simulator, in parallel.
    public static func table(_ replicas: [ReplicaModel], lengths: [TraceRequest], slo: LatencySLO, fleet: Int = 1) async -> [Row] {
        let load = Evaluation.loadProfile(lengths, attainment: slo.attainment)
        return await withTaskGroup(of: Row.self) { tasks in
            for r in replicas {
                tasks.addTask {
                    Row(
                        configuration: .init(gpuType: r.gpu.name, tensorParallel: r.tensorParallel), modelRate: r.maxRate(for: load, slo: slo, fleet: fleet),
                        simulatedRate: simulatedRate(r, lengths: lengths, load: load, slo: slo, fleet: fleet), fleet: fleet)
                }
            }
            var rows: [Row] = []
            for await row in tasks { rows.append(row) }
            return rows.sorted { $0.configuration.description < $1.configuration.description }
        }
    }
}
