import Foundation
import LLMOpsAPI
import LLMOpsCore

/// Whether the traffic a deployment actually serves would choose another GPU configuration
/// than the load its spec designs for (`spec.expectedLoad`, or the default), and what that
/// would save. The operator reports it (a ScalingPolicy condition and an Event) rather than
/// acting on it: a GPU type change is a rollout, and the spec, often kept in Git, stays the
/// source of truth. Pure.
struct ConfigurationReview: Sendable, Equatable {
    var observed: LoadProfile
    /// The spec's configuration ("L40S×1"), and its fleet for the observed load; nil with
    /// `currentProblem` when it cannot meet the SLO at that load at all.
    var currentName: String
    var current: DeploymentPlan.Fleet?
    var currentProblem: String?
    /// The configuration the observed load would choose, sized for it.
    var better: DeploymentPlan.Fleet
    /// The `spec.expectedLoad` that adopts it.
    var suggested: ExpectedLoadSpec

    /// The least saving worth a rollout and a spec change.
    static let threshold = 0.1

    /// The share of the current configuration's cost the better one saves (1 when the current
    /// one cannot serve the load).
    var saving: Double {
        guard let c = current, c.costPerHour > 0 else { return 1 }
        return (c.costPerHour - better.costPerHour) / c.costPerHour
    }

    /// nil when the observed load would choose the same configuration, or saves less than
    /// `threshold` with another. `current` is the spec's own decision (`ServingDecision.decide`).
    static func review(_ spec: LLMDeploymentSpec, current: ServingDecision, observed: LoadProfile, catalog: GPUCatalog) -> ConfigurationReview? {
        guard observed.requestsPerSecond > 0, let group = current.groups.first else { return nil }
        var alternative = spec
        alternative.expectedLoad = expectedLoad(observed)
        guard case .success(let decision) = ServingDecision.decide(alternative, catalog: catalog), var choice = decision.groups.first else { return nil }
        // A measured trace gives the dispersion per window, which a spec states as one group
        // size: the one the chosen configuration sees (the window its prefill of a group takes).
        // Chosen again with that size, so the expectedLoad the review suggests chooses what it
        // reports.
        if let size = groupSize(observed, on: choice, model: current.model, catalog: catalog), size != alternative.expectedLoad?.requestsPerGroup {
            alternative.expectedLoad?.requestsPerGroup = size
            guard case .success(let again) = ServingDecision.decide(alternative, catalog: catalog), let first = again.groups.first else { return nil }
            choice = first
        }
        guard choice.gpuType != group.gpuType || choice.tensorParallel != group.tensorParallel else { return nil }
        let slo = ServingDecision.latencySLO(spec.slo)
        func fleet(_ g: ServingDecision.Group) -> Result<DeploymentPlan.Fleet, CoreError> {
            DeploymentPlan.fleet(g.gpuType, g.tensorParallel, model: current.model, slo: slo, load: observed, catalog: catalog)
        }
        guard case .success(let better) = fleet(choice) else { return nil }
        var review = ConfigurationReview(
            observed: observed, currentName: "\(group.gpuType)×\(group.tensorParallel)", better: better, suggested: alternative.expectedLoad ?? expectedLoad(observed))
        switch fleet(group) {
        case .success(let now): review.current = now
        case .failure(let e): review.currentProblem = "\(e)"
        }
        return review.saving >= threshold ? review : nil
    }

    /// The observed load as a spec would state it.
    static func expectedLoad(_ load: LoadProfile) -> ExpectedLoadSpec {
        func tokens(_ x: Double) -> Int32 { Int32(min(max(x.rounded(), 1), 10_000_000)) }
        let rate = (load.requestsPerSecond * 1000).rounded() / 1000
        // The group size the spec's requestsPerGroup would set.
        let group = load.arrivalDispersion > 1 ? rounded(LoadProfile.groupMean(dispersion: load.arrivalDispersion)) : nil
        return ExpectedLoadSpec(
            requestsPerSecond: max(rate, 0.001), meanInputTokens: tokens(load.meanInputTokens), meanOutputTokens: tokens(load.meanOutputTokens), requestsPerGroup: group)
    }

    private static func rounded(_ size: Double) -> Double { (size * 100).rounded() / 100 }

    /// The mean group size `load` shows to a configuration, from the dispersion at the window
    /// its prefill of a group takes; nil for a load without a per-window dispersion, or one
    /// that arrives one at a time there.
    static func groupSize(_ load: LoadProfile, on g: ServingDecision.Group, model: ModelProfile, catalog: GPUCatalog) -> Double? {
        guard !load.dispersionByWindow.isEmpty, let gpu = catalog[g.gpuType] else { return nil }
        let replica = ReplicaModel(model: model, gpu: gpu, tensorParallel: g.tensorParallel)
        let d = load.dispersion(prefillSeconds: replica.prefillSeconds(tokens: load.meanInputTokens))
        let size = rounded(LoadProfile.groupMean(dispersion: d))
        return size > 1 ? size : nil
    }

    var message: String {
        let e = suggested
        let against =
            current.map { String(format: "against $%.2f/h for the current %@ (%.0f %% less)", $0.costPerHour, currentName, saving * 100) }
            ?? "where the current \(currentName) cannot meet the SLO (\(currentProblem ?? "infeasible"))"
        let group = e.requestsPerGroup.map { String(format: ", requestsPerGroup: %g", $0) } ?? ""
        return String(
            format: "at the observed %@, %@×%d would cost $%.2f/h %@; to adopt it, set spec.expectedLoad to {requestsPerSecond: %@, meanInputTokens: %d, meanOutputTokens: %d%@}",
            DeploymentPlan.describe(observed), better.gpuType, better.tensorParallel, better.costPerHour, against, String(format: "%g", e.requestsPerSecond),
            e.meanInputTokens, e.meanOutputTokens, group)
    }
}
