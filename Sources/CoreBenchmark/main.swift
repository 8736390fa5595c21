// Benchmark of one full-cluster decision of the optimization core: for 500 deployments,
// choose GPU type, TP degree and replica count (ConfigurationOptimizer), then place every
// replica on 1,000 nodes × 8 GPUs (Placer). Run through hack/bench-core.sh, which builds in
// release mode and counts allocations with an LD_PRELOAD malloc counter.
import Foundation
import LLMOpsCore


let nodesCount = Int(CommandLine.arguments.dropFirst().first ?? "1000") ?? 1000
let deploymentsCount = Int(CommandLine.arguments.dropFirst(2).first ?? "500") ?? 500
let iterations = Int(CommandLine.arguments.dropFirst(3).first ?? "30") ?? 30

var rng = SeededGenerator(seed: 42)
let types = ["H100", "A100-80GB", "L40S", "L4"]
let nodes = (0..<nodesCount).map { i in
    GPUNode(name: "node-\(i)", gpuType: types[i % types.count], gpuCount: 8, unhealthyGPUs: i % 97 == 0 ? [3] : [], zone: "zone-\(i % 3)")
}
let models = [1.2e9, 3.2e9, 8e9, 13e9, 34e9, 70e9]
let requests: [OptimizerRequest] = (0..<deploymentsCount).map { _ in
    let model = ModelProfile.estimated(parameters: models.randomElement(using: &rng)!, bytesPerParameter: [2.0, 1.0].randomElement(using: &rng)!, contextLength: 8192)
    let load = LoadProfile(
        requestsPerSecond: Double.random(in: 0.5...6, using: &rng), meanInputTokens: Double.random(in: 200...2000, using: &rng),
        meanOutputTokens: Double.random(in: 50...400, using: &rng))
    let slo = LatencySLO(ttftSeconds: Double.random(in: 1...4, using: &rng), itlSeconds: Double.random(in: 0.05...0.15, using: &rng))
    return OptimizerRequest(model: model, load: load, slo: slo, allowedGPUs: Array(types.shuffled(using: &rng).prefix(3)), allowMixed: Bool.random(using: &rng))
}

typealias CounterFn = @convention(c) () -> UInt64
let counter: CounterFn? = dlsym(dlopen(nil, RTLD_NOW), "llmops_malloc_count").map { unsafeBitCast($0, to: CounterFn.self) }

/// One full decision; returns (replicas placed, replicas unplaced, infeasible deployments).
func decide() -> (Int, Int, Int) {
    var replicas: [ReplicaRequest] = []
    var infeasible = 0
    for (d, request) in requests.enumerated() {
        switch ConfigurationOptimizer.optimize(request) {
        case .success(let plan):
            for g in plan.groups {
                for k in 0..<g.replicas {
                    replicas.append(ReplicaRequest(id: "d\(d)-\(g.gpuType)-\(k)", deployment: "d\(d)", gpuType: g.gpuType, gpus: g.tensorParallel))
                }
            }
        case .failure:
            infeasible += 1
        }
    }
    let placement = Placer.place(replicas, on: nodes)
    return (placement.assignments.count, placement.unplaced.count, infeasible)
}

func measure(_ body: () -> Void) -> (seconds: Double, allocations: UInt64?) {
    let a0 = counter?()
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    let t1 = DispatchTime.now().uptimeNanoseconds
    let a1 = counter?()
    return (Double(t1 - t0) / 1e9, a0.flatMap { start in a1.map { $0 - start } })
}

let warm = decide()
var times: [Double] = []
var allocs: [UInt64] = []
var optimizerTimes: [Double] = []
var placementTimes: [Double] = []
for _ in 0..<iterations {
    let m = measure { _ = decide() }
    times.append(m.seconds)
    if let a = m.allocations { allocs.append(a) }
    optimizerTimes.append(measure { for r in requests { _ = ConfigurationOptimizer.optimize(r) } }.seconds)
}
// Placement alone, from fixed plans.
var fixedReplicas: [ReplicaRequest] = []
for (d, r) in requests.enumerated() {
    if case .success(let plan) = ConfigurationOptimizer.optimize(r) {
        for g in plan.groups { for k in 0..<g.replicas { fixedReplicas.append(ReplicaRequest(id: "d\(d)-\(k)-\(g.gpuType)", deployment: "d\(d)", gpuType: g.gpuType, gpus: g.tensorParallel)) } }
    }
}
for _ in 0..<iterations { placementTimes.append(measure { _ = Placer.place(fixedReplicas, on: nodes) }.seconds) }

func pct(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}
print("cluster: \(nodesCount) nodes × 8 GPUs, \(deploymentsCount) deployments; one decision places \(warm.0) replicas (\(warm.1) unplaceable, \(warm.2) deployments infeasible)")
print(String(format: "full decision:   p50 %.1f ms  p99 %.1f ms  (target < 100 ms)", pct(times, 0.5) * 1000, pct(times, 0.99) * 1000))
print(String(format: "  optimizer:     p50 %.1f ms  p99 %.1f ms", pct(optimizerTimes, 0.5) * 1000, pct(optimizerTimes, 0.99) * 1000))
print(String(format: "  placement:     p50 %.1f ms  p99 %.1f ms", pct(placementTimes, 0.5) * 1000, pct(placementTimes, 0.99) * 1000))
if let median = allocs.sorted().dropFirst(allocs.count / 2).first {
    print("allocations per full decision: \(median) (median)")
} else {
    print("allocations: run through hack/bench-core.sh to count them")
}
