import LLMOpsCore
import PropertyBased
import Testing

/// Drives the scaler like a controller would: every `period` seconds, feeding back its state.
struct ScalerHarness {
    var policy: ScalerPolicy
    var capacity = 2.0
    var coldStart = 120.0
    var replicas: Int
    var state = ScalerState()
    var now = 0.0
    var decisions: [ScalingDecision] = []

    init(policy: ScalerPolicy, replicas: Int) {
        self.policy = policy
        self.replicas = replicas
    }

    @discardableResult
    mutating func step(rate: Double?, queue: Double? = nil, forecast: [ForecastPoint] = [], ready: Int? = nil, stale: Bool = false, dt: Double = 15) -> ScalingDecision {
        now += dt
        let metrics = rate.map { ScalerMetrics(requestsPerSecond: $0, queueDepth: queue, observedAt: stale ? now - 600 : now) }
        let input = ScalerInput(
            now: now, currentReplicas: replicas, readyReplicas: ready ?? replicas, metrics: metrics, forecast: forecast, capacityPerReplica: capacity,
            coldStartSeconds: coldStart, policy: policy, state: state)
        let d = try! DynamicScaler.decide(input).get()
        state = d.state
        replicas = d.desiredReplicas
        decisions.append(d)
        return d
    }
}

@Suite struct DynamicScalerTests {
    let policy = ScalerPolicy(minReplicas: 1, maxReplicas: 20, mode: .reactive)

    @Test func stepLoadScalesUpWithinStepLimitsThenHolds() {
        var h = ScalerHarness(policy: policy, replicas: 1)
        for _ in 0..<10 { h.step(rate: 1) }
        #expect(h.replicas == 1)
        // A step to 20 req/s needs 10 replicas; up to 4 per 30 s.
        var trajectory: [Int] = []
        for _ in 0..<8 { trajectory.append(h.step(rate: 20).desiredReplicas) }
        #expect(trajectory.last == 10)
        // The first high sample after a long flat run is treated as a possible spike; the
        // second confirms it and scaling starts, 4 replicas per 30 s.
        #expect(h.decisions[10].anomalyDetected)
        #expect(trajectory[0] == 1)
        #expect(trajectory[1] == 5)
        for (a, b) in zip([1] + trajectory, trajectory) { #expect(b - a <= 4) }
        #expect(h.decisions.last!.explanation.summary.hasPrefix("hold"))
    }

    @Test func rampDownIsStabilisedAndGradual() {
        var h = ScalerHarness(policy: policy, replicas: 10)
        for _ in 0..<5 { h.step(rate: 20) }
        var trajectory: [Int] = []
        for _ in 0..<120 { trajectory.append(h.step(rate: 2).desiredReplicas) }
        // No scale-down within the default 300 s stabilisation window (20 steps of 15 s), then
        // at most 4 replicas per 60 s period.
        #expect(policy.scaleDown.stabilizationWindowSeconds == ScalerPolicy.defaultScaleDownWindowSeconds)
        #expect(ScalerPolicy.defaultScaleDownWindowSeconds == 300)
        #expect(trajectory.prefix(19).allSatisfy { $0 == 10 })
        #expect(trajectory.last == 1)
        for start in trajectory.indices.dropLast(4) { #expect(trajectory[start] - trajectory[start + 4] <= 4) }
    }

    @Test func staleOrMissingMetricsNeverScaleDown() {
        var h = ScalerHarness(policy: policy, replicas: 6)
        for _ in 0..<40 {
            #expect(h.step(rate: nil).desiredReplicas == 6)
            #expect(h.step(rate: 0.1, stale: true).desiredReplicas == 6)
        }
        #expect(h.decisions.allSatisfy { $0.metricsStale })
    }

    @Test func replicasStillStartingAreNotRemoved() {
        var h = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 20, mode: .reactive, scaleDown: .init(stabilizationWindowSeconds: 0, maxStep: 5, periodSeconds: 15, cooldownSeconds: 0)), replicas: 6)
        let d = h.step(rate: 1, ready: 3)
        #expect(d.desiredReplicas == 6)
        #expect(d.explanation.reasons.joined().contains("still starting"))
    }

    @Test func singleSpikeIsFlaggedAndDoesNotFlap() {
        var h = ScalerHarness(policy: policy, replicas: 2)
        for _ in 0..<20 { h.step(rate: 3) }
        let spike = h.step(rate: 60)
        #expect(spike.anomalyDetected)
        #expect(spike.desiredReplicas == 2)
        for _ in 0..<30 { h.step(rate: 3) }
        #expect(Set(h.decisions.map(\.desiredReplicas)) == [2])
        // A sustained change is real: the second high sample scales.
        h.step(rate: 30)
        #expect(h.step(rate: 30).desiredReplicas > 2)
    }

    @Test func spikeCorroboratedByQueuesIsActedOnAtOnce() {
        var h = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 20, mode: .reactive, queueDepthPerReplica: 4), replicas: 2)
        for _ in 0..<20 { h.step(rate: 3, queue: 0) }
        let burst = h.step(rate: 60, queue: 50)
        #expect(!burst.anomalyDetected)
        #expect(burst.desiredReplicas == 6)
    }

    @Test func queueBuildUpScalesEvenWhenRateLooksFine() {
        var h = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 20, mode: .reactive, queueDepthPerReplica: 4), replicas: 2)
        let d = h.step(rate: 1, queue: 40)
        #expect(d.desiredReplicas == 6)  // 2 + 4 (step limit) toward 10
        #expect(d.explanation.candidates.contains { $0.name == "queueDepthPerReplica" && $0.chosen })
    }

    @Test func predictiveStartsReplicasAColdStartAheadOfThePeak() {
        var h = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 20, mode: .hybrid), replicas: 2)
        // Peak of 16 req/s expected 100 s from now, within cold start (120 s) + period: act now.
        let soon = h.step(rate: 2, forecast: [ForecastPoint(secondsAhead: 100, requestsPerSecond: 16)])
        #expect(soon.desiredReplicas == 6)
        // A peak 30 minutes away is not paid for yet.
        var h2 = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 20, mode: .hybrid), replicas: 2)
        let later = h2.step(rate: 2, forecast: [ForecastPoint(secondsAhead: 60, requestsPerSecond: 2), ForecastPoint(secondsAhead: 1800, requestsPerSecond: 16)])
        #expect(later.desiredReplicas == 2)
    }

    @Test func scaleToZeroAfterIdleAndBackOnDemand() {
        var h = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 5, mode: .reactive, scaleToZero: true, idleSeconds: 300), replicas: 1)
        for _ in 0..<19 { #expect(h.step(rate: 0).desiredReplicas == 1) }
        #expect(h.step(rate: 0, dt: 30).desiredReplicas == 0)
        #expect(h.step(rate: 0).desiredReplicas == 0)
        #expect(h.step(rate: 0, queue: 3).desiredReplicas >= 1)
    }

    /// With minReplicas 0, zero is reached only through the idle rule: a quiet minute is not
    /// a reason to drop the last replica, and a fleet at zero stays there until a request.
    @Test func minReplicasZeroReachesZeroOnlyWhenIdle() {
        var h = ScalerHarness(policy: ScalerPolicy(minReplicas: 0, maxReplicas: 5, mode: .reactive, scaleToZero: true, idleSeconds: 300), replicas: 1)
        for _ in 0..<5 { #expect(h.step(rate: 0).desiredReplicas == 1) }
        var parked = ScalerHarness(policy: ScalerPolicy(minReplicas: 0, maxReplicas: 5, mode: .reactive, scaleToZero: true, idleSeconds: 300), replicas: 0)
        for _ in 0..<5 { #expect(parked.step(rate: 0).desiredReplicas == 0) }
        #expect(parked.step(rate: 0.1, queue: 1).desiredReplicas == 1)
        var never = ScalerHarness(policy: ScalerPolicy(minReplicas: 0, maxReplicas: 5, mode: .reactive, scaleToZero: false), replicas: 1)
        for _ in 0..<40 { #expect(never.step(rate: 0).desiredReplicas == 1) }
    }

    @Test func invalidPolicyNamesTheField() {
        let bad = ScalerInput(now: 0, currentReplicas: 1, readyReplicas: 1, metrics: nil, capacityPerReplica: 1, coldStartSeconds: 0, policy: ScalerPolicy(minReplicas: 5, maxReplicas: 2))
        guard case .failure(.invalidInput(let f, _)) = DynamicScaler.decide(bad) else {
            Issue.record("expected invalid")
            return
        }
        #expect(f == "maxReplicas")
    }

    /// Property: whatever the load sequence, replicas stay within bounds, never step faster
    /// than allowed, and never fall while metrics are stale.
    @Test func boundsAndStepLimitsHoldForRandomLoads() async {
        await propertyCheck(count: 100, input: Gen.uint64()) { seed in
            var rng = SeededGenerator(seed: seed)
            let minR = Int.random(in: 0...3, using: &rng)
            let policy = ScalerPolicy(
                minReplicas: minR, maxReplicas: minR + Int.random(in: 1...15, using: &rng), mode: [.reactive, .predictive, .hybrid].randomElement(using: &rng)!,
                queueDepthPerReplica: 4, scaleToZero: Bool.random(using: &rng), idleSeconds: 120)
            var h = ScalerHarness(policy: policy, replicas: minR)
            for _ in 0..<80 {
                let before = h.replicas
                let stale = Int.random(in: 0..<10, using: &rng) == 0
                let rate = Double.random(in: 0...40, using: &rng) * (Bool.random(using: &rng) ? 1 : 0.1)
                let d = h.step(
                    rate: rate, queue: Double.random(in: 0...20, using: &rng), forecast: [ForecastPoint(secondsAhead: 60, requestsPerSecond: rate * 1.2)],
                    stale: stale)
                #expect(d.desiredReplicas <= policy.maxReplicas)
                #expect(d.desiredReplicas >= (policy.scaleToZero ? 0 : policy.minReplicas))
                #expect(d.desiredReplicas - before <= policy.scaleUp.maxStep)
                if stale { #expect(d.desiredReplicas >= min(before, policy.maxReplicas)) }
            }
        }
    }
}

/// Queues and minute-long latency percentiles cannot show replicas still starting or added
/// within the last minute; acting on them again compounds into oscillation.
@Suite struct SettlingSignalsTests {
    @Test func queueSignalHoldsWhileAddedReplicasAreNotYetInIt() {
        var h = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 40, mode: .reactive, queueDepthPerReplica: 4), replicas: 2)
        #expect(h.step(rate: 1, queue: 40).desiredReplicas == 6)  // 2 + 4 (step limit) toward 10
        // The queue is still there (the new replicas start for 120 s): no more from it.
        let held = h.step(rate: 1, queue: 60, ready: 2)
        #expect(held.desiredReplicas == 6)
        #expect(held.explanation.candidates.contains { $0.name == "queueDepthPerReplica" && $0.note.contains("not in it yet") })
        // The request rate still scales at once: it does not lag.
        #expect(h.step(rate: 30, queue: 60, ready: 2).desiredReplicas > 6)
        // Once everything is ready and a minute has passed, the queue counts again.
        var g = ScalerHarness(policy: ScalerPolicy(minReplicas: 1, maxReplicas: 40, mode: .reactive, queueDepthPerReplica: 4), replicas: 6)
        g.step(rate: 1, queue: 0)
        #expect(g.step(rate: 1, queue: 60, dt: 61).desiredReplicas == 10)
    }

    @Test func efficiencyShrinksOncePerLatencyWindow() {
        var e = EfficiencyEstimator()
        let stressed = { (e: inout EfficiencyEstimator, t: Double?) in
            e.observe(ratePerReplica: 5, modelCapacity: 5, ttftP95: 1.9, ttftTarget: 2, queuePerReplica: 0, now: t)
        }
        #expect(abs(stressed(&e, 0) - 0.85) < 1e-9)
        for t in stride(from: 15.0, to: 60, by: 15) { #expect(abs(stressed(&e, t) - 0.85) < 1e-9) }
        #expect(abs(stressed(&e, 60) - 0.85 * 0.85) < 1e-9)
        // Without a clock every stressed sample counts, as before.
        var legacy = EfficiencyEstimator()
        for _ in 0..<3 { stressed(&legacy, nil) }
        #expect(abs(legacy.factor - 0.85 * 0.85 * 0.85) < 1e-9)
    }

    /// Latency that looks fine may spend the headroom the sizing keeps, not more: the factor
    /// times (1 − headroom) never passes the model's capacity.
    @Test func efficiencyGrowsAtMostIntoTheHeadroom() {
        var e = EfficiencyEstimator(bounds: EfficiencyEstimator.bounds(headroom: 0.1))
        for t in 0..<200 {
            e.observe(ratePerReplica: 5 * e.factor, modelCapacity: 5, ttftP95: 0.2, ttftTarget: 2, queuePerReplica: 0, now: Double(t) * 15)
        }
        #expect(e.factor > 1.1 && e.factor * 0.9 <= 1 + 1e-9, "\(e.factor)")
        #expect(EfficiencyEstimator.bounds(headroom: 0).upperBound == 1)
    }
}

/// Where requests arrive in groups a replica of a small fleet carries less than one of a
/// large fleet: the scaler counts replicas with the scale for the fleet it would have.
@Suite struct FleetScaledCapacityTests {
    func input(rate: Double, scale: [Double]) -> ScalerInput {
        var i = ScalerInput(
            now: 100, currentReplicas: 1, readyReplicas: 1, metrics: ScalerMetrics(requestsPerSecond: rate, observedAt: 100), capacityPerReplica: 10,
            coldStartSeconds: 60, policy: ScalerPolicy(minReplicas: 1, maxReplicas: 50))
        i.capacityScaleByFleet = scale
        return i
    }

    @Test func replicasForARateUseTheFleetsScale() {
        let scale = [0.3, 0.7, 0.9, 1.0]
        let i = input(rate: 0, scale: scale)
        // 1 replica carries 3, 2 carry 14, 3 carry 27, n ≥ 4 carry 10·n.
        #expect([2.0, 3, 3.5, 14, 14.5, 27, 28, 40, 41].map { i.replicas(for: $0) } == [1, 1, 2, 2, 3, 3, 4, 4, 5])
        #expect(input(rate: 0, scale: []).replicas(for: 14.5) == 2)
        let d = try! DynamicScaler.decide(input(rate: 14.5, scale: scale)).get()
        #expect(d.recommendedReplicas == 3)
        #expect(d.explanation.candidates.contains { $0.name == "rate" && $0.note.contains("grouped arrivals") })
    }

    @Test func aBadScaleIsRejectedWithItsIndex() {
        let r = DynamicScaler.decide(input(rate: 5, scale: [0.5, .nan]))
        #expect(r == .failure(.invalidInput(field: "capacityScaleByFleet[1]", reason: "must be a finite, non-negative multiple")))
        let last = DynamicScaler.decide(input(rate: 5, scale: [0, 0.5, 0]))
        #expect(last == .failure(.invalidInput(field: "capacityScaleByFleet[2]", reason: "must be positive: it holds for every larger fleet")))
        // A fleet of one that cannot meet the SLO: two replicas for any load.
        #expect(input(rate: 0, scale: [0, 0.8, 1]).replicas(for: 0.1) == 2)
    }
}

