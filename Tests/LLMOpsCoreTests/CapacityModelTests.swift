import LLMOpsCore
import PropertyBased
import Testing

let llama8B = ModelProfile(parameters: 8.03e9, bytesPerParameter: 2, layers: 32, hiddenSize: 4096, attentionHeads: 32, kvHeads: 8, contextLength: 8192)
let llama70B = ModelProfile(parameters: 70.6e9, bytesPerParameter: 2, layers: 80, hiddenSize: 8192, attentionHeads: 64, kvHeads: 8, contextLength: 8192)
let chatLoad = LoadProfile(requestsPerSecond: 5, meanInputTokens: 1155, meanOutputTokens: 211)
let chatSLO = LatencySLO(ttftSeconds: 1.0, itlSeconds: 0.06, attainment: 0.99)

@Suite struct CapacityModelTests {
    @Test func kvCacheSizingMatchesHandComputation() {
        // Llama 3.1 8B: 2 × 32 layers × 8 KV heads × 128 dims × 2 bytes = 128 KiB per token.
        #expect(llama8B.kvBytesPerToken == 131_072)
        let l40s = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        // 48 GB × 0.9 − 2 GB reserved − 16.06 GB weights = 25.14 GB of cache.
        #expect(abs(l40s.kvCacheBytes - 25.14e9) < 1e7)
        #expect(l40s.fits)
    }

    @Test func seventyBillionDoesNotFitOnOneSmallGPU() {
        let one = ReplicaModel(model: llama70B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        #expect(!one.fits)
        #expect(one.infeasibility?.contains("weights need") == true)
        let four = ReplicaModel(model: llama70B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 4)
        #expect(four.fits)
    }

    @Test func latencyRisesWithLoadAndSaturates() {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["A100-80GB"]!, tensorParallel: 1)
        var last = 0.0
        var sawUnstable = false
        for rate in stride(from: 0.0, through: 40, by: 0.5) {
            var l = chatLoad
            l.requestsPerSecond = rate
            let p = r.performance(at: l, quantile: 0.99)
            if !p.stable {
                sawUnstable = true
                continue
            }
            #expect(!sawUnstable, "stable again after saturating at \(rate)")
            #expect(p.ttftQuantileSeconds >= last - 1e-12)
            last = p.ttftQuantileSeconds
        }
        #expect(sawUnstable)
    }

    @Test func fasterGPUServesMore() {
        // Ordered by both compute and bandwidth, so the order cannot depend on the load's mix.
        let rates = ["L4", "L40S", "H100", "H200"].map { name in
            ReplicaModel(model: llama8B, gpu: GPUCatalog.standard[name]!, tensorParallel: 1).maxRate(for: chatLoad, slo: chatSLO)
        }
        #expect(rates == rates.sorted(), "\(rates)")
        #expect(rates.last! > 0)
    }

    @Test func maxRateMeetsTheSLOAndJustAboveDoesNot() {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        let max = r.maxRate(for: chatLoad, slo: chatSLO)
        #expect(max > 0)
        var at = chatLoad
        at.requestsPerSecond = max
        let p = r.performance(at: at, quantile: 0.99)
        #expect(p.ttftQuantileSeconds <= chatSLO.ttftSeconds && p.itlQuantileSeconds <= chatSLO.itlSeconds)
        at.requestsPerSecond = max * 1.02
        let q = r.performance(at: at, quantile: 0.99)
        #expect(!q.stable || q.ttftQuantileSeconds > chatSLO.ttftSeconds || q.itlQuantileSeconds > chatSLO.itlSeconds)
    }
}
