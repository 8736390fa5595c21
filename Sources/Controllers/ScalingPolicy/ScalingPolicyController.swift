import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import LLMOpsAPI
import LLMOpsCore
import Logging
import Synchronization

/// Scales an LLMDeployment as its ScalingPolicy says: reads serving metrics, feeds the
/// forecaster, asks the core's `DynamicScaler` (reactive signals, forecast over the cold-start
/// lead, measured capacity, stabilisation, step limits, cool-downs), and writes the replica
/// count through the LLMDeployment's `scale` subresource, so it owns only `spec.replicas`.
/// Status says what it measured, forecast and recommended, and keeps the last decisions with
/// their reasons. Missing or stale metrics hold the count (never scale down). When two
/// policies target one LLMDeployment the older one governs; the other reports the conflict and
/// does nothing.
final class ScalingPolicyController: Sendable {
    static let fieldManager = "llmops-scaler"

    /// What the scaler remembers between evaluations of one policy.
    struct Memory: Sendable {
        var state = ScalerState()
        var forecaster: any Forecaster
        var forecasterName: String
        var lastObserved: Double?
        /// Observed rates, one per period, for the burst reserve (the last hour). Created at
        /// the first evaluation, with the policy's period, from Prometheus' last hour where
        /// the operator reads Prometheus; otherwise empty, and the reserve is 1 until it has
        /// seen about six minutes.
        var burstHistory: BurstHistory?
        /// `observed`, or `prometheus` when the history was rebuilt from Prometheus at start.
        var burstHistorySource = "observed"
        /// `forecaster: neural`: the multi-stream network, trained online on every observed
        /// period; Holt forecasts until it has a full window.
        var neural: NeuralLoadForecaster?
        /// The online correction of the capacity model from measured TTFT and queues (what
        /// the simulator's llmops policy does); it restarts at 1 after an operator restart.
        var efficiency = EfficiencyEstimator(bounds: EfficiencyEstimator.bounds(headroom: ServingDecision.headroom))
        /// Mean prompt and output tokens per request as measured (smoothed over periods): the
        /// request mix the capacity per replica is computed for, once traffic has been seen.
        var meanInputTokens: Double?
        var meanOutputTokens: Double?
        /// The last review of the GPU choice against the observed traffic, and when it ran.
        var review: ConfigurationReview?
        var reviewedAt: Double?
    }

    let client: KubeClient
    let policies: ObjectCache<ScalingPolicy>
    let deployments: ObjectCache<LLMDeployment>
    let pods: ObjectCache<Pod>
    let metrics: any ServingMetricsSource
    let decisions: ServingDecisions
    var catalog: GPUCatalog { decisions.catalog }
    let clock: OperatorClock
    let events: EventRecorder
    let logger: Logger
    /// At zero replicas no Pod reports load: the activator's held requests are the demand.
    let activator: Activator?
    private let memory = Mutex<[String: Memory]>([:])

    init(
        client: KubeClient, policies: ObjectCache<ScalingPolicy>, deployments: ObjectCache<LLMDeployment>, pods: ObjectCache<Pod>, metrics: any ServingMetricsSource,
        decisions: ServingDecisions, clock: OperatorClock, events: EventRecorder, logger: Logger, activator: Activator? = nil
    ) {
        self.activator = activator
        self.client = client
        self.policies = policies
        self.deployments = deployments
        self.pods = pods
        self.metrics = metrics
        self.decisions = decisions
        self.clock = clock
        self.events = events
        self.logger = logger
    }

    /// Policies that target an LLMDeployment, for mapping its events.
    func policiesFor(_ llmd: LLMDeployment) -> [ReconcileRequest] {
        policies.list(namespace: llmd.metadata.namespace).filter { $0.spec.targetRef.name == llmd.metadata.name }.map { ReconcileRequest($0.metadata) }
    }

    static func forecaster(_ spec: ForecastSpec, period: Double) -> (any Forecaster, String) {
        let season = max(1, Int((Double(spec.seasonSeconds) / max(period, 1)).rounded()))
        switch spec.forecaster {
        case .lastValue: return (LastValueForecaster(), "lastValue")
        case .seasonalNaive: return (SeasonalNaiveForecaster(period: season), "seasonalNaive")
        case .holtWinters: return (HoltWintersForecaster(period: season), "holtWinters")
        // The neural forecaster runs beside Holt (see `Memory.neural`), which covers its warm-up.
        case .holt, .neural: return (HoltForecaster(), "holt")
        }
    }

    /// How much traffic history the GPU choice is reviewed on.
    static let reviewAfterSeconds = 600.0

    /// A per-request mean folded into its running value: a fifth of each period's measurement,
    /// so one period of unusual requests moves capacity little.
    static func smooth(_ previous: Double?, _ sample: Double) -> Double {
        guard sample.isFinite, sample > 0 else { return previous ?? 0 }
        return previous.map { 0.8 * $0 + 0.2 * sample } ?? sample
    }

    /// The load capacity is computed for: the design load's shape, with the measured token
    /// lengths once there are any (whole tokens, so a steady mix gives a steady answer).
    /// The prompt tail is assumed exponential-like, as for the design load, within the context.
    static func sizingLoad(design: LoadProfile, input: Double?, output: Double?, context: Double) -> LoadProfile {
        guard let input, let output, input >= 1, output >= 1 else { return design }
        let meanIn = input.rounded(), meanOut = output.rounded()
        if meanIn == design.meanInputTokens && meanOut == design.meanOutputTokens { return design }
        var load = LoadProfile(requestsPerSecond: design.requestsPerSecond, meanInputTokens: meanIn, meanOutputTokens: meanOut)
        load.inputTailTokens = max(meanIn, min(load.inputTailTokens, context))
        load.arrivalDispersion = design.arrivalDispersion
        return load
    }

    static func policy(_ s: ScalingPolicySpec, slo: SLOSpec?) -> ScalerPolicy {
        func behavior(_ b: ScalingBehavior) -> ScalerPolicy.Behavior {
            .init(stabilizationWindowSeconds: Double(b.stabilizationWindowSeconds), maxStep: Int(b.maxStep), periodSeconds: Double(b.periodSeconds), cooldownSeconds: Double(b.cooldownSeconds))
        }
        let mode: ScalerPolicy.Mode
        switch s.mode {
        case .reactive: mode = .reactive
        case .predictive: mode = .predictive
        case .hybrid: mode = .hybrid
        }
        return ScalerPolicy(
            minReplicas: Int(s.minReplicas), maxReplicas: Int(s.maxReplicas), mode: mode, queueDepthPerReplica: s.targets.queueDepthPerReplica.map(Double.init),
            kvCacheUtilization: s.targets.kvCacheUtilization, ttftTargetSeconds: (s.targets.ttftP95Ms ?? slo?.ttftP95Ms).map { Double($0) / 1000 },
            scaleUp: behavior(s.scaleUp), scaleDown: behavior(s.scaleDown), scaleToZero: s.scaleToZero.enabled, idleSeconds: Double(s.scaleToZero.idleSeconds),
            staleAfterSeconds: max(90, 3 * Double(s.scaleUp.periodSeconds)))
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let sp = policies.get(key), sp.metadata.deletionTimestamp == nil, let uid = sp.metadata.uid else {
            return .done
        }
        let now = clock.now()
        let generation = sp.metadata.generation
        let period = Double(sp.spec.scaleUp.periodSeconds)
        let target = sp.spec.targetRef.name
        guard let llmd = deployments.get(namespace: key.namespace, name: target), llmd.metadata.deletionTimestamp == nil else {
            try await setConditions(sp, [
                ("AbleToScale", .false, "TargetNotFound", "LLMDeployment \(target) does not exist in \(key.namespace ?? "")"),
                ("ScalingActive", .false, "TargetNotFound", "nothing to scale"),
            ])
            return .requeueAfter(clock.real(max(period, 30)))
        }
        // The oldest policy on a target governs it; a newer one stands aside.
        let rivals = policies.list(namespace: key.namespace).filter { $0.spec.targetRef.name == target && $0.metadata.deletionTimestamp == nil }
        if let governing = rivals.min(by: { a, b in
            (a.metadata.creationTimestamp?.secondsSinceEpoch ?? 0, a.metadata.name ?? "") < (b.metadata.creationTimestamp?.secondsSinceEpoch ?? 0, b.metadata.name ?? "")
        }), governing.metadata.uid != uid {
            let message = "ScalingPolicy \(governing.metadata.name ?? "") is older and already scales LLMDeployment \(target); this policy does nothing until it is removed"
            let changed = sp.status?.conditions?.first { $0.type == "AbleToScale" }?.reason != "ConflictingPolicy"
            try await setConditions(sp, [
                ("AbleToScale", .false, "ConflictingPolicy", message),
                ("ScalingActive", .false, "ConflictingPolicy", "another policy governs the target"),
            ])
            if changed { await events.record(sp, type: .warning, reason: "ConflictingPolicy", message: message) }
            return .requeueAfter(clock.real(max(period, 30)))
        }
        guard case .success(let serving) = decisions.decide(llmd.spec), let first = serving.groups.first else {
            try await setConditions(sp, [
                ("AbleToScale", .false, "TargetNotServable", "LLMDeployment \(target) has no feasible GPU configuration; see its Degraded condition"),
                ("ScalingActive", .false, "TargetNotServable", "nothing to scale"),
            ])
            return .requeueAfter(clock.real(max(period, 30)))
        }
        let designCapacity = serving.replicas > 0 ? serving.capacity / Double(serving.replicas) : first.ratePerReplica
        let coldStart = serving.model.weightBytes / 2e9 + 30
        let servingPods = pods.list(namespace: key.namespace).filter { $0.metadata.labels?[ServingWorkload.nameLabel] == target }
        var measured = await metrics.snapshot(namespace: key.namespace ?? "", deployment: target, pods: servingPods, now: now)
        // Scale from zero: requests the activator holds (or saw within a period) are demand.
        var held: Activator.Demand?
        if llmd.spec.replicas == 0, let activator, let demand = activator.demand(.init(namespace: key.namespace ?? "", name: target), window: max(period, 60)) {
            held = demand
            measured = ServingSnapshot(
                requestsPerSecond: demand.requestsPerSecond, inputTokensPerSecond: 0, outputTokensPerSecond: 0, queueDepth: Double(demand.pending), running: 0,
                kvCacheUtilization: 0, ttftP95Seconds: nil, podsScraped: 0, podsAsked: 0, observedAt: now, rateWindowSeconds: max(period, 60))
        }
        let snapshot = measured

        var mem = memory.withLock { m in
            if let existing = m[uid] { return existing }
            let (f, name) = Self.forecaster(sp.spec.forecast, period: period)
            var m = Memory(forecaster: f, forecasterName: name)
            if sp.spec.forecast.forecaster == .neural {
                m.neural = NeuralLoadForecaster(horizon: max(1, Int((Double(sp.spec.forecast.horizonSeconds) / max(period, 1)).rounded(.up))), seed: 1)
            }
            return m
        }
        // Observations count once per period; the first traffic's request mix is taken at once.
        let due = now - (mem.lastObserved ?? -.infinity) >= period * 0.9
        if let s = snapshot, mem.meanInputTokens == nil || due, s.requestsPerSecond > 0, s.inputTokensPerSecond > 0, s.outputTokensPerSecond > 0 {
            mem.meanInputTokens = Self.smooth(mem.meanInputTokens, s.inputTokensPerSecond / s.requestsPerSecond)
            mem.meanOutputTokens = Self.smooth(mem.meanOutputTokens, s.outputTokensPerSecond / s.requestsPerSecond)
        }
        // Capacity per replica at the request mix the engines report (prompt and output tokens
        // per request), not at the design load: long prompts carry fewer requests per replica
        // than the design's chat shape, short ones more. A mix of GPU types keeps the design's.
        let sizing = Self.sizingLoad(
            design: serving.design, input: mem.meanInputTokens, output: mem.meanOutputTokens, context: Double(serving.model.contextLength))
        let slo = ServingDecision.latencySLO(llmd.spec.slo)
        let replicaModel = catalog[first.gpuType].map { ReplicaModel(model: serving.model, gpu: $0, tensorParallel: first.tensorParallel) }
        var capacity = designCapacity
        // Requests that arrive in groups (spec.expectedLoad.requestsPerGroup): capacity per
        // replica of the fleet the design load needs, and how it changes with the fleet's size.
        var scaleByFleet: [Double] = []
        var referenceFleet = 1
        var fleetBurstRate: Double?
        if serving.groups.count == 1, let r = replicaModel, sizing.arrivesInGroups {
            if let sized = r.fleetSizing(for: sizing, slo: slo, headroom: ServingDecision.headroom) {
                capacity = sized.ratePerReplica
                referenceFleet = sized.replicas
                scaleByFleet = sized.capacityScaleByFleet
                fleetBurstRate = sized.burstRatePerReplica
            }
        } else if serving.groups.count == 1, sizing != serving.design, let r = replicaModel {
            let measured = r.maxRate(for: sizing, slo: slo) * (1 - ServingDecision.headroom)
            if measured > 0 { capacity = measured }
        }
        if let s = snapshot, due {
            mem.forecaster.observe(s.requestsPerSecond)
            mem.neural?.observe(
                MetricsSample(
                    requestsPerSecond: s.requestsPerSecond, tokensPerSecond: s.inputTokensPerSecond + s.outputTokensPerSecond, kvCacheUtilization: s.kvCacheUtilization,
                    queueDepth: s.queueDepth, ttftP95Seconds: s.ttftP95Seconds, replicas: Double(llmd.spec.replicas), capacityPerReplica: capacity))
            mem.lastObserved = now
            let ready = Double(max(llmd.status?.readyReplicas ?? 0, 1))
            mem.efficiency.observe(
                ratePerReplica: s.requestsPerSecond / ready, modelCapacity: capacity, ttftP95: s.ttftP95Seconds,
                ttftTarget: Double(llmd.spec.slo.ttftP95Ms) / 1000, queuePerReplica: s.queueDepth / ready, now: now)
            // The counting window is taken from the first reading: the scrape cadence or the
            // query's window, which stay as they are while the period does. A new history
            // starts from the last hour Prometheus kept, where it keeps one: without it, a
            // restart leaves a bursty deployment without a reserve for most of an hour.
            let step = max(period, 1)
            if mem.burstHistory?.periodSeconds != step {
                let past = await metrics.rateHistory(
                    namespace: key.namespace ?? "", deployment: target, gpuTypes: catalog.names, seconds: BurstHistory.defaultKeepSeconds, stepSeconds: step)
                let seed = past.flatMap { !$0.rates.isEmpty && abs($0.stepSeconds - step) < 0.5 ? $0 : nil }
                var history = BurstHistory(periodSeconds: step, countSeconds: seed?.countSeconds ?? s.rateWindowSeconds)
                for r in seed?.rates ?? [] { history.observe(r) }
                mem.burstHistory = history
                mem.burstHistorySource = seed == nil ? "observed" : "prometheus"
            }
            mem.burstHistory?.observe(s.requestsPerSecond)
        }
        let horizonSteps = max(1, Int((Double(sp.spec.forecast.horizonSeconds) / max(period, 1)).rounded(.up)))
        var forecast = sp.spec.mode == .reactive ? [] : (1...horizonSteps).compactMap { step in
            mem.forecaster.forecast(steps: step).map { ForecastPoint(secondsAhead: Double(step) * period, requestsPerSecond: max(0, $0)) }
        }
        // The network forecasts the horizon itself; until it has a window, Holt's stand.
        let neuralRate = sp.spec.mode == .reactive ? nil : mem.neural?.forecastRate()
        if let neuralRate { forecast = [ForecastPoint(secondsAhead: Double(horizonSteps) * period, requestsPerSecond: neuralRate)] }
        let current = Int(llmd.spec.replicas)
        var input = ScalerInput(
            now: now, currentReplicas: current, readyReplicas: Int(llmd.status?.readyReplicas ?? 0),
            metrics: snapshot.map {
                ScalerMetrics(requestsPerSecond: $0.requestsPerSecond, queueDepth: $0.queueDepth, kvCacheUtilization: $0.kvCacheUtilization, ttftP95Seconds: $0.ttftP95Seconds, observedAt: $0.observedAt)
            },
            forecast: forecast, capacityPerReplica: capacity * mem.efficiency.factor, coldStartSeconds: coldStart, policy: Self.policy(sp.spec, slo: llmd.spec.slo),
            state: mem.state)
        input.capacityScaleByFleet = scaleByFleet
        // Bursts the history shows within a cold start are held in reserve, at the replicas'
        // burst rate (what the simulator's llmops policy does).
        if let history = mem.burstHistory {
            let wait = Double(llmd.spec.slo.ttftP95Ms) / 1000
            input.burstFactor = history.factor(
                lead: coldStart + period, waitSeconds: wait, headroom: ServingDecision.headroom, attainment: llmd.spec.slo.attainment)
            input.recentRequestsPerSecond = history.base
            input.burstPeakRequestsPerSecond = history.ceiling(factor: input.burstFactor, waitSeconds: wait, attainment: llmd.spec.slo.attainment)
        }
        // A burst is carried at the model's median-attainment rate, as the optimizer ranks
        // configurations (the model is within 7 % of its simulator there); the efficiency factor
        // corrects the same model: down, not up (growth is evidence of spare steady capacity
        // below the knee, not of more room in a burst).
        if let r = replicaModel {
            input.burstCapacityPerReplica = max(fleetBurstRate ?? r.burstRate(for: sizing, slo: slo), capacity) * min(mem.efficiency.factor, 1)
        }
        let decision: ScalingDecision
        switch DynamicScaler.decide(input) {
        case .success(let d): decision = d
        case .failure(let e):
            try await setConditions(sp, [("AbleToScale", .false, "InvalidPolicy", "\(e)"), ("ScalingActive", .false, "InvalidPolicy", "\(e)")])
            return .done
        }
        mem.state = decision.state
        // Once ten minutes of traffic are known, and at most once a minute: would the observed
        // load choose another GPU configuration than the spec's design load?
        let seen = mem.burstHistory?.seconds ?? 0
        var reviewed = false
        if seen >= Self.reviewAfterSeconds, now - (mem.reviewedAt ?? -.infinity) >= 60, let input = mem.meanInputTokens, let output = mem.meanOutputTokens {
            var observed = LoadProfile(
                requestsPerSecond: mem.burstHistory?.mean ?? 0, meanInputTokens: input.rounded(), meanOutputTokens: output.rounded())
            observed.arrivalDispersion = sizing.arrivalDispersion
            mem.review = ConfigurationReview.review(llmd.spec, current: serving, observed: observed, catalog: catalog)
            mem.reviewedAt = now
            reviewed = true
        }
        let review = mem.review
        let reviewKnown = mem.reviewedAt != nil
        let memoryCopy = mem
        memory.withLock { $0[uid] = memoryCopy }

        let desired = decision.desiredReplicas
        var reasons = [decision.explanation.summary] + decision.explanation.reasons
        if !scaleByFleet.isEmpty {
            reasons.append(
                String(
                    format: "requests arrive in groups of %.3g on average (spec.expectedLoad.requestsPerGroup): a fleet spreads each group, so a replica carries %.2f req/s in a fleet of %d and %.2f alone",
                    LoadProfile.groupMean(dispersion: sizing.arrivalDispersion), capacity, referenceFleet, capacity * scaleByFleet[0]))
        }
        if sizing != serving.design {
            reasons.append(
                "capacity per replica \(String(format: "%.2f", capacity)) req/s at the measured mix of \(Int(sizing.meanInputTokens)) prompt / \(Int(sizing.meanOutputTokens)) output tokens")
        }
        if abs(mem.efficiency.factor - 1) > 1e-3 {
            reasons.append("capacity per replica corrected ×\(String(format: "%.2f", mem.efficiency.factor)) from measured TTFT and queues")
        }
        let reason = Conditions.clip(reasons.joined(separator: "; "), 1024)
        let heldNote = held.map { "; \($0.pending) request\($0.pending == 1 ? "" : "s") held by the activator" } ?? ""
        let coldStartNote = current == 0 && desired > 0 ? "\(heldNote); first replica serves after a cold start of about \(Int(coldStart)) s" : ""
        if desired != current {
            _ = try await client.updateScale(LLMDeployment.self, name: target, namespace: key.namespace, replicas: Int32(desired))
            await events.record(sp, reason: desired > current ? "ScaledUp" : "ScaledDown", message: Conditions.clip("LLMDeployment \(target) \(current) -> \(desired): \(reason)\(coldStartNote)", 1024))
        }
        let flagged = sp.status?.conditions?.first { $0.type == "ConfigurationFitsLoad" }?.status == .false
        if reviewed, let review, !flagged {
            await events.record(sp, reason: "CheaperConfiguration", message: Conditions.clip("LLMDeployment \(target): \(review.message)", 1024))
        }
        let stamp = Timestamp.now()
        let refreshAfter = max(60 / clock.speedup, 1)
        let forecastPeak = forecast.map(\.requestsPerSecond).max()
        let forecasterName =
            sp.spec.forecast.forecaster != .neural ? mem.forecasterName
            : neuralRate != nil ? "neural (opt-in: it does not beat holt on held-out traces)"
            : "holt (neural warming up: \(mem.neural?.observed ?? 0) of \(mem.neural?.window ?? 0) periods seen)"
        // Whole minutes of history and two decimals of the factor: written when they move,
        // not every period.
        let burstReserve = mem.burstHistory.map { history in
            BurstReserveStatus(
                factor: (input.burstFactor * 100).rounded() / 100, ceilingRequestsPerSecond: input.burstPeakRequestsPerSecond.map { ($0 * 100).rounded() / 100 },
                historySeconds: Int64((history.seconds / 60).rounded(.down)) * 60, source: mem.burstHistorySource)
        }
        let limited = decision.recommendedReplicas != desired || decision.recommendedReplicas >= Int(sp.spec.maxReplicas) || decision.recommendedReplicas <= Int(sp.spec.minReplicas)
        _ = try await client.updateStatus(from: sp) { p in
            var s = p.status ?? ScalingPolicyStatus()
            s.observedGeneration = generation
            if let snap = snapshot {
                var load = LoadSnapshot(
                    requestsPerSecond: Self.round(snap.requestsPerSecond), inputTokensPerSecond: Self.round(snap.inputTokensPerSecond),
                    outputTokensPerSecond: Self.round(snap.outputTokensPerSecond), queueDepth: Self.round(snap.queueDepth),
                    kvCacheUtilization: Self.round(snap.kvCacheUtilization), observedAt: s.currentLoad?.observedAt)
                // An unchanged load is not written again just to move its timestamp, until
                // the timestamp is a minute old: an idle fleet of hundreds of policies
                // would otherwise write every period.
                let age = Double(stamp.secondsSinceEpoch - (s.currentLoad?.observedAt?.secondsSinceEpoch ?? 0))
                if load != s.currentLoad || age >= refreshAfter { load.observedAt = stamp }
                s.currentLoad = load
            }
            s.forecastLoad = forecastPeak.map { LoadForecast(requestsPerSecond: Self.round($0), horizonSeconds: sp.spec.forecast.horizonSeconds, forecaster: forecasterName) }
            s.recommendedReplicas = Int32(decision.recommendedReplicas)
            if let burstReserve { s.burstReserve = burstReserve }
            if desired != current {
                s.lastScaleTime = stamp
                var history = s.history ?? []
                history.append(ScalingEvent(time: stamp, fromReplicas: Int32(current), toReplicas: Int32(desired), reason: Conditions.clip(reason + coldStartNote, 1024)))
                s.history = Array(history.suffix(ScalingPolicyStatus.historyLimit))
            }
            var c = s.conditions ?? []
            if reviewKnown {
                if let review {
                    Conditions.set(&c, "ConfigurationFitsLoad", .false, reason: "CheaperConfigurationForObservedLoad", message: Conditions.clip(review.message, 1024), generation: generation, now: stamp)
                } else {
                    Conditions.set(&c, "ConfigurationFitsLoad", .true, reason: "ChoiceFitsObservedLoad", message: "the observed traffic chooses the same GPU configuration, or saves less than 10 % with another", generation: generation, now: stamp)
                }
            }
            Conditions.set(&c, "AbleToScale", .true, reason: desired != current ? "SucceededRescale" : "ReadyForNewScale", message: "the scale subresource of \(target) is writable", generation: generation, now: stamp)
            if decision.metricsStale {
                Conditions.set(&c, "MetricsUnavailable", .true, reason: "NoFreshMetrics", message: "no serving Pod answered on /metrics with a rate yet; holding \(desired) replicas", generation: generation, now: stamp)
                Conditions.set(&c, "ScalingActive", .false, reason: "FailedGetMetrics", message: "holding: stale or missing metrics never scale down", generation: generation, now: stamp)
            } else {
                Conditions.set(&c, "MetricsUnavailable", .false, reason: "MetricsAvailable", message: "\(snapshot?.podsScraped ?? 0)/\(snapshot?.podsAsked ?? 0) Pods scraped", generation: generation, now: stamp)
                Conditions.set(&c, "ScalingActive", .true, reason: "ValidMetricFound", message: Conditions.clip(decision.explanation.summary, 1024), generation: generation, now: stamp)
            }
            if limited {
                Conditions.set(&c, "ScalingLimited", .true, reason: decision.recommendedReplicas >= Int(sp.spec.maxReplicas) ? "TooManyReplicas" : (decision.recommendedReplicas <= Int(sp.spec.minReplicas) ? "TooFewReplicas" : "Stabilizing"),
                               message: Conditions.clip("recommended \(decision.recommendedReplicas), desired \(desired) within [\(sp.spec.minReplicas), \(sp.spec.maxReplicas)]", 1024), generation: generation, now: stamp)
            } else {
                Conditions.set(&c, "ScalingLimited", .false, reason: "DesiredWithinRange", message: "", generation: generation, now: stamp)
            }
            s.conditions = c
            p.status = s
        }
        return .requeueAfter(clock.real(min(max(decision.requeueAfterSeconds, 1), period)))
    }

    static func round(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    private func setConditions(_ sp: ScalingPolicy, _ list: [(String, Condition.Status, String, String)]) async throws {
        let generation = sp.metadata.generation
        let now = Timestamp.now()
        _ = try await client.updateStatus(from: sp) { p in
            var s = p.status ?? ScalingPolicyStatus()
            var c = s.conditions ?? []
            for (type, status, reason, message) in list { Conditions.set(&c, type, status, reason: reason, message: message, generation: generation, now: now) }
            s.conditions = c
            s.observedGeneration = generation
            p.status = s
        }
    }
}
