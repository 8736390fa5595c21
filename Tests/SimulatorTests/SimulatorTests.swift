import Foundation
import LLMOpsCore
import Testing

@testable import Simulator


let model8B = ModelProfile(parameters: 8.03e9, bytesPerParameter: 2, layers: 32, hiddenSize: 4096, attentionHeads: 32, kvHeads: 8, contextLength: 8192)
let l40s = ReplicaModel(model: model8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
let slo = LatencySLO(ttftSeconds: 2, itlSeconds: 0.1, attainment: 0.99)

/// Poisson arrivals at `rate(t)` requests per second for `seconds`, fixed token sizes.
func poissonTrace(seconds: Double, seed: UInt64, input: Int = 1000, output: Int = 200, rate: (Double) -> Double) -> [TraceRequest] {
    var rng = SeededGenerator(seed: seed)
    var t = 0.0
    var out: [TraceRequest] = []
    // Thinning (Lewis & Shedler) with a bound on the rate.
    let bound = stride(from: 0.0, through: seconds, by: 1).map(rate).max()!
    guard bound > 0 else { return [] }
    while true {
        t += -log(Double.random(in: Double.ulpOfOne..<1, using: &rng)) / bound
        if t > seconds { break }
        if Double.random(in: 0..<1, using: &rng) < rate(t) / bound { out.append(TraceRequest(arrival: t, inputTokens: input, outputTokens: output)) }
    }
    return out
}

@Suite struct SimulatorSanityTests {
    @Test func latencyRisesWithLoad() {
        var last = 0.0
        for rate in [0.5, 2.0, 4.0, 6.0] {
            let trace = poissonTrace(seconds: 600, seed: 7, rate: { _ in rate })
            let r = simulate(SimulationSetup(requests: trace, replica: l40s, slo: slo), policy: StaticPolicy(replicas: 1))
            #expect(r.ttftP95Ms > last, "TTFT p95 at \(rate) req/s")
            last = r.ttftP95Ms
        }
    }

    @Test func throughputSaturatesNearTheCapacityModelsLimit() {
        // Offered load far above what one replica can do: completions per second flatten at
        // about the compute limit the capacity model predicts.
        let limit = l40s.rateUpperBound(for: LoadProfile(requestsPerSecond: 1, meanInputTokens: 1000, meanOutputTokens: 200))
        var served: [Double] = []
        for rate in [limit * 2, limit * 4] {
            let trace = poissonTrace(seconds: 300, seed: 11, rate: { _ in rate })
            var records = Array(repeating: RequestRecord(), count: trace.count)
            let replica = SimReplica(id: 0, model: l40s, createdAt: 0, readyAt: 0)
            for (i, r) in trace.enumerated() {
                replica.advance(to: r.arrival, requests: trace, records: &records)
                replica.enqueue(i)
            }
            replica.advance(to: 300, requests: trace, records: &records)
            served.append(Double(records.filter { !$0.finish.isNaN }.count) / 300)
        }
        #expect(abs(served[0] - served[1]) / served[1] < 0.1, "\(served)")
        #expect(served[1] > limit * 0.6 && served[1] < limit * 1.6, "served \(served[1]) vs model limit \(limit)")
    }

    @Test func zeroLoadCostsOnlyTheFloor() {
        let trace = [TraceRequest(arrival: 0, inputTokens: 10, outputTokens: 10), TraceRequest(arrival: 3600, inputTokens: 10, outputTokens: 10)]
        let setup = SimulationSetup(requests: trace, replica: l40s, slo: slo)
        let r = simulate(setup, policy: HPAPolicy(targetInFlightPerReplica: 4, maxReplicas: 10, coldStartSeconds: 30))
        // One replica (the minimum) for an hour: one GPU-hour and its price.
        #expect(abs(r.gpuHours - 1) < 0.02)
        #expect(abs(r.costDollars - GPUCatalog.standard["L40S"]!.pricePerHour) < 0.05)
        #expect(r.sloAttainment == 1)
    }

    @Test func deterministic() {
        let trace = poissonTrace(seconds: 900, seed: 3, rate: { t in 2 + 4 * t / 900 })
        let setup = SimulationSetup(requests: trace, replica: l40s, slo: slo)
        let policy = LLMOpsPolicy(capacityPerReplica: 3, maxReplicas: 10, coldStartSeconds: 40, ttftTargetSeconds: 2)
        let a = simulate(setup, policy: policy), b = simulate(setup, policy: policy)
        #expect(a.gpuHours == b.gpuHours && a.ttftP95Ms == b.ttftP95Ms && a.timeline == b.timeline)
    }

    /// Requests before the warm-up are served but not judged, and replicas are billed from
    /// it on: a burst the fleet took minutes to drain in the first half does not count
    /// against the second.
    @Test func warmupIsRunButNotCounted() {
        let trace = poissonTrace(seconds: 1200, seed: 4, rate: { t in t < 30 ? 40 : 1 })
        let all = simulate(SimulationSetup(requests: trace, replica: l40s, slo: slo), policy: StaticPolicy(replicas: 1))
        let judged = simulate(SimulationSetup(requests: trace, replica: l40s, slo: slo, warmupSeconds: 600), policy: StaticPolicy(replicas: 1))
        #expect(all.sloAttainment < 0.6, "\(all.sloAttainment)")
        #expect(judged.sloAttainment > 0.99, "\(judged.sloAttainment)")
        #expect(judged.servedRequests == trace.filter { $0.arrival >= 600 }.count)
        #expect(abs(judged.replicaSeconds - (all.replicaSeconds - 600)) < 1, "\(judged.replicaSeconds) vs \(all.replicaSeconds)")
    }

    @Test func requestsLargerThanTheKVCacheAreRejectedNotLost() {
        let trace = [TraceRequest(arrival: 0, inputTokens: 5_000_000, outputTokens: 10), TraceRequest(arrival: 1, inputTokens: 100, outputTokens: 10)]
        let r = simulate(SimulationSetup(requests: trace, replica: l40s, slo: slo), policy: StaticPolicy(replicas: 1))
        #expect(r.rejected == 1)
        #expect(r.sloAttainment == 0.5)
    }
}

@Suite struct PolicyTests {
    let step = poissonTrace(seconds: 1800, seed: 5, rate: { t in t < 600 ? 2 : (t < 1200 ? 12 : 2) })
    let ramp = poissonTrace(seconds: 1800, seed: 9, rate: { t in 1 + 11 * t / 1800 })

    func run<P: SimulatedPolicy>(_ trace: [TraceRequest], _ p: P) -> SimulationResult {
        simulate(SimulationSetup(requests: trace, replica: l40s, slo: slo, maxReplicas: 20), policy: p)
    }

    @Test func everyPolicyFollowsAStepUpAndDown() {
        let results = [
            run(step, HPAPolicy(targetInFlightPerReplica: 8, maxReplicas: 20, coldStartSeconds: 38)),
            run(step, KPAPolicy(targetConcurrency: 8, maxReplicas: 20, coldStartSeconds: 38)),
            run(step, LLMOpsPolicy(capacityPerReplica: 3, maxReplicas: 20, coldStartSeconds: 38, ttftTargetSeconds: 2)),
            run(step, OraclePolicy(requests: step, capacityPerReplica: 3, maxReplicas: 20, coldStartSeconds: 1)),
        ]
        for r in results {
            let during = r.timeline.filter { $0.time > 900 && $0.time < 1200 }.map(\.replicas).max() ?? 0
            // Before the oracle's lookahead reaches the step at 600 s.
            let before = r.timeline.filter { $0.time > 300 && $0.time < 480 }.map(\.replicas).max() ?? 0
            let after = r.timeline.filter { $0.time > 1700 }.map(\.replicas).min() ?? 0
            #expect(during > before, "\(r.policy) did not scale up: \(before) → \(during)")
            #expect(after < during, "\(r.policy) did not scale down: \(during) → \(after)")
        }
    }

    /// The llmops policy measures its burst reserve online: with bursts in its history it
    /// holds more replicas between bursts than with none, and it holds none before it has
    /// seen any (the same trace, bursts only in the second half, leaves the first half alone).
    @Test func llmopsHoldsAReserveOnlyForBurstsItHasSeen() {
        let bursty = poissonTrace(seconds: 3600, seed: 12, rate: { t in t > 1800 && Int(t) % 300 < 30 ? 12 : 2 })
        let r = run(bursty, LLMOpsPolicy(capacityPerReplica: 3, maxReplicas: 20, coldStartSeconds: 38, ttftTargetSeconds: 2, burstFactor: nil, burstCapacityPerReplica: 4))
        func quietMax(_ range: ClosedRange<Double>) -> Int {
            r.timeline.filter { range.contains($0.time) && Int($0.time) % 300 > 120 && Int($0.time) % 300 < 280 }.map(\.replicas).max() ?? 0
        }
        let before = quietMax(900...1790), after = quietMax(2700...3590)
        #expect(before <= 1, "held \(before) before any burst")
        #expect(after >= 3, "held \(after) between bursts it has seen")
    }

    @Test func oracleIsCheaperThanStaticPeakAtTheSameAttainment() {
        let staticRun = run(ramp, StaticPolicy(replicas: 5))
        let oracle = run(ramp, OraclePolicy(requests: ramp, capacityPerReplica: 3, maxReplicas: 20, coldStartSeconds: 1))
        #expect(oracle.gpuHours < staticRun.gpuHours)
    }

    @Test func hpaFollowsItsFormula() {
        var h = HPAPolicy(targetInFlightPerReplica: 4, maxReplicas: 50, coldStartSeconds: 0)
        func obs(_ t: Double, replicas: Int, inFlight: Int) -> Observation {
            Observation(time: t, replicas: replicas, readyReplicas: replicas, rateLastTick: 0, rateLastMinute: 0, inFlight: inFlight, queueDepth: 0, kvUtilization: 0, ttftP95LastMinute: nil)
        }
        #expect(h.desiredReplicas(obs(15, replicas: 2, inFlight: 8)) == 2)  // at target
        #expect(h.desiredReplicas(obs(30, replicas: 4, inFlight: 17)) == 4)  // 4.25 per replica: within 10% tolerance
        #expect(h.desiredReplicas(obs(45, replicas: 2, inFlight: 40)) == 6)  // ceil(2 × 20/4) = 10, limited to max(2+4, 4)
        #expect(h.desiredReplicas(obs(60, replicas: 6, inFlight: 4)) == 6)  // stabilised: 300 s window holds the 10
        #expect(h.desiredReplicas(obs(400, replicas: 6, inFlight: 4)) == 1)
    }

    @Test func kpaPanicsOnBurstsAndDoesNotScaleDownWhilePanicking() {
        var k = KPAPolicy(targetConcurrency: 2, maxReplicas: 50, coldStartSeconds: 0)
        func obs(_ t: Double, _ replicas: Int, _ inFlight: Int) -> Observation {
            Observation(time: t, replicas: replicas, readyReplicas: replicas, rateLastTick: 0, rateLastMinute: 0, inFlight: inFlight, queueDepth: 0, kvUtilization: 0, ttftP95LastMinute: nil)
        }
        var t = 0.0
        for _ in 0..<30 {
            t += 2
            _ = k.desiredReplicas(obs(t, 2, 4))
        }
        t += 2
        let burst = k.desiredReplicas(obs(t, 2, 40))
        #expect(burst >= 4)
        t += 2
        #expect(k.desiredReplicas(obs(t, burst, 2)) >= burst)
    }
}

@Suite struct TraceReaderTests {
    @Test func readsBothFormatsSorted() throws {
        let csv = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:50.5,10,2\n2023-11-16 18:15:46.5,20,3\n"
        let a = try TraceReader.parse(csv, format: .azureCSV)
        #expect(a.map(\.inputTokens) == [20, 10])
        #expect(a.map(\.arrival) == [0, 4])
        let jsonl = "{\"timestamp\": 1500, \"input_length\": 5, \"output_length\": 7, \"extra\": true}\n{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n"
        let b = try TraceReader.parse(jsonl, format: .jsonLines)
        #expect(b.map(\.arrival) == [0, 1.5])
    }

    @Test(arguments: [
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:50.5,10,2\nnot,a,row\n", 3),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:50.5,10\n", 2),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:50.5,-1,2\n", 2),
        ("time,in,out\n", 1),
    ])
    func malformedCSVRowsNameTheirLine(_ text: String, _ line: Int) {
        #expect(throws: TraceError.self) { try TraceReader.parse(text, format: .azureCSV) }
        do {
            _ = try TraceReader.parse(text, format: .azureCSV)
        } catch {
            #expect(error.line == line, "\(error)")
        }
    }

    @Test func malformedJSONLinesNameTheirLine() {
        for (text, line) in [("{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1}\n{oops\n", 2), ("{\"input_length\": 1}\n", 1), ("[1]\n", 1)] {
            do {
                _ = try TraceReader.parse(text, format: .jsonLines)
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.line == line, "\(error)")
            }
        }
        #expect(throws: TraceError.self) { try TraceReader.read(path: "/nonexistent/trace.csv") }
    }
}

@Suite struct OrderStatisticsTests {
    /// The selected quantile is the value a full sort puts at the same index, for sizes and
    /// duplicate patterns the TTFT and ITL windows produce.
    @Test(arguments: [0, 1, 2, 3, 7, 20, 101, 1000])
    func quantileMatchesASort(_ n: Int) {
        var g = SeededGenerator(seed: UInt64(n) + 7)
        for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
            for duplicates in [false, true] {
                var xs = (0..<n).map { _ in duplicates ? Double(Int.random(in: 0..<5, using: &g)) : Double.random(in: 0..<1, using: &g) }
                let sorted = xs.sorted()
                let expected = sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
                #expect(Order.quantile(&xs, q) == expected)
            }
        }
    }
}
