import Foundation
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

    /// Prompts met in groups: the recursion gives the same chances as summing the compound
    /// Poisson count directly (Panjer's recursion) convolved with the own group's geometric
    /// count, sums to one, and is Poisson when requests arrive one at a time.
    @Test func promptsMetInGroupsMatchesADirectSum() {
        for (a, m) in [(0.0, 1.0), (3.0, 1.0), (2.5, 4.0), (12.0, 8.0), (40.0, 2.0)] {
            let fast = ReplicaModel.promptsMet(mean: a, groupMean: m)
            let p = 1 / m, q = 1 - p, groups = a / m
            // Panjer: g(k) = (Λ/k) Σ_j j·f(j)·g(k − j), f geometric on 1, 2, … .
            var g = [exp(-groups)]
            for k in 1..<fast.count {
                var sum = 0.0
                for j in 1...k { sum += Double(j) * p * pow(q, Double(j - 1)) * g[k - j] }
                g.append(groups / Double(k) * sum)
            }
            let direct = (0..<fast.count).map { k in (0...k).reduce(0.0) { $0 + g[$1] * p * pow(q, Double(k - $1)) } }
            for k in fast.indices { #expect(abs(fast[k] - direct[k]) < 1e-9, "a \(a) m \(m) k \(k): \(fast[k]) vs \(direct[k])") }
            #expect(abs(fast.reduce(0, +) - 1) < 1e-6, "a \(a) m \(m)")
            let mean = fast.enumerated().reduce(0.0) { $0 + Double($1.offset) * $1.element }
            #expect(abs(mean - (a + m - 1)) < 1e-6 * max(1, a + m), "a \(a) m \(m): mean \(mean)")
        }
        let poisson = ReplicaModel.promptsMet(mean: 3, groupMean: 1)
        #expect(abs(poisson[2] - exp(-3) * 4.5) < 1e-12)
    }

    /// The quantile of two waits that are zero or exponential: one alone gives the closed
    /// form, and the sum lies above either part and below their quantiles added.
    @Test func quantileOfTwoWaits() {
        let alone = ReplicaModel.sumQuantile(first: (0.6, 0.5), second: (0, 0), miss: 0.01)
        #expect(abs(alone - 0.5 * log(0.6 / 0.01)) < 1e-3)
        #expect(ReplicaModel.sumQuantile(first: (0.005, 1), second: (0, 0), miss: 0.01) == 0)
        let other = ReplicaModel.sumQuantile(first: (0, 0), second: (0.8, 0.3), miss: 0.01)
        let both = ReplicaModel.sumQuantile(first: (0.6, 0.5), second: (0.8, 0.3), miss: 0.01)
        #expect(both > max(alone, other) && both < alone + other, "\(alone) \(other) \(both)")
        let equalScales = ReplicaModel.sumQuantile(first: (1, 0.4), second: (1, 0.4), miss: 0.01)
        // Erlang-2 with scale 0.4: P(T > t) = (1 + t/0.4)·exp(−t/0.4) = 0.01 at t ≈ 2.655.
        #expect(abs(equalScales - 2.655) < 0.01, "\(equalScales)")
    }

    /// Requests arriving in groups wait behind their group: one replica carries less than at
    /// the same rate one at a time, a fleet that spreads each group carries more per replica
    /// than one replica alone, and with the groups spread thin it is back near Poisson.
    @Test func groupedArrivalsCostCapacityThatSpreadingGivesBack() {
        // An H100, where the TTFT tail binds (on an L40S this mix is held by inter-token
        // latency, which a group's prefill behind a short answer breaks at any rate).
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1)
        let load = LoadProfile(requestsPerSecond: 1, meanInputTokens: 1500, meanOutputTokens: 60, inputCV: 1.2, inputTailTokens: 9000)
        let slo = LatencySLO(ttftSeconds: 2, itlSeconds: 0.1)
        var grouped = load
        grouped.arrivalDispersion = 15
        let poisson = r.maxRate(for: load, slo: slo)
        let alone = r.maxRate(for: grouped, slo: slo)
        let spread = [2, 8, 64].map { r.maxRate(for: grouped.spread(over: $0), slo: slo) }
        #expect(alone < 0.8 * poisson, "\(alone) vs \(poisson)")
        #expect(spread[0] > alone && spread[1] > spread[0] && spread[2] > spread[1] && spread[2] <= poisson * 1.0001, "\(alone) \(spread) \(poisson)")
        #expect(spread[2] > 0.9 * poisson, "\(spread[2]) vs \(poisson)")
        #expect(grouped.spread(over: 7).arrivalDispersion == 3)
        var bad = load
        bad.arrivalDispersion = .nan
        #expect(bad.validate() == .invalidInput(field: "load.arrivalDispersion", reason: "must be a finite, positive variance-to-mean ratio (1 for arrivals one at a time)"))
    }

    /// With the dispersion measured over several windows, a replica reads it at the window its
    /// groups take to prefill: a slow GPU sees the wide-window value, a fast one the narrow,
    /// and spreading over a fleet lowers every window's excess over Poisson alike.
    @Test func dispersionIsReadAtTheWindowAGroupTakes() {
        var load = LoadProfile(requestsPerSecond: 1, meanInputTokens: 1500, meanOutputTokens: 60)
        load.dispersionByWindow = [1.5, 1.6, 2, 3, 6, 15, 30, 50]
        #expect(load.arrivesInGroups && load.validate() == nil)
        let fast = load.dispersion(prefillSeconds: 0.02), slow = load.dispersion(prefillSeconds: 0.2)
        #expect(fast >= 1.5 && fast < 1.7, "\(fast)")
        #expect(slow > 2 && slow < 6, "\(slow)")
        // A fixed point: the window a group of mean (D + 1)/2 prompts takes reads D back.
        for (d, s) in [(fast, 0.02), (slow, 0.2)] {
            let again = load.dispersion(prefillSeconds: s * 1.000001)
            #expect(abs(again - d) < 0.01 * d)
        }
        #expect(load.spread(over: 2).dispersionByWindow == [1.25, 1.3, 1.5, 2, 3.5, 8, 15.5, 25.5])
        var flat = load
        flat.dispersionByWindow = []
        flat.arrivalDispersion = 4
        #expect(flat.dispersion(prefillSeconds: 0.3) == 4)
        var bad = load
        bad.dispersionByWindow = [1, 2]
        #expect(bad.validate()?.description.contains("load.dispersionByWindow") == true)
    }

    /// The fleet a grouped load needs and its per-replica capacity agree: n replicas carry the
    /// rate and n − 1 would not; a fleet's scale table is 1 at the reference and grows with n.
    @Test func fleetRateAndScaleAgree() {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1)
        var load = LoadProfile(requestsPerSecond: 40, meanInputTokens: 1500, meanOutputTokens: 60, inputCV: 1.2, inputTailTokens: 9000)
        load.arrivalDispersion = 15
        let slo = LatencySLO(ttftSeconds: 2, itlSeconds: 0.1)
        let (rate, n) = r.fleetRate(for: load, slo: slo)
        #expect(n > 1 && Double(n) * rate >= load.requestsPerSecond)
        #expect(Double(n - 1) * r.maxRate(for: load.spread(over: n - 1), slo: slo) < load.requestsPerSecond)
        let scale = r.capacityScaleByFleet(for: load, slo: slo, reference: n)
        #expect(abs(scale[n - 1] - 1) < 1e-9)
        #expect(zip(scale, scale.dropFirst()).allSatisfy { $0 <= $1 + 1e-9 }, "\(scale)")
        var poisson = load
        poisson.arrivalDispersion = 1
        #expect(r.capacityScaleByFleet(for: poisson, slo: slo, reference: 3).isEmpty)
        #expect(r.fleetRate(for: poisson, slo: slo).ratePerReplica == r.maxRate(for: poisson, slo: slo))
    }
}

