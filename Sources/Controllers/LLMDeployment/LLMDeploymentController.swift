import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import LLMOpsAPI
import LLMOpsCore
import Logging

/// Reconciles an LLMDeployment: asks the core for GPU type, tensor-parallel degree and the
/// split of replicas, applies one Deployment per GPU type and a Service (server-side apply,
/// field manager `llmops-operator`, so hand edits of fields it owns are put back), and writes
/// what it decided and why to status. A move to another GPU type brings the new Deployment up
/// before the old one goes. A spec no configuration can serve ends in `Degraded` with the
/// core's reason and a Warning Event, and is not retried until the spec changes.
final class LLMDeploymentController: Sendable {
    static let fieldManager = "llmops-operator"
    let client: KubeClient
    let deployments: ObjectCache<LLMDeployment>
    let children: ObjectCache<Deployment>
    let services: ObjectCache<KubeModel.Service>
    let pods: ObjectCache<Pod>
    /// What was last applied, so a steady-state reconcile sends nothing.
    let appliedObjects = AppliedObjects()
    let decisions: ServingDecisions
    var catalog: GPUCatalog { decisions.catalog }
    let events: EventRecorder
    let logger: Logger
    /// Scale from zero: holds requests while no replica is ready (nil: requests to a Service
    /// at zero find no endpoint).
    let activator: Activator?
    let activatorSlices: ObjectCache<EndpointSlice>?

    init(
        client: KubeClient, deployments: ObjectCache<LLMDeployment>, children: ObjectCache<Deployment>, services: ObjectCache<KubeModel.Service>, pods: ObjectCache<Pod>,
        decisions: ServingDecisions, events: EventRecorder, logger: Logger, activator: Activator? = nil, activatorSlices: ObjectCache<EndpointSlice>? = nil
    ) {
        self.activator = activator
        self.activatorSlices = activatorSlices
        self.client = client
        self.deployments = deployments
        self.children = children
        self.services = services
        self.pods = pods
        self.decisions = decisions
        self.events = events
        self.logger = logger
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let llmd = deployments.get(key), llmd.metadata.deletionTimestamp == nil, let uid = llmd.metadata.uid else { return .done }
        let owned = children.byIndex(ObjectCache<Deployment>.ownerIndex, uid)
        switch decisions.decide(llmd.spec) {
        case .failure(let error):
            try await reportInfeasible(llmd, error)
            return .done
        case .success(let decision):
            let service = ServingWorkload.service(for: llmd)
            _ = try await appliedObjects.apply(
                service, current: services.get(namespace: key.namespace, name: service.metadata.name ?? ""), client: client, fieldManager: Self.fieldManager)
            var applied: [Deployment] = []
            for group in decision.groups {
                let desired = ServingWorkload.deployment(for: llmd, group: group, model: decision.model)
                let current = children.get(namespace: key.namespace, name: desired.metadata.name ?? "")
                applied.append(try await appliedObjects.apply(desired, current: current, client: client, fieldManager: Self.fieldManager))
            }
            let wantedNames = Set(applied.compactMap(\.metadata.name))
            let stale = owned.filter { !wantedNames.contains($0.metadata.name ?? "") }
            // Old GPU types go once the new ones serve everything the spec asks for.
            let newReady = applied.reduce(0) { $0 + Int($1.status?.availableReplicas ?? 0) }
            if !stale.isEmpty && newReady >= decision.replicas {
                for d in stale {
                    try? await client.delete(Deployment.self, name: d.metadata.name ?? "", namespace: key.namespace)
                    appliedObjects.forget(Deployment.self, namespace: key.namespace, name: d.metadata.name ?? "")
                    await events.record(llmd, reason: "RetiredGPUType", message: "Deleted \(d.metadata.name ?? ""): its replicas now run on \(decision.summary)")
                }
            }
            let live = applied + (newReady >= decision.replicas ? [] : stale)
            try await routeThroughActivator(llmd)
            try await writeStatus(llmd, decision, live)
            return .done
        }
    }

    static let activatorManager = "activator.llmops.io"

    /// From the moment the spec asks for zero replicas until a replica is ready again, an
    /// EndpointSlice of the Service points at the activator, so requests wake the deployment
    /// instead of finding no endpoint; once a replica serves, the slice goes.
    private func routeThroughActivator(_ llmd: LLMDeployment) async throws {
        guard let activator, let slices = activatorSlices, let name = llmd.metadata.name, let ns = llmd.metadata.namespace else { return }
        let target = Activator.Target(namespace: ns, name: name)
        let sliceName = "\(name)-activator"
        let existing = slices.get(namespace: ns, name: sliceName)
        let ready = ServingWorkload.livePods(of: name, in: pods.list(namespace: ns)).contains(where: \.isReady)
        let hold = !ready && (llmd.spec.replicas == 0 || existing != nil)
        guard hold else {
            if existing != nil {
                do {
                    try await client.delete(EndpointSlice.self, name: sliceName, namespace: ns)
                } catch let e as KubeAPIError where e.isNotFound {}
                appliedObjects.forget(EndpointSlice.self, namespace: ns, name: sliceName)
            }
            await activator.release(target)
            return
        }
        let port = try await activator.listen(for: target)
        var meta = ObjectMeta(
            name: sliceName, namespace: ns,
            labels: ["kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": Self.activatorManager, "app.kubernetes.io/managed-by": "llmops"])
        meta.ownerReferences = llmd.controllerReference().map { [$0] }
        let slice = EndpointSlice(
            metadata: meta, addressType: "IPv4",
            endpoints: [.init(addresses: [activator.advertiseAddress], conditions: .init(ready: true, serving: true, terminating: false), nodeName: nil, zone: nil, targetRef: nil)],
            ports: [.init(name: "http", port: Int32(port), protocol: "TCP")])
        if existing == nil { await events.record(llmd, reason: "Activating", message: "No replica is ready: requests to Service \(name) are held by the activator (\(activator.advertiseAddress):\(port)) and wake the deployment") }
        _ = try await appliedObjects.apply(slice, current: existing, client: client, fieldManager: Self.fieldManager)
    }

    private func reportInfeasible(_ llmd: LLMDeployment, _ error: CoreError) async throws {
        let reason: String
        switch error {
        case .invalidInput: reason = "InvalidSpec"
        case .infeasible: reason = "NoFeasibleConfiguration"
        }
        let message = Conditions.clip("\(error)", 1024)
        let generation = llmd.metadata.generation
        let now = Timestamp.now()
        let previous = llmd.status?.conditions?.first { $0.type == "Degraded" }
        let updated = try await client.updateStatus(from: llmd) { l in
            var s = l.status ?? LLMDeploymentStatus()
            var conditions = s.conditions ?? []
            Conditions.set(&conditions, "Degraded", .true, reason: reason, message: message, generation: generation, now: now)
            Conditions.set(&conditions, "Ready", .false, reason: reason, message: "no change applied: \(message)", generation: generation, now: now)
            Conditions.set(&conditions, "Progressing", .false, reason: reason, message: "waiting for a spec that can be served", generation: generation, now: now)
            s.conditions = conditions
            s.observedGeneration = generation
            l.status = s
        }
        if previous?.reason != reason || previous?.message != message {
            await events.record(updated, type: .warning, reason: reason, message: message)
        }
    }

    private func writeStatus(_ llmd: LLMDeployment, _ decision: ServingDecision, _ live: [Deployment]) async throws {
        let name = llmd.metadata.name ?? ""
        let generation = llmd.metadata.generation
        let now = Timestamp.now()
        // The stable fleet only: a CanaryRun's replicas report in its own status.
        let servingPods = pods.list(namespace: llmd.metadata.namespace).filter {
            $0.metadata.labels?[ServingWorkload.nameLabel] == name && $0.metadata.labels?[ServingWorkload.trackLabel] != ServingWorkload.canaryTrack
        }
        let replicas = live.reduce(Int32(0)) { $0 + ($1.status?.replicas ?? 0) }
        let ready = live.reduce(Int32(0)) { $0 + ($1.status?.readyReplicas ?? 0) }
        let updated = live.reduce(Int32(0)) { $0 + ($1.status?.updatedReplicas ?? 0) }
        let childrenCurrent = live.allSatisfy { ($0.status?.observedGeneration ?? -1) >= ($0.metadata.generation ?? 0) }
        let desired = Int32(decision.replicas)
        let complete = childrenCurrent && ready >= desired && replicas == desired && updated == desired
        // Why replicas are not coming up, in the words of the scheduler and the kubelet.
        var problems: [(String, String)] = []
        for p in servingPods where p.metadata.deletionTimestamp == nil {
            if let c = p.status?.conditions?.first(where: { $0["type"]?.stringValue == "PodScheduled" && $0["status"]?.stringValue == "False" }) {
                problems.append(("Unschedulable", "pod \(p.metadata.name ?? ""): \(c["message"]?.stringValue ?? "cannot be scheduled")"))
            }
            for cs in p.status?.containerStatuses ?? [] {
                if let w = cs["state"]?["waiting"], let r = w["reason"]?.stringValue, r == "CrashLoopBackOff" || r == "ImagePullBackOff" || r == "ErrImagePull" || r == "CreateContainerError" {
                    problems.append((r == "CrashLoopBackOff" ? "CrashLoop" : "ImagePull", "pod \(p.metadata.name ?? ""): \(w["message"]?.stringValue ?? r)"))
                }
            }
        }
        let placement = servingPods.compactMap { p -> ReplicaPlacement? in
            guard let node = p.spec?["nodeName"]?.stringValue, !node.isEmpty, p.metadata.deletionTimestamp == nil else { return nil }
            return ReplicaPlacement(replica: p.metadata.name ?? "", node: node, gpuType: p.metadata.labels?[ServingWorkload.gpuLabel] ?? "", gpus: [])
        }.sorted { $0.replica < $1.replica }
        let action = "Serve \(decision.summary) ×\(decision.replicas)"
        let source = llmd.spec.expectedLoad == nil ? "the default design load" : "spec.expectedLoad"
        let design = "at \(source) of \(ServingDecision.describe(decision.design)) the core would " + decision.explanation.summary
        let reason = Conditions.clip(("\(decision.summary) per replica is the cheapest SLO-compliant capacity; \(llmd.spec.replicas) replicas from spec.replicas" + "; " + ([design] + decision.explanation.reasons).joined(separator: "; "))
            + (decision.cappedAt.map { "; capped at \($0) replicas by maxCostPerHour \(llmd.spec.gpu.maxCostPerHour ?? 0)" } ?? ""), 4096)
        var inputs = decision.explanation.inputMap.mapValues { Conditions.clip($0, 1024) }
        inputs["designLoad"] = ServingDecision.describe(decision.design)
        inputs["replicas"] = String(llmd.spec.replicas)
        let previousAction = llmd.status?.lastDecision?.action
        let decisionInputs = inputs
        let firstProblem = problems.first
        let perReplicaKV = decision.groups.first.map { g -> Double in
            guard let gpu = catalog[g.gpuType] else { return 0 }
            return ReplicaModel(model: decision.model, gpu: gpu, tensorParallel: g.tensorParallel).kvCacheTokens
        } ?? 0
        let stored = try await client.updateStatus(from: llmd) { l in
            var s = l.status ?? LLMDeploymentStatus()
            s.observedGeneration = generation
            s.replicas = replicas
            s.readyReplicas = ready
            s.selector = ServingWorkload.selector(name)
            s.gpuType = decision.groups.map(\.gpuType).joined(separator: ",")
            s.tensorParallel = Int32(decision.groups.first?.tensorParallel ?? 1)
            // What runs costs: replicas placed on nodes, at their GPU type's price.
            let running = placement.reduce(0.0) { sum, p in sum + (decision.groups.first { $0.gpuType == p.gpuType }?.pricePerReplicaHour ?? 0) }
            s.costPerHour = (running * 100).rounded() / 100
            s.capacity = EstimatedCapacity(
                requestsPerSecond: (decision.capacity * 100).rounded() / 100,
                outputTokensPerSecond: (decision.capacity * decision.design.meanOutputTokens).rounded(),
                maxConcurrentSequences: Int32(min(Double(Int32.max), (perReplicaKV / (decision.design.meanInputTokens + decision.design.meanOutputTokens)).rounded(.down) * Double(decision.replicas))))
            s.placement = placement.isEmpty ? nil : Array(placement.prefix(1000))
            if s.lastDecision?.action != action {
                s.lastDecision = DecisionRecord(time: now, action: action, reason: reason, inputs: decisionInputs)
            }
            var conditions = s.conditions ?? []
            if ready >= desired && desired > 0 {
                Conditions.set(&conditions, "Ready", .true, reason: "ReplicasReady", message: "\(ready)/\(desired) replicas ready on \(decision.summary)", generation: generation, now: now)
            } else if desired == 0 {
                Conditions.set(&conditions, "Ready", .false, reason: "ScaledToZero", message: "no replicas requested", generation: generation, now: now)
            } else {
                Conditions.set(&conditions, "Ready", .false, reason: "ReplicasNotReady", message: "\(ready)/\(desired) replicas ready on \(decision.summary)", generation: generation, now: now)
            }
            if complete {
                Conditions.set(&conditions, "Progressing", .false, reason: "Complete", message: "\(desired) replicas of \(decision.summary) are up to date and ready", generation: generation, now: now)
            } else {
                Conditions.set(&conditions, "Progressing", .true, reason: "RollingOut", message: "\(updated)/\(desired) replicas updated, \(ready) ready", generation: generation, now: now)
            }
            if let first = firstProblem {
                Conditions.set(&conditions, "Degraded", .true, reason: first.0, message: Conditions.clip(first.1, 1024), generation: generation, now: now)
            } else if let cap = decision.cappedAt {
                Conditions.set(&conditions, "Degraded", .true, reason: "CostCeiling", message: "spec.replicas \(llmd.spec.replicas) would cost more than maxCostPerHour \(llmd.spec.gpu.maxCostPerHour ?? 0); running \(cap)", generation: generation, now: now)
            } else {
                Conditions.set(&conditions, "Degraded", .false, reason: "AsExpected", message: "", generation: generation, now: now)
            }
            s.conditions = conditions
            l.status = s
        }
        if previousAction != action {
            await events.record(stored, reason: "Decision", message: Conditions.clip("\(action): \(reason)", 1024))
        }
        if let first = problems.first, llmd.status?.conditions?.first(where: { $0.type == "Degraded" })?.reason != first.0 {
            await events.record(stored, type: .warning, reason: first.0, message: Conditions.clip(first.1, 1024))
        }
    }
}
