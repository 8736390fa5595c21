@testable import LLMOpsCore
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
        let p = r.performance(at: at, quantile: 0.99, itlTarget: chatSLO.itlSeconds)
        #expect(p.ttftQuantileSeconds <= chatSLO.ttftSeconds && p.itlMissShare <= 0.01)
        at.requestsPerSecond = max * 1.02
        let q = r.performance(at: at, quantile: 0.99, itlTarget: chatSLO.itlSeconds)
        #expect(!q.stable || q.ttftQuantileSeconds > chatSLO.ttftSeconds || q.itlMissShare > 0.01)
    }

    /// A burst is carried above the SLO capacity (only the median request must meet the
    /// objectives) and below compute saturation, on every configuration that serves.
    @Test func burstRateLiesBetweenSLOCapacityAndSaturation() {
        for name in ["L4", "L40S", "A100-80GB", "H100"] {
            for tp in [1, 2] {
                let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard[name]!, tensorParallel: tp)
                let steady = r.maxRate(for: chatLoad, slo: chatSLO)
                guard steady > 0 else { continue }
                let burst = r.burstRate(for: chatLoad, slo: chatSLO)
                #expect(burst >= steady, "\(name)×\(tp): \(burst) < \(steady)")
                #expect(burst < r.rateUpperBound(for: chatLoad), "\(name)×\(tp)")
            }
        }
        // The margin is real, not a rounding of the same number.
        let h100 = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1)
        #expect(h100.burstRate(for: chatLoad, slo: chatSLO) > h100.maxRate(for: chatLoad, slo: chatSLO) * 1.05)
    }

    /// Short answers beside long prompts: one long prompt prefilled during a 5-token answer
    /// slows most of its steps, so the ITL miss share must grow with prompt length at a fixed
    /// rate, and be larger for short outputs than for long ones.
    @Test func itlMissesComeFromLongPromptsBesideShortAnswers() {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        func miss(input: Double, output: Double) -> Double {
            let load = LoadProfile(requestsPerSecond: 1, meanInputTokens: input, meanOutputTokens: output)
            return r.performance(at: load, quantile: 0.99, itlTarget: 0.1).itlMissShare
        }
        #expect(miss(input: 4000, output: 10) > miss(input: 500, output: 10))
        #expect(miss(input: 3000, output: 6) > miss(input: 3000, output: 300))
        #expect(miss(input: 200, output: 200) < 0.001)
        // Measured strata override the exponential assumption.
        let short = LoadProfile(requestsPerSecond: 1, meanInputTokens: 3000, meanOutputTokens: 30, outputStrata: Array(repeating: 4, count: 20))
        let long = LoadProfile(requestsPerSecond: 1, meanInputTokens: 3000, meanOutputTokens: 30, outputStrata: Array(repeating: 400, count: 20))
        #expect(r.performance(at: short, quantile: 0.99, itlTarget: 0.1).itlMissShare > r.performance(at: long, quantile: 0.99, itlTarget: 0.1).itlMissShare)
        #expect(LoadProfile(requestsPerSecond: 1, meanInputTokens: 10, meanOutputTokens: 10, outputStrata: [0.5]).validate() != nil)
    }

    /// A request's steps each carry at most one chunk of prompt tokens, so where a full mixed
    /// step still meets the ITL target no request can miss it, however long the prompts it
    /// meets: on an H100 a 2,048-token chunk takes about 60 ms, under a 100 ms target; on an
    /// L40S about 180 ms, so short answers beside long prompts do miss there.
    @Test func aStepCarriesOneChunkSoFastGPUsCannotMissITL() {
        let prompts = (0..<20).map { 500 + 400 * Double($0) }  // up to 8,100 tokens: four chunks
        let load = LoadProfile(
            requestsPerSecond: 4, meanInputTokens: prompts.reduce(0, +) / 20, meanOutputTokens: 8, inputStrata: prompts,
            outputStrata: (0..<20).map { 2 + Double($0 % 10) })
        let h100 = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1)
        let l40s = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        #expect(h100.prefillSeconds(tokens: 2048) < 0.09 && l40s.prefillSeconds(tokens: 2048) > 0.11)
        #expect(h100.performance(at: load, quantile: 0.99, itlTarget: 0.1).itlMissShare == 0)
        var light = load
        light.requestsPerSecond = 0.5
        #expect(l40s.performance(at: light, quantile: 0.99, itlTarget: 0.1).itlMissShare > 0.01)
    }

    /// The cache a running sequence holds is weighted by how long it runs (long answers stay
    /// longest), and the cache in use fluctuates with how many run and how long their prompts
    /// are: a replica is rated only where the cache holds at the attainment quantile, and the
    /// batch cap bounds how many run whatever the cache.
    @Test func admissionHoldsAtTheQuantileNotOnlyOnAverage() {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1)
        let chat = LoadProfile(requestsPerSecond: 5, meanInputTokens: 2000, meanOutputTokens: 300)
        // Exponential outputs: E[O²]/E[O] = 2 × 300, so each running sequence holds about
        // 2,600 tokens, not the 2,300 of a mean request.
        let perSequence = 2000.0 + 600
        let n = (r.kvCacheTokens / perSequence * 0.95).rounded(.down)
        #expect(r.admits(running: n, load: chat, quantile: 0.5))
        #expect(!r.admits(running: n, load: chat, quantile: 0.99))
        #expect(!r.admits(running: r.kvCacheTokens / perSequence * 1.05, load: chat, quantile: 0.5))
        // Tiny requests: the cache never binds, the batch cap does.
        let tiny = LoadProfile(requestsPerSecond: 5, meanInputTokens: 20, meanOutputTokens: 5)
        #expect(r.admits(running: 200, load: tiny, quantile: 0.99))
        #expect(!r.admits(running: 250, load: tiny, quantile: 0.99))
        #expect(r.admits(running: 250, load: tiny, quantile: 0.5))
        // maxRate stops where the cache would stall admission.
        let rate = r.maxRate(for: chat, slo: LatencySLO(ttftSeconds: 10, itlSeconds: 1))
        var at = chat
        at.requestsPerSecond = rate
        #expect(r.admits(running: r.performance(at: at, quantile: 0.99).concurrency, load: at, quantile: 0.99))
    }

    /// Behind a least-loaded router a fleet pools its queues: a prompt waits only when every
    /// replica is busy (Erlang C), so a fleet whose SLO binds on waiting for prefill carries
    /// more per replica than one replica alone; one replica is the M/G/1 model unchanged.
    @Test func aFleetBehindTheRouterWaitsLessPerReplica() {
        // M/M/2 at ρ = 0.5: C = 2ρ² / (1 + ρ) = 1/3; one server: C = ρ.
        #expect(abs(ReplicaModel.erlangC(servers: 2, utilization: 0.5) - 1.0 / 3) < 1e-12)
        #expect(abs(ReplicaModel.erlangC(servers: 1, utilization: 0.37) - 0.37) < 1e-12)
        #expect(ReplicaModel.erlangC(servers: 16, utilization: 0.5) < 0.05)
        #expect(ReplicaModel.erlangC(servers: 500, utilization: 0.9) < ReplicaModel.erlangC(servers: 50, utilization: 0.9))
        #expect(ReplicaModel.erlangC(servers: 8, utilization: 1.2) == 1)
        // Long prompts on an L40S with a loose ITL target: one replica's TTFT tail binds on
        // queueing.
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        let longPrompts = LoadProfile(requestsPerSecond: 1, meanInputTokens: 2000, meanOutputTokens: 30, inputCV: 1.3, inputTailTokens: 12000)
        let slo = LatencySLO(ttftSeconds: 2, itlSeconds: 0.5)
        let one = r.maxRate(for: longPrompts, slo: slo)
        #expect(one == r.maxRate(for: longPrompts, slo: slo, fleet: 1))
        let rates = [2, 8, 32].map { r.maxRate(for: longPrompts, slo: slo, fleet: $0) }
        #expect(rates[0] >= one && rates[1] >= rates[0] && rates[2] >= rates[1], "\(one) \(rates)")
        #expect(rates[2] > 1.5 * one, "\(one) \(rates)")
        // A fleet still never passes compute saturation.
        #expect(rates[2] <= r.rateUpperBound(for: longPrompts))
        var at = longPrompts
        at.requestsPerSecond = one
        let alone = r.performance(at: at, quantile: 0.99)
        let pooled = r.performance(at: at, quantile: 0.99, fleet: 16)
        #expect(pooled.ttftQuantileSeconds < alone.ttftQuantileSeconds && pooled.ttftMeanSeconds < alone.ttftMeanSeconds)
        #expect(pooled.utilization == alone.utilization)
    }
}
