import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import Synchronization

/// Keeps each ReplicaSet's number of live Pods at `spec.replicas`, as kube-controller-manager's
/// replicaset controller does: creates Pods from the template (owned by the ReplicaSet),
/// deletes the least valuable ones first (unscheduled, then not ready, then the newest),
/// replaces failed ones, and writes the counters to status. Creations and deletions not yet
/// seen in the cache are remembered ("expectations"), so a fast second reconcile never
/// creates twice.
final class ReplicaSetController: Sendable {
    let client: KubeClient
    let replicaSets: ObjectCache<ReplicaSet>
    let pods: ObjectCache<Pod>
    let events: EventRecorder
    let logger: Logger
    private let expectations = Mutex<[ObjectKey: (creates: Set<String>, deletes: Set<String>)]>([:])

    init(client: KubeClient, replicaSets: ObjectCache<ReplicaSet>, pods: ObjectCache<Pod>, events: EventRecorder, logger: Logger) {
        self.client = client
        self.replicaSets = replicaSets
        self.pods = pods
        self.events = events
        self.logger = logger
    }

    static func isActive(_ p: Pod) -> Bool {
        p.metadata.deletionTimestamp == nil && p.status?.phase != "Failed" && p.status?.phase != "Succeeded"
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let rs = replicaSets.get(key), let spec = rs.spec, let uid = rs.metadata.uid else {
            expectations.withLock { $0[key] = nil }
            return .done
        }
        let owned = pods.byIndex(ObjectCache<Pod>.ownerIndex, uid)
        let names = Set(owned.map { $0.metadata.name ?? "" })
        // Forget expectations the cache now shows.
        let pending = expectations.withLock { e -> (creates: Set<String>, deletes: Set<String>) in
            var x = e[key] ?? ([], [])
            x.creates.subtract(names)
            x.deletes = x.deletes.filter { n in owned.contains { $0.metadata.name == n && Self.isActive($0) } }
            e[key] = x
            return x
        }
        // Failed Pods are replaced and removed, as the Pod garbage collector would.
        for p in owned where p.status?.phase == "Failed" && p.metadata.deletionTimestamp == nil {
            try? await client.delete(Pod.self, name: p.metadata.name ?? "", namespace: key.namespace)
        }
        let active = owned.filter { Self.isActive($0) && !pending.deletes.contains($0.metadata.name ?? "") }
        let want = Int(spec.replicas ?? 1)
        let have = active.count + pending.creates.count
        if rs.metadata.deletionTimestamp == nil {
            if have < want {
                try await createSlowStart(rs, spec, key, count: want - have)
            } else if have > want {
                let victims = active.sorted(by: Self.deletionOrder).prefix(have - want)
                for v in victims {
                    let name = v.metadata.name ?? ""
                    expectations.withLock { $0[key, default: ([], [])].deletes.insert(name) }
                    do {
                        try await client.delete(Pod.self, name: name, namespace: key.namespace)
                    } catch let e as KubeAPIError where e.isNotFound {}
                    await events.record(rs, reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
                }
            }
        }
        try await writeStatus(rs, active)
        return .done
    }

    /// Creates Pods in batches of 1, 2, 4, ... in parallel, as kube-controller-manager's slow
    /// start does: a template the API server refuses fails once, not a hundred times, and a
    /// large scale-up is not one round trip per Pod.
    private func createSlowStart(_ rs: ReplicaSet, _ spec: ReplicaSet.Spec, _ key: ObjectKey, count: Int) async throws {
        var remaining = count
        var batch = 1
        while remaining > 0 {
            let n = min(batch, remaining)
            let template = pod(for: rs, spec)
            let results = await withTaskGroup(of: Result<String, any Error>.self) { group in
                for _ in 0..<n {
                    group.addTask {
                        do { return .success(try await self.client.create(template).metadata.name ?? "") } catch { return .failure(error) }
                    }
                }
                var out: [Result<String, any Error>] = []
                for await r in group { out.append(r) }
                return out
            }
            // Every Pod that was created is expected, even when a sibling's create failed:
            // forgetting one would make the next reconcile create it again.
            let names = results.compactMap { try? $0.get() }
            expectations.withLock { $0[key, default: ([], [])].creates.formUnion(names) }
            await withTaskGroup(of: Void.self) { group in
                for name in names { group.addTask { await self.events.record(rs, reason: "SuccessfulCreate", message: "Created pod: \(name)") } }
            }
            for case .failure(let error) in results { throw error }
            remaining -= n
            batch *= 2
        }
    }

    /// Pods to delete first sort first: unscheduled, pending, not ready, then the youngest.
    static func deletionOrder(_ a: Pod, _ b: Pod) -> Bool {
        func rank(_ p: Pod) -> Int {
            if (p.spec?["nodeName"]?.stringValue ?? "").isEmpty { return 0 }
            if p.status?.phase != "Running" { return 1 }
            return p.isReady ? 3 : 2
        }
        let ra = rank(a), rb = rank(b)
        if ra != rb { return ra < rb }
        return (a.metadata.creationTimestamp?.secondsSinceEpoch ?? 0, a.metadata.name ?? "") > (b.metadata.creationTimestamp?.secondsSinceEpoch ?? 0, b.metadata.name ?? "")
    }

    private func pod(for rs: ReplicaSet, _ spec: ReplicaSet.Spec) -> Pod {
        let template = spec.template
        var meta = ObjectMeta(namespace: rs.metadata.namespace)
        meta.generateName = "\(rs.metadata.name ?? "rs")-"
        meta.labels = template["metadata"]?["labels"]?.objectValue.map { o in Dictionary(uniqueKeysWithValues: o.compactMap { k, v in v.stringValue.map { (k, $0) } }) }
        meta.annotations = template["metadata"]?["annotations"]?.objectValue.map { o in Dictionary(uniqueKeysWithValues: o.compactMap { k, v in v.stringValue.map { (k, $0) } }) }
        meta.ownerReferences = rs.controllerReference().map { [$0] }
        return Pod(metadata: meta, spec: template["spec"])
    }

    private func writeStatus(_ rs: ReplicaSet, _ active: [Pod]) async throws {
        let ready = Int32(active.filter(\.isReady).count)
        let selector = rs.spec?.selector
        let labeled = Int32(active.filter { selector?.matches($0.metadata.labels ?? [:]) ?? true }.count)
        let generation = rs.metadata.generation
        _ = try await client.updateStatus(ReplicaSet.self, name: rs.metadata.name ?? "", namespace: rs.metadata.namespace) { r in
            var s = r.status ?? ReplicaSet.Status()
            s.replicas = Int32(active.count)
            s.fullyLabeledReplicas = labeled
            s.readyReplicas = ready
            s.availableReplicas = ready
            s.observedGeneration = generation
            r.status = s
        }
    }
}
