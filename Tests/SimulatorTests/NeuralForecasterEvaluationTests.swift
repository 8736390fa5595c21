import Foundation
import LLMOpsCore
import Testing

@testable import Simulator

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The gate for the learned forecaster: on the held-out second half of both Azure 2023 traces
/// (CC-BY 4.0, Patel et al., "Splitwise", ISCA 2024) it must beat the best baseline to be enabled.
/// Inputs come from simulating each trace on a static fleet, so the network sees the metrics a
/// real deployment would export (rate, token throughput, KV use, queue, TTFT, ITL, replicas).
@Suite struct NeuralForecasterEvaluationTests {
    struct Scores {
        var neural = 0.0, holt = 0.0, last = 0.0, count = 0
    }

    func evaluate(_ file: String) throws -> Scores {
        let requests = try TraceReader.read(path: repoRoot.appendingPathComponent("traces/\(file)").path)
        let replica = ReplicaModel(model: ModelProfile.estimated(parameters: 8e9, bytesPerParameter: 2, contextLength: 8192), gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        let run = simulate(SimulationSetup(requests: requests, replica: replica, slo: LatencySLO(ttftSeconds: 2, itlSeconds: 0.1)), policy: StaticPolicy(replicas: 4))
        let obs = run.observations
        let horizon = 4  // one minute ahead at 15 s ticks: a model's cold start
        var neural = NeuralLoadForecaster(horizon: horizon, seed: 1)
        var holt = HoltForecaster()
        var last = LastValueForecaster()
        var predictions: [(Double?, Double?, Double?)] = []
        var s = Scores()
        for (t, o) in obs.enumerated() {
            neural.observe(
                MetricsSample(
                    requestsPerSecond: o.rateLastTick, tokensPerSecond: o.tokensPerSecondLastTick, kvCacheUtilization: o.kvUtilization,
                    queueDepth: Double(o.queueDepth), ttftP95Seconds: o.ttftP95LastMinute, itlP95Seconds: o.itlP95LastMinute,
                    replicas: Double(o.replicas), capacityPerReplica: 4))
            holt.observe(o.rateLastTick)
            last.observe(o.rateLastTick)
            predictions.append((neural.forecastRate(), holt.forecast(steps: horizon), last.forecast(steps: horizon)))
            let origin = t - horizon
            guard origin >= obs.count / 2, let n = predictions[origin].0, let h = predictions[origin].1, let l = predictions[origin].2 else { continue }
            s.neural += abs(n - o.rateLastTick)
            s.holt += abs(h - o.rateLastTick)
            s.last += abs(l - o.rateLastTick)
            s.count += 1
        }
        s.neural /= Double(s.count)
        s.holt /= Double(s.count)
        s.last /= Double(s.count)
        print(String(format: "%@ (held-out half, %d forecasts, 1 min ahead): neural MAE %.3f, holt %.3f, lastValue %.3f req/s", file, s.count, s.neural, s.holt, s.last))
        return s
    }

    @Test func neuralForecasterShipsOnlyIfItBeatsTheBaselines() throws {
        let scores = try ["azure-llm-inference-2023-conv.csv", "azure-llm-inference-2023-code.csv"].map(evaluate)
        for s in scores {
            #expect(s.count > 50)
            #expect(s.neural.isFinite)
        }
        let wins = scores.allSatisfy { $0.neural < min($0.holt, $0.last) }
        #expect(ScalingDefaults.neuralForecasterEnabled == wins, "neural wins on both traces: \(wins); the shipped flag must match")
    }
}
