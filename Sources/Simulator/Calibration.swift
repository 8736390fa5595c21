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
        /// Mean size of the groups the requests arrived in (1: one at a time).
        public var groupMean: Double = 1
        /// model / simulator − 1: positive means the model promises more than a replica delivers.
        public var error: Double { simulatedRate > 0 ? modelRate / simulatedRate - 1 : (modelRate > 0 ? .infinity : 0) }
    }

    /// Lengths from `sample`, Poisson arrivals at `rate` requests per second for `duration`
    /// seconds, in groups of geometric size with mean `groupMean` that arrive together (1: one
    /// at a time). Deterministic.
    public static func steadyTrace(lengths sample: [TraceRequest], rate: Double, duration: Double, seed: UInt64, groupMean: Double = 1) -> [TraceRequest] {
        var g = SeededGenerator(seed: seed)
        var t = 0.0
        var out: [TraceRequest] = []
        let stop = 1 / max(1, groupMean)
        while true {
            t += Random.exponential(&g, mean: max(1, groupMean) / rate)
            if t >= duration { break }
            repeat {
                let r = sample[Int(Random.uniform(&g) * Double(sample.count))]
                out.append(TraceRequest(arrival: t, inputTokens: r.inputTokens, outputTokens: r.outputTokens))
            } while stop < 1 && Random.uniform(&g) >= stop
        }
        return out
    }

    /// The simulator's steady-state SLO capacity per replica of a fleet of `fleet` replicas
    /// behind the router, for the trace's request mix; `load` is the trace's
    /// `Evaluation.loadProfile`, which bounds the search.
    public static func simulatedRate(
        _ replica: ReplicaModel, lengths: [TraceRequest], load: LoadProfile, slo: LatencySLO, fleet: Int = 1, groupMean: Double = 1, duration: Double = 1800,
        seed: UInt64 = 7
    ) -> Double {
        let replicas = max(1, fleet)
        let c = Double(replicas)
        func meets(_ rate: Double) -> Bool {
            let trace = steadyTrace(lengths: lengths, rate: rate * c, duration: duration, seed: seed, groupMean: groupMean)
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

    /// Every configuration in `replicas`, model against simulator, in parallel; with a
    /// `groupMean` above 1, requests arrive in groups (geometric sizes), which the model sees
    /// as an index of dispersion of 2m − 1 spread over the fleet.
    public static func table(_ replicas: [ReplicaModel], lengths: [TraceRequest], slo: LatencySLO, fleet: Int = 1, groupMean: Double = 1) async -> [Row] {
        var grouped = Evaluation.loadProfile(lengths, attainment: slo.attainment)
        // The calibration's arrivals are Poisson groups, whatever the sampled trace's were.
        grouped.dispersionByWindow = []
        grouped.arrivalDispersion = LoadProfile.dispersion(groupMean: max(1, groupMean))
        let load = grouped, perReplica = grouped.spread(over: fleet)
        // Pooling (Erlang C) has a request find a free replica, which a group arriving at once
        // does not: it fills every replica together. With groups the model is the one sizing
        // uses, each replica seeing its share of every group and no pooling.
        let pooled = groupMean > 1 ? 1 : fleet
        return await withTaskGroup(of: Row.self) { tasks in
            for r in replicas {
                tasks.addTask {
                    Row(
                        configuration: .init(gpuType: r.gpu.name, tensorParallel: r.tensorParallel), modelRate: r.maxRate(for: perReplica, slo: slo, fleet: pooled),
                        simulatedRate: simulatedRate(r, lengths: lengths, load: load, slo: slo, fleet: fleet, groupMean: groupMean), fleet: fleet, groupMean: max(1, groupMean))
                }
            }
            var rows: [Row] = []
            for await row in tasks { rows.append(row) }
            return rows.sorted { $0.configuration.description < $1.configuration.description }
        }
    }
}
