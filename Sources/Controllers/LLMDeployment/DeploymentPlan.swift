import LLMOpsAPI
import LLMOpsCore

/// What the operator would decide for an LLMDeployment, without a cluster (`llmops plan`):
/// the GPU type and tensor-parallel degree exactly as the LLMDeployment controller chooses
/// them, the replicas and cost at an expected load, the candidates the core weighed, and the
/// configuration a user would pick without llmops, for comparison. Pure.
public struct DeploymentPlan: Sendable {
    /// One configuration at the expected load.
    public struct Fleet: Sendable, Equatable {
        public var gpuType: String
        public var tensorParallel: Int
        public var replicas: Int
        public var ratePerReplica: Double
        public var costPerHour: Double
    }

    public var chosen: Fleet
    /// Replicas the load needs before the ScalingPolicy's bounds (nil: within them).
    public var unboundedReplicas: Int?
    /// The largest allowed GPU at the smallest TP that holds the weights and one full-context
    /// sequence's KV cache; nil with `baselineProblem` when no such configuration serves.
    public var baseline: Fleet?
    public var baselineProblem: String?
    public var candidates: [Explanation.Candidate]
    public var reasons: [String]
    public var load: LoadProfile
    public var designLoad: LoadProfile
    /// When the load planned for is not the design load and would choose another
    /// configuration worth a rollout: what the operator's configuration review would report
    /// for it (the configuration, its cost, and the spec.expectedLoad that adopts it).
    public var review: String?

    /// How a design load reads in status and in `llmops plan`: "2.5 req/s of 1024 in / 256 out tokens".
    public static func describe(_ load: LoadProfile) -> String { ServingDecision.describe(load) }

    /// The load the spec designs for (`spec.expectedLoad`, or the default), as the operator
    /// sizes it.
    public static func designLoad(_ spec: LLMDeploymentSpec) -> LoadProfile { ServingDecision.designLoad(spec) }

    /// One configuration sized for `load`: the replicas that meet the SLO with headroom, and
    /// what they cost.
    static func fleet(_ gpu: String, _ tp: Int, model: ModelProfile, slo: LatencySLO, load: LoadProfile, catalog: GPUCatalog) -> Result<Fleet, CoreError> {
        let request = OptimizerRequest(model: model, load: load, slo: slo, allowedGPUs: [gpu], tensorParallel: tp, headroom: ServingDecision.headroom, minReplicas: 1)
        return ConfigurationOptimizer.optimize(request, catalog: catalog).map { plan in
            let g = plan.groups[0]
            return Fleet(gpuType: g.gpuType, tensorParallel: g.tensorParallel, replicas: g.replicas, ratePerReplica: g.ratePerReplica, costPerHour: plan.costPerHour)
        }
    }

    /// Plans `spec` at `load`, with the replica bounds of its ScalingPolicy when given.
    public static func make(
        _ spec: LLMDeploymentSpec, load: LoadProfile, bounds: ClosedRange<Int>? = nil, catalog: GPUCatalog = .standard
    ) -> Result<DeploymentPlan, CoreError> {
        let decision: ServingDecision
        switch ServingDecision.decide(spec, catalog: catalog) {
        case .success(let d): decision = d
        case .failure(let e): return .failure(e)
        }
        guard let group = decision.groups.first else { return .failure(.infeasible(reason: "the core proposed no replica group")) }
        let slo = ServingDecision.latencySLO(spec.slo)
        func fleet(_ gpu: String, _ tp: Int) -> Result<Fleet, CoreError> {
            Self.fleet(gpu, tp, model: decision.model, slo: slo, load: load, catalog: catalog)
        }
        var chosen: Fleet
        switch fleet(group.gpuType, group.tensorParallel) {
        case .success(let f): chosen = f
        case .failure(let e): return .failure(e)
        }
        var unbounded: Int?
        if let bounds, !bounds.contains(chosen.replicas) {
            unbounded = chosen.replicas
            let perReplica = chosen.costPerHour / Double(max(chosen.replicas, 1))
            chosen.replicas = min(max(chosen.replicas, bounds.lowerBound), bounds.upperBound)
            chosen.costPerHour = perReplica * Double(chosen.replicas)
        }
        var plan = DeploymentPlan(
            chosen: chosen, unboundedReplicas: unbounded, candidates: decision.explanation.candidates,
            reasons: [decision.explanation.summary] + decision.explanation.reasons, load: load, designLoad: decision.design)
        if load != decision.design {
            plan.review = ConfigurationReview.review(spec, current: decision, observed: load, catalog: catalog)?.message
        }
        // The usual pick: the allowed GPU with the most memory (then the dearest), at the
        // smallest TP that holds the weights and a full-context KV cache.
        let allowed = spec.gpu.allowedTypes.map(\.rawValue).compactMap { catalog[$0] }
        guard let largest = allowed.max(by: { ($0.memoryGB, $0.pricePerHour) < ($1.memoryGB, $1.pricePerHour) }) else {
            plan.baselineProblem = "no allowed GPU type is in the catalogue"
            return .success(plan)
        }
        let context = Double(decision.model.contextLength)
        guard let tp = [1, 2, 4, 8].first(where: { tp in
            let r = ReplicaModel(model: decision.model, gpu: largest, tensorParallel: tp)
            return r.fits && r.kvCacheTokens >= context
        }) else {
            plan.baselineProblem = "\(largest.name) holds the weights and a \(Int(context))-token KV cache at no TP up to 8"
            return .success(plan)
        }
        switch fleet(largest.name, tp) {
        case .success(let f): plan.baseline = f
        case .failure(let e): plan.baselineProblem = "\(largest.name) x\(tp): \(e)"
        }
        return .success(plan)
    }
}
