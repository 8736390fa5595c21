import Foundation
import Testing

@testable import LLMOpsCore

@Suite struct MultiStreamNetworkTests {
    let shape = MultiStreamNetwork.Shape(window: 5, resourceChannels: 2, performanceChannels: 2, deploymentInputs: 2, filters: 3, hidden: 3, dense: 2, fused: 4, outputs: 2)

    func randomInput(_ rng: inout SeededGenerator) -> MultiStreamNetwork.Input {
        MultiStreamNetwork.Input(
            resources: (0..<5).map { _ in (0..<2).map { _ in Double.random(in: -1...1, using: &rng) } },
            performance: (0..<5).map { _ in (0..<2).map { _ in Double.random(in: -1...1, using: &rng) } },
            deployment: (0..<2).map { _ in Double.random(in: -1...1, using: &rng) })
    }

    /// Backpropagation (including through time) agrees with central finite differences.
    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 99)
        for trial in 0..<5 {
            let net = MultiStreamNetwork(shape: shape, seed: UInt64(trial) + 1)
            let x = randomInput(&rng)
            let target = [0.3, -0.7], mask = [1.0, 1.0]
            let (_, grad) = net.lossAndGradient(x, target: target, mask: mask)
            let h = 1e-6
            var worst = 0.0
            for i in net.parameters.indices {
                var plus = net, minus = net
                plus.parameters[i] += h
                minus.parameters[i] -= h
                let numeric = (plus.lossAndGradient(x, target: target, mask: mask).0 - minus.lossAndGradient(x, target: target, mask: mask).0) / (2 * h)
                let scale = max(1e-4, abs(numeric) + abs(grad[i]))
                worst = max(worst, abs(numeric - grad[i]) / scale)
            }
            // ReLU kinks can make a handful of coordinates disagree; none here should.
            #expect(worst < 1e-3, "trial \(trial): worst relative gradient error \(worst)")
        }
    }

    @Test func learnsASeasonalSeriesBetterThanLastValue() {
        // A noisy sine: last value lags it; the network should learn the phase.
        var f = NeuralLoadForecaster(horizon: 3, seed: 7)
        var rng = SeededGenerator(seed: 5)
        var errNet = 0.0, errLast = 0.0, n = 0
        var series: [Double] = []
        for t in 0..<3000 {
            let y = 10 + 5 * sin(Double(t) * 2 * .pi / 24) + Double.random(in: -0.3...0.3, using: &rng)
            series.append(y)
            f.observe(MetricsSample(requestsPerSecond: y, tokensPerSecond: y * 100, replicas: 2, capacityPerReplica: 6))
            if t >= 2000, t >= 3, let p = f.forecastRate() {
                let truth = 10 + 5 * sin(Double(t + 3) * 2 * .pi / 24)
                errNet += abs(p - truth)
                errLast += abs(y - truth)
                n += 1
            }
        }
        #expect(n > 900)
        #expect(errNet < errLast * 0.8, "network MAE \(errNet / Double(n)) vs last value \(errLast / Double(n))")
        #expect(f.trainedExamples > 2900)
    }
}
