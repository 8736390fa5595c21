import Foundation

/// What to optimise: serve `load` within `slo` at the lowest hourly cost.
public struct OptimizerRequest: Sendable, Hashable {
    public var model: ModelProfile
    public var load: LoadProfile
    public var slo: LatencySLO
    public var allowedGPUs: [String]
    /// Fixed tensor-parallel degree, or nil to let the optimizer choose among 1, 2, 4, 8.
    public var tensorParallel: Int?
    public var maxCostPerHour: Double?
    /// Allow replicas of more than one GPU type at once when that is cheaper.
    public var allowMixed: Bool
    /// Share of each replica's SLO-compliant capacity kept free for bursts and forecast error.
    public var headroom: Double
    /// The headroom the operator and the simulated llmops policy keep.
    public static let defaultHeadroom = 0.1
    public var minReplicas: Int
    /// Request-size classes (each with its own rate) for heterogeneous placement; when given
    /// with `allowMixed`, each class may go to the GPU type that serves it most cheaply.
    public var sizeClasses: [LoadProfile]
    public var gpusPerNode: Int

    public init(
        model: ModelProfile, load: LoadProfile, slo: LatencySLO, allowedGPUs: [String], tensorParallel: Int? = nil,
        maxCostPerHour: Double? = nil, allowMixed: Bool = false, headroom: Double = defaultHeadroom, minReplicas: Int = 1,
        sizeClasses: [LoadProfile] = [], gpusPerNode: Int = 8
    ) {
        self.model = model
        self.load = load
        self.slo = slo
        self.allowedGPUs = allowedGPUs
        self.tensorParallel = tensorParallel
        self.maxCostPerHour = maxCostPerHour
        self.allowMixed = allowMixed
        self.headroom = headroom
        self.minReplicas = minReplicas
        self.sizeClasses = sizeClasses
        self.gpusPerNode = gpusPerNode
    }
}

/// Replicas of one GPU type and TP degree within a plan.
public struct ReplicaGroup: Sendable, Hashable {
    public var gpuType: String
    public var tensorParallel: Int
    public var replicas: Int
    /// SLO-compliant requests per second per replica, after headroom.
    public var ratePerReplica: Double
    public var pricePerReplicaHour: Double
    /// Requests per second a replica carries through a burst (`ReplicaModel.burstRate`).
    public var burstRatePerReplica: Double? = nil
    /// Per-replica capacity of smaller and larger fleets as multiples of these rates
    /// (`ReplicaModel.capacityScaleByFleet`, referenced to the fleet the rates were sized for):
    /// where requests arrive in groups, a fleet scaled down for a lower rate spreads each group
    /// over fewer replicas, which then carry less. Empty: the same rate for every fleet.
    public var capacityScaleByFleet: [Double] = []

    public init(
        gpuType: String, tensorParallel: Int, replicas: Int, ratePerReplica: Double, pricePerReplicaHour: Double, burstRatePerReplica: Double? = nil,
        capacityScaleByFleet: [Double] = []
    ) {
        self.gpuType = gpuType
        self.tensorParallel = tensorParallel
        self.replicas = replicas
        self.ratePerReplica = ratePerReplica
        self.pricePerReplicaHour = pricePerReplicaHour
        self.burstRatePerReplica = burstRatePerReplica
        self.capacityScaleByFleet = capacityScaleByFleet
    }

    public var gpus: Int { replicas * tensorParallel }
    public var costPerHour: Double { Double(replicas) * pricePerReplicaHour }
}

/// The cheapest configuration found, with its explanation.
public struct ServingPlan: Sendable, Hashable {
    public var groups: [ReplicaGroup]
    public var explanation: Explanation

    public var costPerHour: Double { groups.reduce(0) { $0 + $1.costPerHour } }
    public var replicas: Int { groups.reduce(0) { $0 + $1.replicas } }
    public var gpus: Int { groups.reduce(0) { $0 + $1.gpus } }
    public var capacity: Double { groups.reduce(0) { $0 + Double($1.replicas) * $1.ratePerReplica } }
    public var isMixed: Bool { Set(groups.map(\.gpuType)).count > 1 }
}

/// Finds the cheapest GPU type, TP degree and replica count (or mix of types) that meets the SLO.
public enum ConfigurationOptimizer {
    public static let tensorParallelChoices = [1, 2, 4, 8]

    struct Option {
        var gpu: GPUSpecs
        var tp: Int
        var rate: Double  // after headroom
        var burst: Double? = nil
        /// The fleet that carries the whole load (`ReplicaModel.fleetSizing`), which `rate` is
        /// per replica of, and how the rate changes with the fleet (empty unless requests
        /// arrive in groups).
        var fleet: Int = 0
        var scale: [Double] = []
        var price: Double { gpu.pricePerHour * Double(tp) }
        var name: String { "\(gpu.name)×\(tp)" }
    }

    public static func optimize(_ request: OptimizerRequest, catalog: GPUCatalog = .standard) -> Result<ServingPlan, CoreError> {
        if let e = request.model.validate() ?? request.load.validate() ?? request.slo.validate() { return .failure(e) }
        if request.allowedGPUs.isEmpty { return .failure(.invalidInput(field: "gpu.allowedTypes", reason: "at least one GPU type is required")) }
        if !(0..<0.95).contains(request.headroom) { return .failure(.invalidInput(field: "headroom", reason: "must be in [0, 0.95)")) }
        if request.minReplicas < 0 { return .failure(.invalidInput(field: "minReplicas", reason: "must not be negative")) }
        if let tp = request.tensorParallel, !tensorParallelChoices.contains(tp) {
            return .failure(.invalidInput(field: "gpu.tensorParallel", reason: "must be 1, 2, 4 or 8"))
        }
        for name in request.allowedGPUs where catalog[name] == nil {
            return .failure(.invalidInput(field: "gpu.allowedTypes", reason: "unknown GPU type \(name); known: \(catalog.names.joined(separator: ", "))"))
        }

        var candidates: [Explanation.Candidate] = []
        var options: [Option] = []
        let degrees = request.tensorParallel.map { [$0] } ?? tensorParallelChoices
        // Branch and bound: examine combinations in order of a cheap lower bound on their cost
        // (compute saturation caps any replica's rate), and skip the exact search for those
        // whose bound already exceeds the best plan found. Mixed plans need every option's
        // rate, so nothing is skipped for them.
        var feasible: [(replica: ReplicaModel, bound: Double)] = []
        for name in request.allowedGPUs {
            let gpu = catalog[name]!
            for tp in degrees where tp <= request.gpusPerNode {
                let replica = ReplicaModel(model: request.model, gpu: gpu, tensorParallel: tp)
                if let why = replica.infeasibility {
                    candidates.append(.init(name: "\(name)×\(tp)", note: why))
                    continue
                }
                // The same expected cost the plans are ranked by, at the compute-bound rate.
                let ub = replica.rateUpperBound(for: request.load) * (1 - request.headroom)
                let option = Option(gpu: gpu, tp: tp, rate: ub, burst: ub / (1 - request.headroom))
                let n = max(request.minReplicas, Int((request.load.requestsPerSecond / ub - 1e-9).rounded(.up)))
                feasible.append((replica, expectedCost([group(option, n)], request)))
            }
        }
        feasible.sort { $0.bound < $1.bound }
        var bestSingle = Double.infinity
        for (replica, bound) in feasible {
            let name = replica.gpu.name, tp = replica.tensorParallel
            if !request.allowMixed && bound > bestSingle + 1e-9 {
                candidates.append(
                    .init(name: "\(name)×\(tp)", score: bound, note: "skipped: costs at least \(Fmt.dollars(bound))/h even at full compute, more than the best plan"))
                continue
            }
            // Per replica of the fleet the load needs: grouped arrivals spread over it.
            guard let sized = replica.fleetSizing(for: request.load, slo: request.slo, headroom: request.headroom) else {
                let idle = replica.performance(at: LoadProfile(requestsPerSecond: 0, meanInputTokens: request.load.meanInputTokens, meanOutputTokens: request.load.meanOutputTokens, inputCV: request.load.inputCV, inputTailTokens: request.load.inputTailTokens), quantile: request.slo.attainment)
                candidates.append(
                    .init(
                        name: "\(name)×\(tp)",
                        note: "misses the SLO even unloaded (TTFT \(Fmt.ms(idle.ttftQuantileSeconds)), ITL \(Fmt.ms(idle.itlQuantileSeconds)))"))
                continue
            }
            let option = Option(
                gpu: replica.gpu, tp: tp, rate: sized.ratePerReplica, burst: sized.burstRatePerReplica, fleet: sized.replicas, scale: sized.capacityScaleByFleet)
            options.append(option)
            let n = replicas(option, request)
            bestSingle = min(bestSingle, expectedCost([group(option, n)], request))
        }
        var inputs = [
            Explanation.Input("load.requestsPerSecond", Fmt.num(request.load.requestsPerSecond, 3)),
            Explanation.Input("load.meanInputTokens", Fmt.num(request.load.meanInputTokens, 0)),
            Explanation.Input("load.meanOutputTokens", Fmt.num(request.load.meanOutputTokens, 0)),
            Explanation.Input("slo.ttftP\(Fmt.num(request.slo.attainment * 100, 1))", Fmt.ms(request.slo.ttftSeconds)),
            Explanation.Input("slo.itlP\(Fmt.num(request.slo.attainment * 100, 1))", Fmt.ms(request.slo.itlSeconds)),
            Explanation.Input("headroom", Fmt.num(request.headroom)),
        ]
        if request.load.arrivesInGroups {
            let shown = request.load.dispersionByWindow.isEmpty
                ? Fmt.num(request.load.arrivalDispersion, 2)
                : zip(LoadProfile.dispersionWindows, request.load.dispersionByWindow).map { "\(Fmt.num($0, 3)) s: \(Fmt.num($1, 2))" }.joined(separator: ", ")
            inputs.append(.init("load.arrivalDispersion", shown + " (requests arrive in groups; capacity is per replica of the fleet they spread over)"))
        }
        guard !options.isEmpty else {
            let details = candidates.map { "\($0.name): \($0.note)" }.joined(separator: "; ")
            return .failure(.infeasible(reason: "no allowed GPU configuration can meet the SLO: \(details)"))
        }

        // Single-type plans: the cheapest option for the whole load.
        var plans: [[ReplicaGroup]] = []
        for o in options {
            plans.append([group(o, replicas(o, request))])
        }
        if request.allowMixed {
            plans += mixedPlans(request, options)
        }
        let cost: ([ReplicaGroup]) -> Double = { g in g.reduce(0) { $0 + $1.costPerHour } }
        // Ranked by the expected hourly cost over the load's rate strata (the cost at the
        // current rate when the load is constant); ties go to fewer GPUs, then fewer groups.
        let score: ([ReplicaGroup]) -> Double = { g in expectedCost(g, request) }
        let ranked = plans.sorted {
            let (a, b) = (score($0), score($1))
            if abs(a - b) > 1e-9 { return a < b }
            let (ga, gb) = ($0.reduce(0) { $0 + $1.gpus }, $1.reduce(0) { $0 + $1.gpus })
            return ga != gb ? ga < gb : $0.count < $1.count
        }
        let best = ranked[0]
        let bestCost = cost(best)
        if let budget = request.maxCostPerHour, bestCost > budget + 1e-9 {
            return .failure(
                .infeasible(
                    reason:
                        "the cheapest configuration meeting the SLO (\(describe(best))) costs \(Fmt.dollars(bestCost))/h, above the limit of \(Fmt.dollars(budget))/h"
                ))
        }
        for o in options {
            let single = ranked.first { $0.count == 1 && $0[0].gpuType == o.gpu.name && $0[0].tensorParallel == o.tp }!
            candidates.append(
                .init(
                    name: o.name, chosen: best.count == 1 && single == best, score: cost(single),
                    note: "\(Fmt.num(o.rate, 2)) req/s per replica → \(single[0].replicas) replicas, \(Fmt.dollars(cost(single)))/h"
                        + (request.load.rateStrata.isEmpty && request.load.burstFactor <= 1 ? "" : ", \(Fmt.dollars(score(single)))/h expected as the load moves")))
        }
        if best.count > 1 {
            candidates.append(.init(name: describe(best), chosen: true, score: bestCost, note: "mixed plan"))
        }
        candidates.sort { ($0.score ?? .infinity) < ($1.score ?? .infinity) }
        var reasons = ["cheapest of \(plans.count) plans that meet the SLO: \(Fmt.dollars(bestCost))/h"]
        if request.load.burstFactor > 1 {
            let ceiling = request.load.burstPeakRequestsPerSecond.map { ", at most the \(Fmt.num($0, 2)) req/s that would have served all of it" } ?? ""
            reasons.append(
                "bursts rise to \(Fmt.num(request.load.burstFactor, 2))× the recent rate within a cold start: every plan is costed with that much capacity in reserve\(ceiling)")
        }
        if !request.load.rateStrata.isEmpty {
            reasons.append(
                "ranked by expected cost as the load moves between \(Fmt.num(request.load.rateStrata.min() ?? 0, 2)) and \(Fmt.num(request.load.rateStrata.max() ?? 0, 2)) req/s, with each replica's capacity taken 10 % either side of the model's: \(Fmt.dollars(score(best)))/h")
        }
        if let runnerUp = ranked.dropFirst().first(where: { describe($0) != describe(best) }) {
            let saving = score(runnerUp) - score(best)
            reasons.append("next best \(describe(runnerUp)) costs \(Fmt.dollars(score(runnerUp)))/h (\(Fmt.dollars(saving))/h more)")
        }
        if best.reduce(0, { $0 + $1.replicas }) == request.minReplicas, request.load.requestsPerSecond > 0 {
            reasons.append("replica count held at the minimum of \(request.minReplicas)")
        }
        let explanation = Explanation(
            summary: "serve with \(describe(best)) at \(Fmt.dollars(bestCost))/h", inputs: inputs, candidates: candidates, reasons: reasons)
        return .success(ServingPlan(groups: best, explanation: explanation))
    }

    static func expectedCost(_ groups: [ReplicaGroup], _ request: OptimizerRequest) -> Double {
        expectedCostPerHour(groups, load: request.load, minReplicas: request.minReplicas)
    }

    /// The capacity model's error as the expected cost prices it: a replica's true capacity
    /// taken as 0.9, 1 or 1.1 times the model's, weighted 1/4, 1/2, 1/4 (the model is within
    /// about 10 % of the simulator for most configurations, "The capacity model against its
    /// digital twin" in the README). Costed at the model's rate alone, a plan whose load sits
    /// just under a whole replica looks as cheap as one with room to spare, and the ranking
    /// turned on cents between a fleet of one large replica at its edge and a finer fleet;
    /// whole replicas make the cost of an error asymmetric, and this prices it.
    static let capacityError: [(multiple: Double, weight: Double)] = [(0.9, 0.25), (1, 0.5), (1.1, 0.25)]

    /// Hourly cost of a plan's shape averaged over the load's rate strata: each group's
    /// replicas scale with the rate times the burst reserve (whole replicas, at least
    /// `minReplicas` in total), averaged over the model's error (`capacityError`). With
    /// neither strata nor bursts, the plan's cost as it stands. The optimizer ranks plans by
    /// this; the simulator screens configurations by it.
    public static func expectedCostPerHour(_ groups: [ReplicaGroup], load: LoadProfile, minReplicas: Int) -> Double {
        let lambda = load.requestsPerSecond
        let strata = load.rateStrata.isEmpty ? [lambda] : load.rateStrata
        guard lambda > 0, !load.rateStrata.isEmpty || load.burstFactor > 1 else { return groups.reduce(0) { $0 + $1.costPerHour } }
        var total = 0.0
        let burst = load.burstFactor
        // Replicas for a rate: steady SLO capacity for the rate itself, the burst rate for the
        // reserve above it, both per replica of the fleet the count arrives at.
        func needed(_ g: ReplicaGroup, _ rate: Double, _ error: Double) -> Int {
            let steady = ScalerInput.replicas(for: rate, perReplica: g.ratePerReplica * error, scaleByFleet: g.capacityScaleByFleet)
            let reserveRate = BurstReserve.reserveRate(recent: rate, factor: burst, peak: load.burstPeakRequestsPerSecond)
            let reserve = ScalerInput.replicas(
                for: reserveRate, perReplica: max(g.burstRatePerReplica ?? g.ratePerReplica, g.ratePerReplica) * error, scaleByFleet: g.capacityScaleByFleet)
            return max(steady, reserve)
        }
        let capacity = groups.reduce(0) { $0 + Double($1.replicas) * $1.ratePerReplica }
        for rate in strata {
            for (error, weight) in capacityError {
                var replicas = 0
                var cost = 0.0
                if groups.count == 1 {
                    let g = groups[0]
                    replicas = needed(g, rate, error)
                    cost = Double(replicas) * g.pricePerReplicaHour
                } else {
                    // A mix keeps its proportions: each group serves its share of the rate.
                    for g in groups where g.replicas > 0 {
                        let share = Double(g.replicas) * g.ratePerReplica / max(capacity, 1e-9)
                        let n = needed(g, rate * share, error)
                        replicas += n
                        cost += Double(n) * g.pricePerReplicaHour
                    }
                }
                if replicas < minReplicas {
                    let cheapest = groups.map(\.pricePerReplicaHour).min() ?? 0
                    cost += Double(minReplicas - replicas) * cheapest
                }
                total += weight * cost
            }
        }
        return total / Double(strata.count)
    }

    static func group(_ o: Option, _ n: Int) -> ReplicaGroup {
        ReplicaGroup(
            gpuType: o.gpu.name, tensorParallel: o.tp, replicas: n, ratePerReplica: o.rate, pricePerReplicaHour: o.price, burstRatePerReplica: o.burst,
            capacityScaleByFleet: o.scale)
    }

    /// Replicas of one option for the whole load: the fleet `fleetRate` sized, whose replicas
    /// the option's rate is per replica of (counting load / rate instead can come out one
    /// short when requests arrive in groups: a smaller fleet carries less per replica).
    static func replicas(_ o: Option, _ request: OptimizerRequest) -> Int {
        max(request.minReplicas, request.load.requestsPerSecond > 0 ? o.fleet : 0)
    }

    static func describe(_ groups: [ReplicaGroup]) -> String {
        groups.map { "\($0.replicas)× \($0.gpuType)×\($0.tensorParallel)" }.joined(separator: " + ")
    }

    /// Mixed plans, two ways:
    /// 1. Remainder fill: the best-value type covers whole replicas' worth of load and a cheaper
    ///    type takes the fractional remainder that would otherwise round up a large replica.
    /// 2. Size classes (after Mélange, Griggs et al. 2024, which reports large savings from
    ///    matching request sizes to GPU types): each class goes to the option with the lowest
    ///    cost per request/s for that class, and replicas are counted per type.
    static func mixedPlans(_ request: OptimizerRequest, _ options: [Option]) -> [[ReplicaGroup]] {
        var plans: [[ReplicaGroup]] = []
        let lambda = request.load.requestsPerSecond
        for a in options {
            let whole = Int((lambda / a.rate).rounded(.down))
            let remainder = lambda - Double(whole) * a.rate
            guard whole > 0, remainder > 1e-9 else { continue }
            for b in options where b.gpu.name != a.gpu.name {
                let nb = Int((remainder / b.rate).rounded(.up))
                var g = [group(a, whole), group(b, nb)]
                if whole + nb < request.minReplicas { g[0].replicas += request.minReplicas - whole - nb }
                plans.append(g)
            }
        }
        if request.sizeClasses.count >= 2 {
            // Fractional replicas needed per option when each class goes to its cheapest option.
            var need: [Int: Double] = [:]
            for cls in request.sizeClasses where cls.requestsPerSecond > 0 {
                var best: (Int, Double, Double)?  // option index, replicas, cost
                for (i, o) in options.enumerated() {
                    let replica = ReplicaModel(model: request.model, gpu: o.gpu, tensorParallel: o.tp)
                    let rate = replica.maxRate(for: cls, slo: request.slo) * (1 - request.headroom)
                    guard rate > 0 else { continue }
                    let r = cls.requestsPerSecond / rate
                    if best == nil || r * o.price < best!.2 { best = (i, r, r * o.price) }
                }
                guard let best else { return plans }  // a class no option can serve: no class plan
                need[best.0, default: 0] += best.1
            }
            var g = need.keys.sorted().map { i in
                group(options[i], Int((need[i]! - 1e-9).rounded(.up)))
            }
            let total = g.reduce(0) { $0 + $1.replicas }
            if total < request.minReplicas, !g.isEmpty { g[0].replicas += request.minReplicas - total }
            if !g.isEmpty { plans.append(g) }
        }
        return plans
    }
}
