import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging

/// kube-controller-manager's node lifecycle controller: a node whose Lease has not been
/// renewed within the grace period (40 s, scaled) is marked Ready=Unknown and tainted
/// `node.kubernetes.io/unreachable:NoExecute`, and its Pods are evicted so their controllers
/// replace them elsewhere. When the heartbeats return, the taint goes.
final class NodeLifecycleController: Sendable {
    static let unreachable = Node.Taint(key: "node.kubernetes.io/unreachable", effect: "NoExecute")
    let client: KubeClient
    let nodes: ObjectCache<Node>
    let leases: ObjectCache<Lease>
    let pods: ObjectCache<Pod>
    let clock: SimulationClock
    let heartbeat: Duration
    let events: EventRecorder
    let logger: Logger

    init(
        client: KubeClient, nodes: ObjectCache<Node>, leases: ObjectCache<Lease>, pods: ObjectCache<Pod>, clock: SimulationClock, heartbeat: Duration,
        events: EventRecorder, logger: Logger
    ) {
        self.heartbeat = heartbeat
        self.client = client
        self.nodes = nodes
        self.leases = leases
        self.pods = pods
        self.clock = clock
        self.events = events
        self.logger = logger
    }

    /// kube-controller-manager's node-monitor grace period, 40 s modelled, but never under
    /// 10 s of real time: a time-scaled cluster on a busy laptop must not declare its nodes
    /// dead because one process was short of CPU for a few seconds. Four heartbeats at least,
    /// as 40 s is four of kubelet's 10 s renewals.
    var grace: Duration { max(clock.scaled(seconds: 40, minimum: 10), heartbeat * 4) }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let node = nodes.get(key) else { return .done }
        guard let renew = leases.get(namespace: "kube-node-lease", name: key.name)?.spec?.renewTime else { return .requeueAfter(grace) }
        let age = Date().timeIntervalSince1970 - Double(renew.microsecondsSinceEpoch) / 1e6
        let stale = Duration.seconds(age) > grace
        let tainted = node.spec?.taints?.contains { $0.key == Self.unreachable.key } ?? false
        if stale && !tainted {
            var copy = node
            var spec = copy.spec ?? Node.Spec()
            spec.taints = (spec.taints ?? []) + [Self.unreachable]
            copy.spec = spec
            _ = try await client.update(copy)
            _ = try await client.updateStatus(Node.self, name: key.name, namespace: nil) { n in
                var status = n.status ?? Node.Status()
                status.conditions = (status.conditions ?? []).map { c in
                    guard c.type == "Ready" else { return c }
                    var u = c
                    u.status = "Unknown"
                    u.reason = "NodeStatusUnknown"
                    u.message = "Kubelet stopped posting node status."
                    u.lastTransitionTime = Timestamp.now()
                    return u
                }
                n.status = status
            }
            await events.record(node, type: .normal, reason: "NodeNotReady", message: "Node \(key.name) status is now: NodeNotReady")
        }
        if stale {
            // Taint-based eviction: nothing here tolerates the unreachable taint, and no kubelet
            // will confirm a graceful stop, so the Pods are removed at once.
            for p in pods.list() where p.spec?["nodeName"]?.stringValue == key.name {
                try? await client.delete(Pod.self, name: p.metadata.name ?? "", namespace: p.metadata.namespace, options: .init(preconditionUID: p.metadata.uid, gracePeriodSeconds: 0))
                await events.record(p, type: .normal, reason: "TaintManagerEviction", message: "Marking for deletion Pod \(p.metadata.namespace ?? "")/\(p.metadata.name ?? "")")
            }
            return .requeueAfter(grace / 4)
        }
        if tainted {
            var copy = node
            var spec = copy.spec ?? Node.Spec()
            spec.taints = spec.taints?.filter { $0.key != Self.unreachable.key }
            if spec.taints?.isEmpty == true { spec.taints = nil }
            copy.spec = spec
            _ = try await client.update(copy)
            await events.record(node, reason: "NodeReady", message: "Node \(key.name) status is now: NodeReady")
        }
        // Look again when the lease would next go stale.
        return .requeueAfter(max(.milliseconds(200), grace - .seconds(age)))
    }
}
