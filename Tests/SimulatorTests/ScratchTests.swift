import Foundation
import Testing
@testable import LLMOpsCore
@testable import Simulator

@Test func scratchTransientProbe() throws {
    guard let path = ProcessInfo.processInfo.environment["SCRATCH_TRACE"] else { return }
    let trace = try TraceReader.read(path: path)
    let longest = trace.map { $0.inputTokens + $0.outputTokens }.max()!
    let context = max(8192, 1 << Int(log2(Double(longest) - 1e-9).rounded(.up)))
    let model = ModelProfile.estimated(parameters: 8e9, bytesPerParameter: 2, contextLength: context)
    let slo = LatencySLO(ttftSeconds: 2, itlSeconds: 0.1, attainment: 0.99)
    let load = Evaluation.loadProfile(trace, attainment: 0.99)
    for (g, tp) in [("H100", 1), ("L40S", 2)] {
        let r = ReplicaModel(model: model, gpu: GPUCatalog.standard[g]!, tensorParallel: tp)
        let med = r.burstRate(for: load, slo: slo), up = r.rateUpperBound(for: load)
        print(g, tp, "max99", r.maxRate(for: load, slo: slo), "burst(med)", med, "upper", up)
        for d in [10.0, 30, 60, 120, 300] {
            var line = String(format: "  D %3.0f:", d)
            for frac in stride(from: 0.9, through: 1.6, by: 0.1) {
                let lb = med * frac
                var g2 = SeededGenerator(seed: 3)
                var reqs: [TraceRequest] = []
                var t = 0.0
                let cycle = 600.0
                while t < 7200 {
                    let ph = t.truncatingRemainder(dividingBy: cycle)
                    let rate = ph >= 300 && ph < 300 + d ? lb : 0.5 * med
                    t += Random.exponential(&g2, mean: 1 / rate)
                    let s = trace[Int(Random.uniform(&g2) * Double(trace.count))]
                    reqs.append(TraceRequest(arrival: t, inputTokens: s.inputTokens, outputTokens: s.outputTokens))
                }
                let setup = SimulationSetup(requests: reqs, replica: r, slo: slo, maxReplicas: 1, initialReplicas: 1)
                let res = simulate(setup, policy: StaticPolicy(replicas: 1))
                // burst requests: arrivals within the burst
                let burstN = reqs.filter { let ph = $0.arrival.truncatingRemainder(dividingBy: cycle); return ph >= 300 && ph < 300 + d }.count
                let missed = (1 - res.sloAttainment) * Double(reqs.count)
                line += String(format: "  x%.1f:%.2f", frac, min(1, missed / Double(burstN)))
            }
            print(line)
        }
    }
}
