import Foundation
import LLMOpsCore
import Testing

/// Log-normal latencies (the shape TTFT and ITL distributions roughly have), from an injected RNG.
func lognormal(_ rng: inout SeededGenerator, median: Double, sigma: Double) -> Double {
    let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng), u2 = Double.random(in: 0..<1, using: &rng)
    let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    return median * exp(sigma * z)
}

@Suite struct CanaryJudgeTests {
    func samples(_ n: Int, median: Double, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in lognormal(&rng, median: median, sigma: 0.5) }
    }

    @Test func identicalArmsAdvanceOnceTheHorizonIsReached() throws {
        let input = CanaryJudgeInput(
            latencies: [LatencySamples(metric: "ttft", baseline: samples(800, median: 300, seed: 1), canary: samples(800, median: 300, seed: 2))],
            errors: ErrorCounts(baselineRequests: 800, baselineErrors: 2, canaryRequests: 800, canaryErrors: 1),
            stepElapsedSeconds: 100, stepDurationSeconds: 300)
        #expect(try CanaryJudge.judge(input).get().action == .continue)
        var done = input
        done.stepElapsedSeconds = 300
        let v = try CanaryJudge.judge(done).get()
        #expect(v.action == .advance)
        #expect(v.metrics.count == 2)
    }

    @Test func clearRegressionRollsBackWithTheNumbers() throws {
        for test in [CanaryTestKind.sequential, .mannWhitney] {
            let input = CanaryJudgeInput(
                latencies: [LatencySamples(metric: "ttft", baseline: samples(1000, median: 300, seed: 3), canary: samples(1000, median: 400, seed: 4))],
                test: test, stepElapsedSeconds: 600, stepDurationSeconds: 300)
            let v = try CanaryJudge.judge(input).get()
            #expect(v.action == .rollback, "\(test)")
            let ttft = try #require(v.metrics.first)
            #expect(abs(ttft.effectSize - 0.333) < 0.08)
            #expect(ttft.pValue < 0.01)
            #expect(v.explanation.summary.contains("ttft regressed"))
        }
    }

    @Test func errorSpikeRollsBack() throws {
        let input = CanaryJudgeInput(
            latencies: [], errors: ErrorCounts(baselineRequests: 5000, baselineErrors: 5, canaryRequests: 1000, canaryErrors: 40))
        #expect(try CanaryJudge.judge(input).get().action == .rollback)
    }

    @Test func healthyCanaryIsPacedFasterAndMarginalSlower() throws {
        let healthy = CanaryJudgeInput(
            latencies: [LatencySamples(metric: "itl", baseline: samples(3000, median: 40, seed: 5), canary: samples(3000, median: 36, seed: 6))])
        #expect(try CanaryJudge.judge(healthy).get().pace < 1)
        let marginal = CanaryJudgeInput(
            latencies: [LatencySamples(metric: "itl", baseline: samples(400, median: 40, seed: 7), canary: samples(400, median: 41.6, seed: 8))],
            maxRegression: 0.05)
        let v = try CanaryJudge.judge(marginal).get()
        #expect(v.action == .advance)
        #expect(v.pace > 1)
    }

    @Test func badInputIsRefused() {
        let input = CanaryJudgeInput(latencies: [LatencySamples(metric: "ttft", baseline: [1, -2], canary: [1, 2])])
        guard case .failure(.invalidInput(let field, _)) = CanaryJudge.judge(input) else {
            Issue.record("expected invalid input")
            return
        }
        #expect(field == "samples.ttft")
        #expect(throws: Never.self) { try CanaryJudge.judge(CanaryJudgeInput(latencies: [])).get() }
    }

    @Test func mannWhitneyMatchesAHandComputedExample() throws {
        // Canary all larger: U = n1·n2 = 9, z ≈ (9 − 4.5 − 0.5) / sqrt(9·7/12) = 1.746.
        let r = try #require(MannWhitney.test(baseline: [1, 2, 3], canary: [4, 5, 6], margin: 0))
        #expect(r.u == 9)
        #expect(abs(r.z - 1.7457) < 1e-3)
    }
}

/// Statistical calibration, on simulated log-normal latencies with σ = 0.5.
@Suite struct CanaryCalibrationTests {
    let alpha = 0.01
    let tau2 = 0.01  // mixing scale 0.1, the judge's default

    /// Runs one sequential experiment; returns the per-arm sample count at which it rejected, or nil.
    func sequentialRun(seed: UInt64, canaryShift: Double, maxPerArm: Int, every: Int) -> Int? {
        var rng = SeededGenerator(seed: seed)
        var b = RunningStats(), c = RunningStats()
        var pMin = 1.0
        for n in 1...maxPerArm {
            b.add(log(lognormal(&rng, median: 300, sigma: 0.5)))
            c.add(log(lognormal(&rng, median: 300 * (1 + canaryShift), sigma: 0.5)))
            guard n % every == 0 else { continue }
            let o = MixtureSPRT.test(estimate: c.mean - b.mean, variance: b.variance / Double(n) + c.variance / Double(n), tau2: tau2)
            pMin = min(pMin, o.pValue)
            if pMin <= alpha && o.estimate > 0 { return n }
        }
        return nil
    }

    @Test func sequentialFalseAlarmsStayAtTheNominalLevelDespitePeeking() {
        // 1,000 A/A runs, each checked 40 times: the always-valid test must stay at α = 1%.
        let runs = 1000
        let alarms = (0..<runs).filter { sequentialRun(seed: UInt64($0) &* 7919 &+ 1, canaryShift: 0, maxPerArm: 2000, every: 50) != nil }.count
        let rate = Double(alarms) / Double(runs)
        print("mSPRT false-alarm rate over \(runs) A/A runs with 40 looks each: \(rate) (nominal \(alpha))")
        // Binomial noise at n = 1000: 3σ ≈ 0.009 above 0.01.
        #expect(rate <= alpha + 0.009)
    }

    @Test func detectsATenPercentTTFTRegressionAndCountsSamples() {
        let runs = 300
        let detections = (0..<runs).compactMap { sequentialRun(seed: 50_000 &+ UInt64($0), canaryShift: 0.10, maxPerArm: 6000, every: 50) }
        let power = Double(detections.count) / Double(runs)
        let sorted = detections.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        let mean = detections.isEmpty ? 0 : Double(detections.reduce(0, +)) / Double(detections.count)

        // Fixed-horizon Mann–Whitney at the same α: samples per arm for 80% and 95% power.
        func mwPower(_ n: Int) -> Double {
            var hits = 0
            for r in 0..<100 {
                var rng = SeededGenerator(seed: 90_000 &+ UInt64(r) &* 31 &+ UInt64(n))
                let b = (0..<n).map { _ in lognormal(&rng, median: 300, sigma: 0.5) }
                let c = (0..<n).map { _ in lognormal(&rng, median: 330, sigma: 0.5) }
                if let o = MannWhitney.test(baseline: b, canary: c, margin: 0), o.pValue <= alpha { hits += 1 }
            }
            return Double(hits) / 100
        }
        let mwN = [400, 600, 800, 1000, 1400, 2000].first { mwPower($0) >= 0.8 } ?? -1
        print("10% TTFT regression (log-normal σ=0.5, α=0.01): mSPRT power \(power) within 6000/arm, median \(median), mean \(Int(mean)) samples per arm to detect; fixed-horizon Mann–Whitney needs ~\(mwN) per arm for 80% power (and cannot be looked at early)")
        #expect(power >= 0.95)
        #expect(median > 0 && median <= 2500)
        #expect(mwN > 0)
    }

    @Test func peekingAtMannWhitneyInflatesFalseAlarms() {
        // Why the sequential test exists: checking a fixed-horizon test at every interval
        // raises its false-alarm rate well above α.
        var alarms = 0
        let runs = 200
        for r in 0..<runs {
            var rng = SeededGenerator(seed: 123_456 &+ UInt64(r))
            var b: [Double] = [], c: [Double] = []
            for look in 1...20 {
                for _ in 0..<50 {
                    b.append(lognormal(&rng, median: 300, sigma: 0.5))
                    c.append(lognormal(&rng, median: 300, sigma: 0.5))
                }
                if look >= 2, let o = MannWhitney.test(baseline: b, canary: c, margin: 0), o.pValue <= alpha {
                    alarms += 1
                    break
                }
            }
        }
        let rate = Double(alarms) / Double(runs)
        print("Mann–Whitney checked 19 times per A/A run: false-alarm rate \(rate) (nominal \(alpha))")
        #expect(rate > alpha)
    }
}
