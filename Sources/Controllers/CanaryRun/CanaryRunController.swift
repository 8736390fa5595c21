import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import LLMOpsAPI
import LLMOpsCore
import Logging
import Synchronization

/// Rolls a new revision of an LLMDeployment out as a canary: a second Deployment of the new
/// revision behind the same Service (traffic split by replica ratio), its share raised step by
/// step. At every analysis interval the core's canary judge compares baseline and canary TTFT,
/// inter-token latency and error rate, computed from what vLLM exposes (histogram buckets and
/// counters of each arm's Pods over the step). A regression rolls back (the canary Deployment
/// goes); passing every step promotes (the LLMDeployment takes the new revision and rolls its
/// own Deployment, then the canary goes), after an admin's approval when the spec asks for one
/// (`kubectl annotate canaryrun NAME llmops.io/approve=true`); `llmops.io/abort=true` rolls
/// back at once. Every transition is in status and an Event.
final class CanaryRunController: Sendable {
    static let fieldManager = "llmops-canary"
    static let approveAnnotation = "llmops.io/approve"
    static let abortAnnotation = "llmops.io/abort"

    /// Counters at the start of the current step, per run: the analysis window's origin.
    struct StepMemory: Sendable {
        var step: Int
        var baseline: ArmReading
        var canary: ArmReading
        var pValues: [String: Double] = [:]
    }

    let client: KubeClient
    let runs: ObjectCache<CanaryRun>
    let deployments: ObjectCache<LLMDeployment>
    let children: ObjectCache<Deployment>
    let pods: ObjectCache<Pod>
    let scraper: any ArmScraper
    let decisions: ServingDecisions
    var catalog: GPUCatalog { decisions.catalog }
    let clock: OperatorClock
    let events: EventRecorder
    let logger: Logger
    private let memory = Mutex<[String: StepMemory]>([:])

    let gateway: GatewayRouting

    init(
        client: KubeClient, runs: ObjectCache<CanaryRun>, deployments: ObjectCache<LLMDeployment>, children: ObjectCache<Deployment>, pods: ObjectCache<Pod>,
        scraper: any ArmScraper, decisions: ServingDecisions, clock: OperatorClock, events: EventRecorder, logger: Logger
    ) {
        self.client = client
        self.gateway = GatewayRouting(client: client)
        self.runs = runs
        self.deployments = deployments
        self.children = children
        self.pods = pods
        self.scraper = scraper
        self.decisions = decisions
        self.clock = clock
        self.events = events
        self.logger = logger
    }

    static let defaultSteps = [CanaryStep(weight: 10, durationSeconds: 300, minSamples: 200), CanaryStep(weight: 50, durationSeconds: 300, minSamples: 200)]

    /// The LLMDeployment as it will be once the revision is promoted.
    static func revised(_ llmd: LLMDeployment, _ r: RevisionSpec) -> LLMDeployment {
        var copy = llmd
        if let image = r.image { copy.spec.engine.image = image }
        if let rev = r.modelRevision { copy.spec.model.revision = rev }
        if let args = r.args { copy.spec.engine.args = args }
        return copy
    }

    static func canaryName(_ llmd: String, _ gpu: String) -> String { "\(llmd)-canary-\(gpu.lowercased())" }

    /// Canary replicas that carry `weight` percent of traffic next to `stable` replicas.
    static func canaryReplicas(stable: Int, weight: Int) -> Int {
        guard weight > 0 else { return 0 }
        guard weight < 100 else { return max(1, stable) }
        return max(1, Int((Double(max(stable, 1)) * Double(weight) / Double(100 - weight)).rounded()))
    }

    func runsFor(_ llmd: LLMDeployment) -> [ReconcileRequest] {
        runs.list(namespace: llmd.metadata.namespace).filter { $0.spec.targetRef.name == llmd.metadata.name }.map { ReconcileRequest($0.metadata) }
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard runs.get(key) != nil else { return .done }
        // A canary's phase moves forward only, so it is read from the API server, not the
        // cache: a reconcile queued before the last status write must not judge a step again.
        let run: CanaryRun
        do {
            run = try await client.get(CanaryRun.self, name: key.name, namespace: key.namespace)
        } catch let e as KubeAPIError where e.isNotFound {
            return .done
        }
        guard run.metadata.deletionTimestamp == nil, let uid = run.metadata.uid else { return .done }
        let phase = run.status?.phase ?? .Pending
        let target = run.spec.targetRef.name
        let canaryDeployments = children.byIndex(ObjectCache<Deployment>.ownerIndex, uid)
        // A finished run hands its traffic back to the LLMDeployment's Service (level-based:
        // also after a crash between the phase write and the route write).
        if [.RolledBack, .Failed, .Promoted].contains(phase), let route = run.spec.trafficRouting?.gatewayAPI?.httpRoute {
            try await gateway.restore(run, routeName: route, target: target)
        }
        switch phase {
        case .RolledBack, .Failed:
            for d in canaryDeployments { try? await client.delete(Deployment.self, name: d.metadata.name ?? "", namespace: key.namespace) }
            memory.withLock { $0[uid] = nil }
            return .done
        case .Promoted:
            // The canary hands its GPUs over as the LLMDeployment rolls to the new revision: one
            // replica fewer than still missing, so the rollout always has room to surge, and
            // gone once the new revision serves everywhere.
            guard let llmd = deployments.get(namespace: key.namespace, name: target) else {
                for d in canaryDeployments { try? await client.delete(Deployment.self, name: d.metadata.name ?? "", namespace: key.namespace) }
                return .done
            }
            let stable = children.byIndex(ObjectCache<Deployment>.ownerIndex, llmd.metadata.uid ?? "")
            let updatedReady = stable.reduce(0) { $0 + Int(min($1.status?.updatedReplicas ?? 0, $1.status?.availableReplicas ?? 0)) }
            let rolled = llmd.status?.observedGeneration == llmd.metadata.generation
                && llmd.status?.conditions?.first(where: { $0.type == "Progressing" })?.reason == "Complete"
            let keep = rolled ? 0 : max(0, Int(llmd.spec.replicas) - updatedReady - 1)
            for d in canaryDeployments {
                if keep == 0 {
                    try? await client.delete(Deployment.self, name: d.metadata.name ?? "", namespace: key.namespace)
                } else if Int(d.spec?.replicas ?? 0) > keep {
                    _ = try await client.patch(Deployment.self, name: d.metadata.name ?? "", namespace: key.namespace, .merge(["spec": ["replicas": .int(Int64(keep))]]))
                }
            }
            if rolled || canaryDeployments.isEmpty {
                memory.withLock { $0[uid] = nil }
                return .done
            }
            return .requeueAfter(clock.real(10))
        default: break
        }
        guard let llmd = deployments.get(namespace: key.namespace, name: target) else {
            try await finish(run, .Failed, reason: "TargetNotFound", message: "LLMDeployment \(target) does not exist in \(key.namespace ?? "")", warning: true)
            return .done
        }
        if run.metadata.annotations?[Self.abortAnnotation] == "true" {
            try await finish(run, .RolledBack, reason: "Aborted", message: "aborted by \(Self.abortAnnotation)=true; the canary is removed and traffic stays on the current revision", warning: true)
            return .done
        }
        let steps = run.spec.steps ?? Self.defaultSteps
        let approved = run.spec.approval.approved || run.metadata.annotations?[Self.approveAnnotation] == "true"
        if phase == .AwaitingApproval {
            guard approved else { return .done }
            try await promote(run, llmd, message: "approved; promoting \(Self.describe(run.spec.revision))")
            return .requeueAfter(clock.real(5))
        }
        guard case .success(let decision) = decisions.decide(Self.revised(llmd, run.spec.revision).spec), let group = decision.groups.first else {
            try await finish(run, .Failed, reason: "NotServable", message: "the new revision has no feasible GPU configuration", warning: true)
            return .done
        }
        var index = Int(run.status?.currentStep ?? 0)
        // A template change still rolling (not replicas merely waiting for GPUs).
        let rolling = llmd.status?.observedGeneration != llmd.metadata.generation
            || children.byIndex(ObjectCache<Deployment>.ownerIndex, llmd.metadata.uid ?? "").contains { d in
                (d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0) || (d.status?.updatedReplicas ?? 0) < (d.spec?.replicas ?? 0)
                    || (d.status?.replicas ?? 0) > (d.status?.updatedReplicas ?? 0)
            }
        if phase == .Pending, rolling {
            // Comparing against a fleet that is itself changing would judge the wrong baseline.
            try await setPhase(run, .Pending, reason: "WaitingForTarget", message: "waiting for LLMDeployment \(target) to finish its current rollout")
            return .requeueAfter(clock.real(10))
        }
        if phase == .Pending {
            index = 0
            try await startStep(run, index: index, weight: Int(steps[0].weight), phase: .Progressing, message: "canary of \(Self.describe(run.spec.revision)) started at \(steps[0].weight)%")
            await events.record(run, reason: "Started", message: "canary of \(Self.describe(run.spec.revision)) on \(target) started at \(steps[0].weight)% of traffic")
        }
        index = min(index, steps.count - 1)
        let step = steps[index]
        // The canary Deployment: the new revision, sized to the step's share of traffic.
        let stable = Int(llmd.spec.replicas)
        var canaryGroup = group
        canaryGroup.replicas = Self.canaryReplicas(stable: stable, weight: Int(step.weight))
        var canary = ServingWorkload.deployment(for: Self.revised(llmd, run.spec.revision), group: canaryGroup, model: decision.model, track: ServingWorkload.canaryTrack)
        canary.metadata.name = Self.canaryName(target, group.gpuType)
        canary.metadata.ownerReferences = run.controllerReference().map { [$0] }
        _ = try await client.apply(canary, fieldManager: Self.fieldManager, force: true)

        let all = ServingWorkload.livePods(of: target, in: pods.list(namespace: key.namespace))
        let canaryPods = all.filter { $0.metadata.labels?[ServingWorkload.trackLabel] == ServingWorkload.canaryTrack }
        let basePods = all.filter { $0.metadata.labels?[ServingWorkload.trackLabel] != ServingWorkload.canaryTrack }
        let interval = Double(run.spec.analysis.intervalSeconds)
        let canaryReady = canaryPods.count >= canaryGroup.replicas && canaryPods.allSatisfy(\.isReady)
        if let route = run.spec.trafficRouting?.gatewayAPI?.httpRoute {
            // The canary gets its weight once it can serve it; until then the stable track
            // carries everything.
            do {
                try await gateway.route(run, routeName: route, target: target, weight: canaryReady ? Int(step.weight) : 0)
            } catch let f as GatewayRouting.Failure {
                try await finish(run, .Failed, reason: f.reason, message: f.description, warning: true)
                return .done
            }
        }
        guard canaryReady else {
            // Say why the step is not starting when the scheduler has said so.
            if let stuck = canaryPods.lazy.compactMap({ p in
                p.status?.conditions?.first { $0["type"]?.stringValue == "PodScheduled" && $0["status"]?.stringValue == "False" }?["message"]?.stringValue
            }).first, run.status?.message?.hasPrefix("canary replicas cannot be scheduled") != true {
                try await setPhase(run, .Progressing, reason: "CanaryUnschedulable", message: "canary replicas cannot be scheduled: \(stuck)")
                await events.record(run, type: .warning, reason: "CanaryUnschedulable", message: Conditions.clip(stuck, 1024))
            }
            return .requeueAfter(clock.real(min(interval, 10)))
        }
        async let baseReading = scraper.read(basePods)
        async let canaryReading = scraper.read(canaryPods)
        let (b, c) = await (baseReading, canaryReading)
        guard let origin = memory.withLock({ m in m[uid].flatMap { $0.step == index ? $0 : nil } }) else {
            // The window starts now: after a restart the step's evidence is gathered again.
            memory.withLock { $0[uid] = StepMemory(step: index, baseline: b, canary: c) }
            return .requeueAfter(clock.real(interval))
        }
        let baseWindow = b.since(origin.baseline), canaryWindow = c.since(origin.canary)
        let metrics = Set(run.spec.analysis.metrics)
        var latencies: [LatencySamples] = []
        if metrics.contains(.ttft) {
            latencies.append(LatencySamples(metric: "ttft", baseline: baseWindow.ttft?.pseudoSamples() ?? [], canary: canaryWindow.ttft?.pseudoSamples() ?? []))
        }
        if metrics.contains(.itl) {
            latencies.append(LatencySamples(metric: "itl", baseline: baseWindow.tpot?.pseudoSamples() ?? [], canary: canaryWindow.tpot?.pseudoSamples() ?? []))
        }
        let errors = metrics.contains(.errorRate)
            ? ErrorCounts(baselineRequests: Int(baseWindow.requests), baselineErrors: Int(baseWindow.errors), canaryRequests: Int(canaryWindow.requests), canaryErrors: Int(canaryWindow.errors))
            : nil
        let startedAt = run.status?.steps?.last(where: { $0.step == Int32(index) })?.startedAt
        let elapsed = startedAt.map { (Date().timeIntervalSince1970 - Double($0.secondsSinceEpoch)) * clock.speedup } ?? 0
        let input = CanaryJudgeInput(
            latencies: latencies, errors: errors, test: run.spec.analysis.test == .sequential ? .sequential : .mannWhitney, confidence: run.spec.analysis.confidence,
            maxRegression: run.spec.analysis.maxRegression, minSamples: Int(step.minSamples), stepElapsedSeconds: elapsed,
            stepDurationSeconds: Double(run.status?.steps?.last(where: { $0.step == Int32(index) })?.durationSeconds ?? step.durationSeconds),
            previousPValues: origin.pValues)
        let verdict: CanaryVerdict
        switch CanaryJudge.judge(input) {
        case .success(let v): verdict = v
        case .failure(let e):
            try await finish(run, .Failed, reason: "InvalidAnalysis", message: "\(e)", warning: true)
            return .done
        }
        memory.withLock { m in
            for j in verdict.metrics { m[uid]?.pValues[j.metric] = j.pValue }
        }
        let analyses = verdict.metrics.map { j -> MetricAnalysis in
            var a = MetricAnalysis(metric: j.metric, test: j.test, baselineSamples: Int64(j.baselineSamples), canarySamples: Int64(j.canarySamples), verdict: j.outcome.rawValue)
            let toMs: (Double) -> Double = { j.metric == "errorRate" ? $0 : ($0 * 1000 * 10).rounded() / 10 }
            a.baselineMedian = j.baselineMedian.map(toMs)
            a.canaryMedian = j.canaryMedian.map(toMs)
            a.effectSize = (j.effectSize * 10_000).rounded() / 10_000
            a.pValue = min(1, max(0, j.pValue))
            return a
        }
        let summary = Conditions.clip(([verdict.explanation.summary] + verdict.explanation.reasons).joined(separator: "; "), 4096)
        switch verdict.action {
        case .rollback:
            try await recordStep(run, index: index, verdict: "fail", analyses: analyses, message: summary)
            if run.spec.rollback.automatic {
                try await finish(run, .RolledBack, reason: "Regressed", message: summary, warning: true)
            } else {
                try await setPhase(run, .Paused, reason: "Regressed", message: "regression found; automatic rollback is off: annotate \(Self.abortAnnotation)=true to roll back. " + summary)
                await events.record(run, type: .warning, reason: "Paused", message: Conditions.clip(summary, 1024))
            }
            return .done
        case .advance:
            try await recordStep(run, index: index, verdict: "pass", analyses: analyses, message: summary)
            await events.record(run, reason: "StepPassed", message: Conditions.clip("step \(index) at \(step.weight)%: \(summary)", 1024))
            if index + 1 < steps.count {
                // The judge's pace sets the next step's length; its minimum sample count still
                // has to be met before a shortened step can pass.
                let next = steps[index + 1]
                let duration = Int32((Double(next.durationSeconds) * verdict.pace).rounded())
                let paced = duration == next.durationSeconds ? "" : " for \(duration) s (pace ×\(verdict.pace) of \(next.durationSeconds) s)"
                try await startStep(
                    run, index: index + 1, weight: Int(next.weight), duration: duration, phase: .Progressing,
                    message: "step \(index) passed; now at \(next.weight)%\(paced)")
                return .requeueAfter(clock.real(min(interval, 10)))
            }
            if run.spec.approval.required && !approved {
                try await setPhase(run, .AwaitingApproval, reason: "AwaitingApproval", message: "every step passed; waiting for approval: kubectl annotate canaryrun \(key.name) \(Self.approveAnnotation)=true")
                await events.record(run, reason: "AwaitingApproval", message: "every step passed; approve with kubectl annotate canaryrun \(key.name) \(Self.approveAnnotation)=true")
                return .done
            }
            try await promote(run, llmd, message: "every step passed; promoting \(Self.describe(run.spec.revision))")
            return .requeueAfter(clock.real(5))
        case .continue:
            try await recordStep(run, index: index, verdict: nil, analyses: analyses, message: summary)
            return .requeueAfter(clock.real(interval))
        }
    }

    static func describe(_ r: RevisionSpec) -> String {
        var parts: [String] = []
        if let i = r.image { parts.append("image \(i)") }
        if let m = r.modelRevision { parts.append("model revision \(m.prefix(12))") }
        if r.args != nil { parts.append("new engine args") }
        return parts.isEmpty ? "the same revision" : parts.joined(separator: ", ")
    }

    private func promote(_ run: CanaryRun, _ llmd: LLMDeployment, message: String) async throws {
        var patch = JSONObject()
        var engine = JSONObject()
        if let image = run.spec.revision.image { engine["image"] = .string(image) }
        if let args = run.spec.revision.args { engine["args"] = .array(args.map(JSONValue.string)) }
        var spec = JSONObject()
        if !engine.isEmpty { spec["engine"] = .object(engine) }
        if let rev = run.spec.revision.modelRevision { spec["model"] = ["revision": .string(rev)] }
        patch["spec"] = .object(spec)
        _ = try await client.patch(LLMDeployment.self, name: llmd.metadata.name ?? "", namespace: llmd.metadata.namespace, .merge(.object(patch)))
        try await finish(run, .Promoted, reason: "Promoted", message: message, warning: false)
    }

    private func startStep(_ run: CanaryRun, index: Int, weight: Int, duration: Int32? = nil, phase: CanaryPhase, message: String) async throws {
        let now = Timestamp.now()
        let generation = run.metadata.generation
        _ = try await client.updateStatus(CanaryRun.self, name: run.metadata.name ?? "", namespace: run.metadata.namespace) { r in
            var s = r.status ?? CanaryRunStatus()
            if s.startTime == nil { s.startTime = now }
            s.phase = phase
            s.strategy = "canary"
            s.strategyReason = s.strategyReason
                ?? (run.spec.trafficRouting?.gatewayAPI.map { "traffic split by the weights of HTTPRoute \($0.httpRoute)'s backendRefs" }
                    ?? "traffic split by replica ratio behind the LLMDeployment's Service")
            s.currentStep = Int32(index)
            s.currentWeight = Int32(weight)
            s.observedGeneration = generation
            var steps = (s.steps ?? []).filter { $0.step != Int32(index) }
            var result = StepResult(step: Int32(index), weight: Int32(weight))
            result.startedAt = now
            result.durationSeconds = duration
            steps.append(result)
            s.steps = Array(steps.suffix(20))
            s.message = message
            var c = s.conditions ?? []
            Conditions.set(&c, "Progressing", .true, reason: "StepStarted", message: message, generation: generation, now: now)
            s.conditions = c
            r.status = s
        }
    }

    private func recordStep(_ run: CanaryRun, index: Int, verdict: String?, analyses: [MetricAnalysis], message: String) async throws {
        let now = Timestamp.now()
        _ = try await client.updateStatus(CanaryRun.self, name: run.metadata.name ?? "", namespace: run.metadata.namespace) { r in
            var s = r.status ?? CanaryRunStatus()
            var steps = s.steps ?? []
            if let i = steps.lastIndex(where: { $0.step == Int32(index) }) {
                steps[i].analyses = analyses
                steps[i].verdict = verdict ?? "inconclusive"
                if verdict != nil { steps[i].finishedAt = now }
            }
            s.steps = steps
            s.message = message
            r.status = s
        }
    }

    private func setPhase(_ run: CanaryRun, _ phase: CanaryPhase, reason: String, message: String) async throws {
        let now = Timestamp.now()
        let generation = run.metadata.generation
        _ = try await client.updateStatus(CanaryRun.self, name: run.metadata.name ?? "", namespace: run.metadata.namespace) { r in
            var s = r.status ?? CanaryRunStatus()
            s.phase = phase
            s.message = Conditions.clip(message, 4096)
            var c = s.conditions ?? []
            Conditions.set(&c, "Progressing", phase == .Progressing ? .true : .false, reason: reason, message: Conditions.clip(message, 1024), generation: generation, now: now)
            s.conditions = c
            r.status = s
        }
    }

    private func finish(_ run: CanaryRun, _ phase: CanaryPhase, reason: String, message: String, warning: Bool) async throws {
        let now = Timestamp.now()
        let generation = run.metadata.generation
        _ = try await client.updateStatus(CanaryRun.self, name: run.metadata.name ?? "", namespace: run.metadata.namespace) { r in
            var s = r.status ?? CanaryRunStatus()
            s.phase = phase
            s.endTime = now
            s.message = Conditions.clip(message, 4096)
            if phase != .Promoted { s.currentWeight = 0 }
            s.observedGeneration = generation
            var c = s.conditions ?? []
            Conditions.set(&c, "Progressing", .false, reason: reason, message: Conditions.clip(message, 1024), generation: generation, now: now)
            Conditions.set(&c, "Complete", .true, reason: reason, message: Conditions.clip(message, 1024), generation: generation, now: now)
            Conditions.set(&c, "Healthy", phase == .Promoted ? .true : .false, reason: reason, message: Conditions.clip(message, 1024), generation: generation, now: now)
            s.conditions = c
            r.status = s
        }
        await events.record(run, type: warning ? .warning : .normal, reason: reason, message: Conditions.clip(message, 1024))
        if phase != .Promoted {
            for d in children.byIndex(ObjectCache<Deployment>.ownerIndex, run.metadata.uid ?? "") {
                try? await client.delete(Deployment.self, name: d.metadata.name ?? "", namespace: run.metadata.namespace)
            }
        }
    }
}
