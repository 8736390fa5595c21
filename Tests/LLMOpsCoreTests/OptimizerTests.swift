import LLMOpsCore
import PropertyBased
import Testing

@Suite struct OptimizerTests {
    func request(_ rate: Double, gpus: [String] = ["L4", "L40S", "A100-80GB", "H100"], model: ModelProfile = llama8B) -> OptimizerRequest {
        var load = chatLoad
        load.requestsPerSecond = rate
        return OptimizerRequest(model: model, load: load, slo: chatSLO, allowedGPUs: gpus)
    }

    @Test func picksTheCheapestFeasiblePlanAndExplainsIt() throws {
        let plan = try ConfigurationOptimizer.optimize(request(20)).get()
        #expect(plan.capacity >= 20)
        // Brute force over every single-type option confirms nothing cheaper meets the load.
        for name in ["L4", "L40S", "A100-80GB", "H100"] {
            for tp in [1, 2, 4, 8] {
                let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard[name]!, tensorParallel: tp)
                let rate = r.maxRate(for: chatLoad, slo: chatSLO) * 0.9
                guard rate > 0 else { continue }
                let n = Int((20 / rate).rounded(.up))
                #expect(Double(n * tp) * GPUCatalog.standard[name]!.pricePerHour >= plan.costPerHour - 1e-9)
            }
        }
        #expect(plan.explanation.candidates.contains { $0.chosen })
        #expect(plan.explanation.summary.contains("serve with"))
        #expect(plan.explanation.candidates.contains { $0.name == "L4×1" && $0.note.contains("misses the SLO") })
    }

    @Test func zeroLoadKeepsTheMinimum() throws {
        var r = request(0)
        r.minReplicas = 0
        #expect(try ConfigurationOptimizer.optimize(r).get().replicas == 0)
        r.minReplicas = 2
        #expect(try ConfigurationOptimizer.optimize(r).get().replicas == 2)
    }

    @Test func infeasibleRequestsSayWhy() {
        // 70B cannot fit on one L4 at any TP that divides its 64 heads within 24 GB × 8? It can at TP 8;
        // force TP 1 to make it impossible.
        var r = request(1, gpus: ["L4"], model: llama70B)
        r.tensorParallel = 1
        guard case .failure(.infeasible(let why)) = ConfigurationOptimizer.optimize(r) else {
            Issue.record("expected infeasible")
            return
        }
        #expect(why.contains("weights need"))

        var budget = request(50)
        budget.maxCostPerHour = 1
        guard case .failure(.infeasible(let b)) = ConfigurationOptimizer.optimize(budget) else {
            Issue.record("expected over budget")
            return
        }
        #expect(b.contains("above the limit"))
    }

    @Test func invalidInputNamesTheField() {
        let cases: [(String, (inout OptimizerRequest) -> Void)] = [
            ("gpu.allowedTypes", { $0.allowedGPUs = ["TPU"] }),
            ("gpu.allowedTypes", { $0.allowedGPUs = [] }),
            ("load.requestsPerSecond", { $0.load.requestsPerSecond = .nan }),
            ("gpu.tensorParallel", { $0.tensorParallel = 3 }),
            ("slo.attainment", { $0.slo.attainment = 1 }),
            ("model.kvHeads", { $0.model.kvHeads = 0 }),
            ("headroom", { $0.headroom = 2 }),
        ]
        for (field, mutate) in cases {
            var r = request(5)
            mutate(&r)
            guard case .failure(.invalidInput(let f, _)) = ConfigurationOptimizer.optimize(r) else {
                Issue.record("\(field): expected invalid input")
                continue
            }
            #expect(f == field)
        }
    }

    @Test func mixingNeverCostsMoreThanTheBestSingleType() throws {
        for rate in stride(from: 1.0, through: 60, by: 3.7) {
            var r = request(rate)
            let single = try ConfigurationOptimizer.optimize(r).get()
            r.allowMixed = true
            let mixed = try ConfigurationOptimizer.optimize(r).get()
            #expect(mixed.costPerHour <= single.costPerHour + 1e-9)
            #expect(mixed.capacity >= rate - 1e-9)
        }
    }

    @Test func sizeClassesUseTheCheapestTypePerClass() throws {
        // Short prompts suit cheap GPUs; long prompts need fast prefill.
        let short = LoadProfile(requestsPerSecond: 6, meanInputTokens: 200, meanOutputTokens: 100)
        let long = LoadProfile(requestsPerSecond: 6, meanInputTokens: 3000, meanOutputTokens: 100)
        let total = LoadProfile(requestsPerSecond: 12, meanInputTokens: 1600, meanOutputTokens: 100, inputCV: 0.9, inputTailTokens: 3000 * 4.6)
        var r = OptimizerRequest(model: llama8B, load: total, slo: chatSLO, allowedGPUs: ["L4", "L40S", "H100"], allowMixed: true, sizeClasses: [short, long])
        let mixed = try ConfigurationOptimizer.optimize(r).get()
        r.allowMixed = false
        let single = try ConfigurationOptimizer.optimize(r).get()
        #expect(mixed.costPerHour <= single.costPerHour)
    }

    /// Where requests arrive in groups, a plan holds the fleet `fleetRate` sized: its rate is
    /// per replica of that fleet, and one replica fewer (which load / rate can round to) would
    /// carry less per replica and not the load. Costed as the load moves, a fleet scaled down
    /// for a lower rate counts with the smaller fleet's capacity.
    @Test func groupedLoadsGetTheFleetTheirRateIsPerReplicaOf() throws {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1)
        let slo = LatencySLO(ttftSeconds: 2, itlSeconds: 0.1)
        var roundedShort = 0
        for rate in stride(from: 4.0, through: 80, by: 4) {
            var load = LoadProfile(requestsPerSecond: rate, meanInputTokens: 1500, meanOutputTokens: 60, inputCV: 1.2, inputTailTokens: 9000)
            load.arrivalDispersion = 15
            let plan = try ConfigurationOptimizer.optimize(OptimizerRequest(model: llama8B, load: load, slo: slo, allowedGPUs: ["H100"], tensorParallel: 1)).get()
            let sized = r.fleetRate(for: load, slo: slo, headroom: OptimizerRequest.defaultHeadroom)
            #expect(plan.replicas == sized.replicas, "at \(rate) req/s")
            #expect(plan.capacity >= rate - 1e-9)
            if Int((rate / sized.ratePerReplica).rounded(.up)) < sized.replicas { roundedShort += 1 }
            // At half the rate the table asks for at least what a fresh sizing of that rate does.
            let g = plan.groups[0]
            #expect(!g.capacityScaleByFleet.isEmpty)
            var moving = load
            moving.rateStrata = [rate / 2]
            let half = ConfigurationOptimizer.expectedCostPerHour([g], load: moving, minReplicas: 0) / g.pricePerReplicaHour
            var lower = load
            lower.requestsPerSecond = rate / 2
            let resized = r.fleetRate(for: lower, slo: slo, headroom: OptimizerRequest.defaultHeadroom).replicas
            #expect(abs(half - Double(resized)) <= 1, "at \(rate / 2) req/s: \(half) against \(resized)")
            var flat = g
            flat.capacityScaleByFleet = []
            #expect(half >= ConfigurationOptimizer.expectedCostPerHour([flat], load: moving, minReplicas: 0) / g.pricePerReplicaHour)
        }
        #expect(roundedShort > 0, "the grid should hold a rate where load / rate rounds below the fleet")
    }

    /// Property: whatever the load and SLO, a returned plan never puts a model on GPUs whose
    /// memory cannot hold its weights plus one full context, and always covers the load.
    @Test func plansRespectMemoryAndCoverLoad() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var rng = SeededGenerator(seed: seed)
            let params = [1.2e9, 8e9, 13e9, 34e9, 70e9].randomElement(using: &rng)!
            let bytes = [2.0, 1.0, 0.5].randomElement(using: &rng)!
            let model = ModelProfile.estimated(parameters: params, bytesPerParameter: bytes, contextLength: [4096, 8192, 32768].randomElement(using: &rng)!)
            let load = LoadProfile(
                requestsPerSecond: Double.random(in: 0...80, using: &rng), meanInputTokens: Double.random(in: 50...4000, using: &rng),
                meanOutputTokens: Double.random(in: 10...800, using: &rng))
            let slo = LatencySLO(ttftSeconds: Double.random(in: 0.2...10, using: &rng), itlSeconds: Double.random(in: 0.01...0.2, using: &rng))
            let gpus = Array(Set((0..<3).map { _ in GPUCatalog.standard.names.randomElement(using: &rng)! }))
            let req = OptimizerRequest(model: model, load: load, slo: slo, allowedGPUs: gpus, allowMixed: Bool.random(using: &rng))
            switch ConfigurationOptimizer.optimize(req) {
            case .success(let plan):
                #expect(plan.capacity >= load.requestsPerSecond - 1e-9)
                for g in plan.groups {
                    let spec = GPUCatalog.standard[g.gpuType]!
                    let usable = Double(g.tensorParallel) * (spec.memoryGB * 1e9 * 0.9 - 2e9)
                    #expect(model.weightBytes + Double(model.contextLength) * model.kvBytesPerToken <= usable)
                    #expect(g.tensorParallel <= 8)
                }
            case .failure(let e):
                #expect(!e.description.isEmpty)
            }
        }
    }
}

