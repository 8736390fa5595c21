import Foundation
import LLMOpsCore
import Testing

@testable import Simulator

/// The gate for the RL allocator: trained in simulation on the first half of each Azure 2023
/// trace (CC-BY 4.0, Patel et al., "Splitwise", ISCA 2024), judged on the second half against the
/// plain llmops scaler. Enabled by default only if it is cheaper at no lower attainment on both.
@Suite struct RLAllocatorEvaluationTests {
    func halves(_ file: String) throws -> ([TraceRequest], [TraceRequest]) {
        let all = try TraceReader.read(path: repoRoot.appendingPathComponent("traces/\(file)").path)
        let mid = all.last!.arrival / 2
        let first = all.filter { $0.arrival < mid }
        let second = all.filter { $0.arrival >= mid }.map { TraceRequest(arrival: $0.arrival - mid, inputTokens: $0.inputTokens, outputTokens: $0.outputTokens) }
        return (first, second)
    }

    @Test func rlAllocatorShipsOnlyIfItBeatsThePlainScaler() throws {
        let model = ModelProfile.estimated(parameters: 8e9, bytesPerParameter: 2, contextLength: 8192)
        let replica = ReplicaModel(model: model, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        let slo = LatencySLO(ttftSeconds: 2, itlSeconds: 0.1)
        let cold = Evaluation.coldStart(model, tp: 1)
        var wins: [Bool] = []
        for file in ["azure-llm-inference-2023-conv.csv", "azure-llm-inference-2023-code.csv"] {
            let (train, test) = try halves(file)
            let load = LoadProfile(requestsPerSecond: 1, meanInputTokens: Double(train.reduce(0) { $0 + $1.inputTokens }) / Double(train.count), meanOutputTokens: Double(train.reduce(0) { $0 + $1.outputTokens }) / Double(train.count))
            let capacity = replica.maxRate(for: load, slo: slo) * 0.9
            func base() -> LLMOpsPolicy { LLMOpsPolicy(capacityPerReplica: capacity, maxReplicas: 40, coldStartSeconds: cold, ttftTargetSeconds: slo.ttftSeconds, itlTargetSeconds: slo.itlSeconds) }
            var allocator = RLAllocator(seed: 2024)
            for _ in 0..<8 {
                var learner = RLAssistedPolicy(base: base(), allocator: allocator, learning: true, maxReplicas: 40)
                _ = simulate(SimulationSetup(requests: train, replica: replica, slo: slo, maxReplicas: 40), updating: &learner)
                allocator = learner.allocator
                allocator.endEpisode()
            }
            let setup = SimulationSetup(requests: test, replica: replica, slo: slo, maxReplicas: 40)
            let plain = simulate(setup, policy: base())
            let rl = simulate(setup, policy: RLAssistedPolicy(base: base(), allocator: allocator, learning: false, maxReplicas: 40))
            print(String(format: "%@ held-out half: llmops %.2f GPU-h at %.2f%%, llmops+rl %.2f GPU-h at %.2f%% (%d states learned)", file, plain.gpuHours, plain.sloAttainment * 100, rl.gpuHours, rl.sloAttainment * 100, allocator.statesSeen))
            #expect(allocator.statesSeen > 5)
            wins.append(rl.sloAttainment >= min(plain.sloAttainment, slo.attainment) && rl.gpuHours < plain.gpuHours * 0.98)
        }
        #expect(ScalingDefaults.rlAllocatorEnabled == wins.allSatisfy { $0 }, "RL wins per trace: \(wins); the shipped flag must match")
    }
}

@Suite struct RLAllocatorTests {
    @Test func untrainedAllocatorChangesNothingAndLearningIsReproducible() {
        var a = RLAllocator(seed: 1)
        let o = RLAllocator.Observation(loadPerCapacity: 0.5, queuePerReplica: 0, ttftRatio: 0.3, itlRatio: 0.4, trend: 0)
        #expect(a.adjust(o, replicas: 3, learn: false) == 0)
        func train(_ seed: UInt64) -> [Int] {
            var r = RLAllocator(seed: seed)
            return (0..<200).map { i in
                r.adjust(RLAllocator.Observation(loadPerCapacity: Double(i % 7) / 5, queuePerReplica: Double(i % 3), ttftRatio: Double(i % 5) / 3, itlRatio: nil, trend: 0), replicas: 2 + i % 3, learn: true)
            }
        }
        #expect(train(9) == train(9))
    }

    @Test func learnsToAddCapacityWhenMissesAreExpensive() {
        // One state; adding a replica avoids a miss. With a high miss penalty the learned
        // choice for that state is +1.
        var a = RLAllocator(seed: 3, exploration: 0.3, missPenalty: 50)
        var replicas = 2
        for _ in 0..<3000 {
            let missing = replicas < 4
            let o = RLAllocator.Observation(loadPerCapacity: 1.1, queuePerReplica: 3, ttftRatio: missing ? 1.5 : 0.9, itlRatio: nil, trend: 0.1)
            replicas = max(1, min(6, replicas + a.adjust(o, replicas: replicas, learn: true)))
        }
        let hot = RLAllocator.Observation(loadPerCapacity: 1.1, queuePerReplica: 3, ttftRatio: 1.5, itlRatio: nil, trend: 0.1)
        #expect(a.adjust(hot, replicas: 2, learn: false) == 1)
    }
}
