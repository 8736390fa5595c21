import LLMOpsCore
import Testing

@Suite struct BurstReserveTests {
    /// A flat rate needs no reserve; a 4× burst of a minute every five minutes needs about
    /// 4× (its requests are far more than the miss budget); a single short blip does not.
    @Test func reserveFollowsTheBurstsThatCarryRequests() {
        let flat = Array(repeating: 5.0, count: 360)
        #expect(BurstReserve.estimate(rates: flat, intervalSeconds: 10, lead: 50, missShare: 0.005) == 1)
        var bursty = flat
        for t in stride(from: 40, to: 360, by: 30) { for k in 0..<6 { bursty[t + k < 360 ? t + k : 359] = 20 } }
        let r = BurstReserve.estimate(rates: bursty, intervalSeconds: 10, lead: 50, missShare: 0.005)
        #expect(r > 2.5 && r < 4.5, "\(r)")
        var blip = flat
        blip[200] = 15  // 100 extra requests of ~18,000: inside a 1 % budget
        #expect(BurstReserve.estimate(rates: blip, intervalSeconds: 10, lead: 50, missShare: 0.01) == 1)
        // Too little history to say: no reserve yet.
        #expect(BurstReserve.estimate(rates: Array(bursty.prefix(20)), intervalSeconds: 10, lead: 50, missShare: 0.005) == 1)
    }

    /// The scaler keeps the reserve, counted at the replicas' saturation throughput, and says so.
    @Test func scalerHoldsTheReserve() throws {
        let policy = ScalerPolicy(minReplicas: 1, maxReplicas: 20)
        var input = ScalerInput(
            now: 1000, currentReplicas: 2, readyReplicas: 2, metrics: ScalerMetrics(requestsPerSecond: 4, observedAt: 1000), capacityPerReplica: 4,
            coldStartSeconds: 40, policy: policy)
        #expect(try DynamicScaler.decide(input).get().recommendedReplicas == 1)
        input.burstFactor = 3
        input.recentRequestsPerSecond = 4
        input.burstCapacityPerReplica = 6
        let d = try DynamicScaler.decide(input).get()
        #expect(d.recommendedReplicas == 2)  // 3 × 4 req/s = 12 at 6 per replica
        #expect(d.explanation.candidates.contains { $0.name == "burstReserve" && $0.chosen })
        input.burstFactor = 0.5
        #expect(throws: CoreError.self) { try DynamicScaler.decide(input).get() }
    }

    /// Just after a burst the recent rate holds it, and factor × recent would reserve for a
    /// burst on top of a burst: the reserve stops at the highest rate the history shows.
    @Test func reserveStopsAtTheHistorysPeak() throws {
        var input = ScalerInput(
            now: 1000, currentReplicas: 4, readyReplicas: 4, metrics: ScalerMetrics(requestsPerSecond: 4, observedAt: 1000), capacityPerReplica: 4,
            coldStartSeconds: 40, policy: ScalerPolicy(minReplicas: 1, maxReplicas: 40))
        input.burstFactor = 10
        input.recentRequestsPerSecond = 6
        input.burstCapacityPerReplica = 6
        #expect(try DynamicScaler.decide(input).get().recommendedReplicas == 10)  // 60 req/s at 6 each
        input.burstPeakRequestsPerSecond = 30
        let d = try DynamicScaler.decide(input).get()
        #expect(d.recommendedReplicas == 5)  // the peak, 30 req/s, at 6 each
        #expect(d.explanation.inputs.contains { $0.name == "burstReserve" && $0.value.contains("capped at the history's peak 30") })
        input.burstPeakRequestsPerSecond = .nan
        #expect(throws: CoreError.self) { try DynamicScaler.decide(input).get() }
        // The optimizer's expected cost stops there too.
        var load = LoadProfile(requestsPerSecond: 6, meanInputTokens: 512, meanOutputTokens: 128)
        load.burstFactor = 10
        let g = ReplicaGroup(gpuType: "L40S", tensorParallel: 1, replicas: 2, ratePerReplica: 4, pricePerReplicaHour: 2, saturationRatePerReplica: 6)
        #expect(ConfigurationOptimizer.expectedCostPerHour([g], load: load, minReplicas: 1) == 20)
        load.burstPeakRequestsPerSecond = 30
        #expect(ConfigurationOptimizer.expectedCostPerHour([g], load: load, minReplicas: 1) == 10)
    }
}
