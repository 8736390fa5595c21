import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging

/// Rolls Deployments out through ReplicaSets as kube-controller-manager's deployment
/// controller does: one ReplicaSet per pod template (named by the template's hash, labelled
/// `pod-template-hash`), revisions in the `deployment.kubernetes.io/revision` annotation (an
/// old template coming back, as `kubectl rollout undo` writes it, reuses its ReplicaSet under
/// a new revision), RollingUpdate within `maxSurge`/`maxUnavailable` or Recreate, `paused`,
/// old ReplicaSets pruned to `revisionHistoryLimit`, and the status `kubectl rollout status`
/// reads (observedGeneration, updated/ready/available counts, Available and Progressing).
final class DeploymentController: Sendable {
    static let revisionAnnotation = "deployment.kubernetes.io/revision"
    static let hashLabel = "pod-template-hash"
    let client: KubeClient
    let deployments: ObjectCache<Deployment>
    let replicaSets: ObjectCache<ReplicaSet>
    let events: EventRecorder
    let logger: Logger

    init(client: KubeClient, deployments: ObjectCache<Deployment>, replicaSets: ObjectCache<ReplicaSet>, events: EventRecorder, logger: Logger) {
        self.client = client
        self.deployments = deployments
        self.replicaSets = replicaSets
        self.events = events
        self.logger = logger
    }

    /// The template's hash as kube-controller-manager uses it: short, label-safe, stable.
    static func templateHash(_ template: JSONValue) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in JSONText.serialize(template, sortKeys: true).utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var out = ""
        for _ in 0..<10 {
            out.append(alphabet[Int(h % UInt64(alphabet.count))])
            h /= UInt64(alphabet.count)
        }
        return out
    }

    /// A template as Kubernetes compares templates (semantic equality of typed objects):
    /// nulls, empty objects and empty lists are the same as absent fields, so a template a
    /// client wrote back from a ReplicaSet (`kubectl rollout undo` sends
    /// `creationTimestamp: null` and `resources: {}`) matches the original.
    static func normalized(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out = JSONObject()
            for (k, value) in o {
                let n = normalized(value)
                switch n {
                case .null: continue
                case .object(let inner) where inner.isEmpty: continue
                case .array(let items) where items.isEmpty: continue
                default: out[k] = n
                }
            }
            return .object(out)
        case .array(let items): return .array(items.map(normalized))
        default: return v
        }
    }

    /// A ReplicaSet's template without the hash label, to compare with the Deployment's.
    static func withoutHash(_ template: JSONValue) -> JSONValue {
        guard case .object(var t) = template, case .object(var meta)? = t["metadata"], case .object(var labels)? = meta["labels"] else { return template }
        labels[hashLabel] = nil
        meta["labels"] = .object(labels)
        t["metadata"] = .object(meta)
        return .object(t)
    }

    static func revision(_ rs: ReplicaSet) -> Int { Int(rs.metadata.annotations?[revisionAnnotation] ?? "") ?? 0 }

    /// `25%` of `total`, or an absolute number; surge rounds up, unavailability down.
    static func resolve(_ v: JSONValue?, total: Int, default d: String, roundUp: Bool) -> Int {
        let text = v?.stringValue ?? v?.intValue.map { String($0) } ?? d
        if text.hasSuffix("%"), let p = Double(text.dropLast()) {
            let x = Double(total) * p / 100
            return Int(roundUp ? x.rounded(.up) : x.rounded(.down))
        }
        return Int(text) ?? 0
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let d = deployments.get(key), let spec = d.spec, let uid = d.metadata.uid, d.metadata.deletionTimestamp == nil else { return .done }
        let owned = replicaSets.byIndex(ObjectCache<ReplicaSet>.ownerIndex, uid).filter { $0.metadata.deletionTimestamp == nil }
        let replicas = Int(spec.replicas ?? 1)
        let template = spec.template
        let maxRevision = owned.map(Self.revision).max() ?? 0
        let wanted = Self.normalized(template)
        var newRS = owned.first { Self.normalized(Self.withoutHash($0.spec?.template ?? .null)) == wanted }
        let olds = owned.filter { $0.metadata.uid != newRS?.metadata.uid }.sorted { Self.revision($0) < Self.revision($1) }
        if spec.paused == true {
            try await writeStatus(d, newRS, owned, paused: true)
            return .done
        }
        if newRS == nil {
            newRS = try await createReplicaSet(d, spec, revision: maxRevision + 1, initial: olds.allSatisfy { ($0.spec?.replicas ?? 0) == 0 } ? replicas : 0)
        } else if let rs = newRS, Self.revision(rs) < maxRevision {
            // An old template is back (rollback): its ReplicaSet becomes the newest revision.
            var copy = rs
            copy.metadata.annotations = (copy.metadata.annotations ?? [:]).merging([Self.revisionAnnotation: String(maxRevision + 1)]) { $1 }
            newRS = try await client.update(copy)
            await events.record(d, reason: "DeploymentRollback", message: "Rolled back deployment \"\(key.name)\" to revision \(maxRevision + 1)")
        }
        guard let current = newRS else { return .done }
        // The Deployment carries its current revision too (`kubectl rollout undo` patches it).
        let revision = String(Self.revision(current))
        if d.metadata.annotations?[Self.revisionAnnotation] != revision {
            _ = try await client.patch(Deployment.self, name: key.name, namespace: key.namespace, .merge(["metadata": ["annotations": [.init(stringLiteral: Self.revisionAnnotation): .string(revision)]]]))
        }
        let strategy = spec.strategy?["type"]?.stringValue ?? "RollingUpdate"
        let newCount = Int(current.spec?.replicas ?? 0)
        let oldTotal = olds.reduce(0) { $0 + Int($1.spec?.replicas ?? 0) }
        if strategy == "Recreate" {
            for rs in olds where (rs.spec?.replicas ?? 0) > 0 { try await scale(d, rs, to: 0) }
            let oldPods = olds.reduce(0) { $0 + Int($1.status?.replicas ?? 0) }
            if oldPods == 0 && newCount != replicas { try await scale(d, current, to: replicas) }
        } else {
            let surge = Self.resolve(spec.strategy?["rollingUpdate"]?["maxSurge"], total: replicas, default: "25%", roundUp: true)
            var unavailable = Self.resolve(spec.strategy?["rollingUpdate"]?["maxUnavailable"], total: replicas, default: "25%", roundUp: false)
            if surge == 0 && unavailable == 0 { unavailable = 1 }
            if oldTotal == 0 {
                if newCount != replicas { try await scale(d, current, to: replicas) }
            } else {
                // Scale the new ReplicaSet up within the surge...
                let allowed = replicas + surge - (newCount + oldTotal)
                if allowed > 0 && newCount < replicas { try await scale(d, current, to: min(replicas, newCount + allowed)) }
                // ...and the old ones down while enough Pods stay available.
                let available = owned.reduce(0) { $0 + Int($1.status?.availableReplicas ?? 0) }
                let newUnavailable = max(0, newCount - Int(current.status?.availableReplicas ?? 0))
                var budget = available - (replicas - unavailable) - newUnavailable
                // Old Pods that are not available cost nothing to remove.
                for rs in olds {
                    let want = Int(rs.spec?.replicas ?? 0)
                    let unhealthy = max(0, want - Int(rs.status?.availableReplicas ?? 0))
                    let cut = min(want, unhealthy + max(0, budget))
                    if cut > 0 {
                        try await scale(d, rs, to: want - cut)
                        budget -= max(0, cut - unhealthy)
                    }
                }
            }
        }
        try await pruneHistory(d, spec, olds)
        try await writeStatus(d, current, owned, paused: false)
        return .done
    }

    private func createReplicaSet(_ d: Deployment, _ spec: Deployment.Spec, revision: Int, initial: Int) async throws -> ReplicaSet {
        let hash = Self.templateHash(Self.normalized(spec.template))
        var template = spec.template
        if case .object(var t) = template {
            var meta = t["metadata"]?.objectValue ?? JSONObject()
            var labels = meta["labels"]?.objectValue ?? JSONObject()
            labels[Self.hashLabel] = .string(hash)
            meta["labels"] = .object(labels)
            t["metadata"] = .object(meta)
            template = .object(t)
        }
        var selector = spec.selector
        selector.matchLabels = (selector.matchLabels ?? [:]).merging([Self.hashLabel: hash]) { $1 }
        var labels = template["metadata"]?["labels"]?.objectValue.map { o in Dictionary(uniqueKeysWithValues: o.compactMap { k, v in v.stringValue.map { (k, $0) } }) } ?? [:]
        labels[Self.hashLabel] = hash
        var annotations = [Self.revisionAnnotation: String(revision)]
        if let cause = d.metadata.annotations?["kubernetes.io/change-cause"] { annotations["kubernetes.io/change-cause"] = cause }
        var meta = ObjectMeta(name: "\(d.metadata.name ?? "deploy")-\(hash)", namespace: d.metadata.namespace, labels: labels, annotations: annotations)
        meta.ownerReferences = d.controllerReference().map { [$0] }
        var rs = ReplicaSet(metadata: meta, spec: ReplicaSet.Spec(replicas: Int32(initial), selector: selector, template: template))
        rs.spec?.minReadySeconds = spec.minReadySeconds
        do {
            let created = try await client.create(rs)
            // kube-controller-manager reports a new ReplicaSet only when it starts with Pods.
            if initial > 0 { await events.record(d, reason: "ScalingReplicaSet", message: "Scaled up replica set \(created.metadata.name ?? "") from 0 to \(initial)") }
            return created
        } catch let e as KubeAPIError where e.isAlreadyExists {
            // Created by an earlier reconcile whose result the cache has not shown yet.
            return try await client.get(ReplicaSet.self, name: meta.name ?? "", namespace: meta.namespace)
        }
    }

    private func scale(_ d: Deployment, _ rs: ReplicaSet, to n: Int) async throws {
        let from = Int(rs.spec?.replicas ?? 0)
        guard from != n else { return }
        _ = try await client.patch(ReplicaSet.self, name: rs.metadata.name ?? "", namespace: rs.metadata.namespace, .merge(["spec": ["replicas": .int(Int64(n))]]))
        await events.record(d, reason: "ScalingReplicaSet", message: "Scaled \(n > from ? "up" : "down") replica set \(rs.metadata.name ?? "") from \(from) to \(n)")
    }

    private func pruneHistory(_ d: Deployment, _ spec: Deployment.Spec, _ olds: [ReplicaSet]) async throws {
        let limit = Int(spec.revisionHistoryLimit ?? 10)
        let idle = olds.filter { ($0.spec?.replicas ?? 0) == 0 && ($0.status?.replicas ?? 0) == 0 }
        guard idle.count > limit else { return }
        for rs in idle.prefix(idle.count - limit) {
            try? await client.delete(ReplicaSet.self, name: rs.metadata.name ?? "", namespace: rs.metadata.namespace)
        }
    }

    private func writeStatus(_ d: Deployment, _ newRS: ReplicaSet?, _ owned: [ReplicaSet], paused: Bool) async throws {
        let replicas = Int32(d.spec?.replicas ?? 1)
        let total = owned.reduce(Int32(0)) { $0 + ($1.status?.replicas ?? 0) }
        let ready = owned.reduce(Int32(0)) { $0 + ($1.status?.readyReplicas ?? 0) }
        let available = owned.reduce(Int32(0)) { $0 + ($1.status?.availableReplicas ?? 0) }
        let updated = newRS?.status?.replicas ?? 0
        let unavailableAllowed = Int32(Self.resolve(d.spec?.strategy?["rollingUpdate"]?["maxUnavailable"], total: Int(replicas), default: "25%", roundUp: false))
        let complete = updated == replicas && total == replicas && available == replicas && newRS?.status?.observedGeneration == newRS?.metadata.generation
        let generation = d.metadata.generation
        let now = Timestamp.now().rfc3339
        let rsName = newRS?.metadata.name ?? ""
        _ = try await client.updateStatus(Deployment.self, name: d.metadata.name ?? "", namespace: d.metadata.namespace) { obj in
            var s = obj.status ?? Deployment.Status()
            s.observedGeneration = generation
            s.replicas = total
            s.updatedReplicas = updated
            s.readyReplicas = ready
            s.availableReplicas = available
            s.unavailableReplicas = max(0, replicas - available)
            func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
                let old = (s.conditions ?? []).first { $0["type"]?.stringValue == type }
                let unchanged = old?["status"]?.stringValue == status && old?["reason"]?.stringValue == reason && old?["message"]?.stringValue == message
                if unchanged, let old { return old }
                let transition = old?["status"]?.stringValue == status ? (old?["lastTransitionTime"] ?? .string(now)) : .string(now)
                return [
                    "type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message), "lastUpdateTime": .string(now),
                    "lastTransitionTime": transition,
                ]
            }
            let isAvailable = available >= replicas - unavailableAllowed
            let progressing: JSONValue
            if paused {
                progressing = condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
            } else if complete {
                progressing = condition("Progressing", "True", "NewReplicaSetAvailable", "ReplicaSet \"\(rsName)\" has successfully progressed.")
            } else {
                progressing = condition("Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"\(rsName)\" is progressing.")
            }
            s.conditions = [
                condition(
                    "Available", isAvailable ? "True" : "False", isAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    isAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
                progressing,
            ]
            obj.status = s
        }
    }
}
