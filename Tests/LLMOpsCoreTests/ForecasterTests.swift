import Foundation
import LLMOpsCore
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Requests per second in fixed buckets from an Azure LLM inference 2023 trace (CC-BY 4.0,
/// Patel et al., "Splitwise", ISCA 2024), read without the simulator so the core's tests stand alone.
func traceRates(_ file: String, bucketSeconds: Double) throws -> [Double] {
    let text = try String(contentsOf: repoRoot.appendingPathComponent("traces/\(file)"), encoding: .utf8)
    var times: [Double] = []
    for line in text.split(whereSeparator: \.isNewline).dropFirst() {
        let ts = line.split(separator: ",")[0]  // 2023-11-16 18:15:46.6805900
        let clock = ts.split(separator: " ")[1].split(separator: ":")
        times.append(Double(clock[0])! * 3600 + Double(clock[1])! * 60 + Double(clock[2])!)
    }
    let start = times.min()!
    let n = Int(((times.max()! - start) / bucketSeconds).rounded(.up))
    var counts = Array(repeating: 0.0, count: n)
    for t in times { counts[min(n - 1, Int((t - start) / bucketSeconds))] += 1 }
    return counts.map { $0 / bucketSeconds }
}

@Suite struct ForecasterTests {
    @Test func baselinesOnSyntheticSeries() {
        var last = LastValueForecaster()
        #expect(last.forecast(steps: 1) == nil)
        last.observe(3)
        #expect(last.forecast(steps: 5) == 3)

        var seasonal = SeasonalNaiveForecaster(period: 4)
        for x in [1.0, 2, 3, 4, 1, 2, 3, 4] { seasonal.observe(x) }
        #expect((1...4).map { seasonal.forecast(steps: $0)! } == [1, 2, 3, 4])

        var holt = HoltForecaster(alpha: 0.8, beta: 0.5, phi: 1)
        #expect(holt.forecast(steps: 1) == nil)
        for x in stride(from: 0.0, through: 20, by: 1) { holt.observe(x) }
        #expect(abs(holt.forecast(steps: 5)! - 25) < 1)

        var hw = HoltWintersForecaster(period: 4)
        for cycle in 0..<30 { for x in [10.0, 20, 30, 20] { hw.observe(x + Double(cycle) * 0.1) } }
        #expect(abs(hw.forecast(steps: 3)! - 33) < 2.5)
        #expect(abs(hw.forecast(steps: 1)! - 13) < 2.5)
    }

    /// Held-out evaluation on both shared traces: the forecaster shipped as the default must
    /// beat (or tie) the last-value baseline on data it was not tuned on, else the baseline ships.
    @Test(arguments: ["azure-llm-inference-2023-conv.csv", "azure-llm-inference-2023-code.csv"])
    func defaultForecasterEarnsItsPlaceOnHeldOutTraces(file: String) throws {
        let series = try traceRates(file, bucketSeconds: 10)
        let holdout = series.count / 2
        let horizon = 6  // one minute ahead: a model's cold start
        let scores = [
            ForecastEvaluation.score(LastValueForecaster(), series: series, horizon: horizon, evaluateFrom: holdout),
            ForecastEvaluation.score(HoltForecaster(), series: series, horizon: horizon, evaluateFrom: holdout),
        ]
        for s in scores {
            print("\(file) [CC-BY 4.0, Azure LLM inference 2023]: \(s.name) MAE \(String(format: "%.3f", s.meanAbsoluteError)) req/s, under-forecast \(String(format: "%.0f", s.underForecastShare * 100))% over \(s.count) forecasts")
        }
        let best = scores.min { $0.meanAbsoluteError < $1.meanAbsoluteError }!
        #expect(best.count > 100)
        let chosen = ScalingDefaults.forecaster
        let chosenScore = scores.first { $0.name == chosen }!
        #expect(chosenScore.meanAbsoluteError <= scores[0].meanAbsoluteError * 1.0001, "default \(chosen) must not lose to lastValue")
    }
}
