import Foundation
import KubeModel
import LLMOpsAPI
import LLMOpsCore

/// The optimization core's answer for one LLMDeployment, in the controller's terms: which GPU
/// type(s) and tensor-parallel degree, how the spec's replicas split across them, what that
/// costs and carries. Pure: a function of the spec and the GPU catalogue, so every reconcile
/// of an unchanged spec reaches the same answer (no flapping between GPU types, no rollout
/// when only the replica count moves).
struct ServingDecision: Sendable, Equatable {
    struct Group: Sendable, Equatable {
        var gpuType: String
        var tensorParallel: Int
        var replicas: Int
        var ratePerReplica: Double
        var pricePerReplicaHour: Double
    }

    var groups: [Group]
    var explanation: Explanation
    var model: ModelProfile
    var design: LoadProfile
    /// Replicas the cost ceiling allows (nil: no ceiling), when it cut the spec's count.
    var cappedAt: Int?

    var costPerHour: Double { groups.reduce(0) { $0 + Double($1.replicas) * $1.pricePerReplicaHour } }
    var replicas: Int { groups.reduce(0) { $0 + $1.replicas } }
    var capacity: Double { groups.reduce(0) { $0 + Double($1.replicas) * $1.ratePerReplica } }

    /// The load the GPU choice is sized for when the spec names none (`spec.expectedLoad`):
    /// enough requests that whole-replica rounding does not decide the type (the choice then
    /// reflects cost per unit of SLO-compliant capacity), of a typical chat shape. The replica
    /// count comes from the spec (or its ScalingPolicy) either way.
    static let defaultDesignLoad = LoadProfile(requestsPerSecond: 20, meanInputTokens: 1024, meanOutputTokens: 256)

    /// "2.5 req/s of 1024 in / 256 out tokens", with ", in groups of 8" when requests arrive
    /// in groups.
    static func describe(_ load: LoadProfile) -> String {
        let rate = load.requestsPerSecond.rounded() == load.requestsPerSecond ? String(Int(load.requestsPerSecond)) : String(format: "%.3g", load.requestsPerSecond)
        let groups = load.arrivalDispersion > 1 ? String(format: ", in groups of %.3g", LoadProfile.groupMean(dispersion: load.arrivalDispersion)) : ""
        return "\(rate) req/s of \(Int(load.meanInputTokens)) in / \(Int(load.meanOutputTokens)) out tokens\(groups)"
    }

    /// The spec's expected load, or the default one.
    static func designLoad(_ spec: LLMDeploymentSpec) -> LoadProfile {
        guard let e = spec.expectedLoad else { return defaultDesignLoad }
        var load = LoadProfile(requestsPerSecond: e.requestsPerSecond, meanInputTokens: Double(e.meanInputTokens), meanOutputTokens: Double(e.meanOutputTokens))
        if let group = e.requestsPerGroup, group > 1 { load.arrivalDispersion = LoadProfile.dispersion(groupMean: group) }
        return load
    }

    static func modelProfile(_ spec: ModelSpec) -> ModelProfile? {
        guard let parameters = spec.parameters else { return nil }
        let bytes = spec.precision.bytesPerParameter
        let context = Int(spec.contextLength)
        guard let a = spec.architecture else { return .estimated(parameters: parameters, bytesPerParameter: bytes, contextLength: context) }
        return ModelProfile(
            parameters: parameters, bytesPerParameter: bytes, kvBytesPerElement: bytes >= 2 ? 2 : 1, layers: Int(a.layers), hiddenSize: Int(a.hiddenSize),
            attentionHeads: Int(a.attentionHeads), kvHeads: Int(a.kvHeads), contextLength: context, usesFP8Compute: bytes == 1)
    }

    /// The share of SLO capacity kept spare.
    static let headroom = OptimizerRequest.defaultHeadroom

    static func latencySLO(_ slo: SLOSpec) -> LatencySLO {
        LatencySLO(ttftSeconds: Double(slo.ttftP95Ms) / 1000, itlSeconds: Double(slo.itlP95Ms) / 1000, attainment: slo.attainment)
    }

    /// Decides, or says why no configuration can serve the spec.
    static func decide(_ spec: LLMDeploymentSpec, catalog: GPUCatalog) -> Result<ServingDecision, CoreError> {
        guard let model = modelProfile(spec.model) else {
            return .failure(.invalidInput(field: "spec.model.parameterCount", reason: "\"\(spec.model.parameterCount)\" is not a number with an M, B or T suffix"))
        }
        let slo = latencySLO(spec.slo)
        let design = designLoad(spec)
        var tp: Int?
        if case .degree(let n) = spec.gpu.tensorParallel { tp = Int(n) }
        // The ceiling bounds what runs (checked against the spec's replicas below), not the
        // design load, which is only a yardstick.
        let request = OptimizerRequest(
            model: model, load: design, slo: slo, allowedGPUs: spec.gpu.allowedTypes.map(\.rawValue), tensorParallel: tp,
            allowMixed: spec.gpu.allowMixed, headroom: headroom, minReplicas: 1)
        let plan: ServingPlan
        switch ConfigurationOptimizer.optimize(request, catalog: catalog) {
        case .success(let p): plan = p
        case .failure(let e): return .failure(e)
        }
        let wanted = Int(spec.replicas)
        // Split the spec's replicas across the plan's groups in the plan's proportions
        // (largest remainder), so a mix keeps its shape at any size.
        let total = max(1, plan.replicas)
        var shares = plan.groups.map { Double(wanted) * Double($0.replicas) / Double(total) }
        var counts = shares.map { Int($0.rounded(.down)) }
        var left = wanted - counts.reduce(0, +)
        while left > 0 {
            let i = shares.indices.max { shares[$0] - Double(counts[$0]) < shares[$1] - Double(counts[$1]) }!
            counts[i] += 1
            shares[i] = Double(counts[i])
            left -= 1
        }
        var groups = zip(plan.groups, counts).map { g, n in
            Group(gpuType: g.gpuType, tensorParallel: g.tensorParallel, replicas: n, ratePerReplica: g.ratePerReplica, pricePerReplicaHour: g.pricePerReplicaHour)
        }
        var capped: Int?
        if let budget = spec.gpu.maxCostPerHour {
            // Remove the most expensive replicas first until the fleet fits the ceiling.
            while groups.reduce(0.0, { $0 + Double($1.replicas) * $1.pricePerReplicaHour }) > budget + 1e-9,
                let i = groups.indices.filter({ groups[$0].replicas > 0 }).max(by: { groups[$0].pricePerReplicaHour < groups[$1].pricePerReplicaHour })
            {
                groups[i].replicas -= 1
                capped = groups.reduce(0) { $0 + $1.replicas }
            }
        }
        return .success(ServingDecision(groups: groups, explanation: plan.explanation, model: model, design: design, cappedAt: capped))
    }

    /// "L40S x1" or "2×H100 x2 + 3×L40S x1".
    var summary: String {
        if groups.count == 1 { return "\(groups[0].gpuType) x\(groups[0].tensorParallel)" }
        return groups.map { "\($0.replicas)×\($0.gpuType) x\($0.tensorParallel)" }.joined(separator: " + ")
    }
}
