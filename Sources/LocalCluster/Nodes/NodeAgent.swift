import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import Synchronization

/// The node-status half of every simulated kubelet: registers its Node (labels, taints,
/// capacity), keeps the Ready condition and renews the node's Lease in `kube-node-lease`, as
/// kubelets heartbeat. A node carrying the failure annotation stops heartbeating, as a dead
/// machine would; the node lifecycle controller notices.
final class NodeAgent: Sendable {
    let client: KubeClient
    let nodes: [SimulatedNode]
    let clock: SimulationClock
    let nodeCache: ObjectCache<Node>
    let logger: Logger
    private let lastLease = Mutex<[String: Lease]>([:])
    static let fieldManager = "llmops-kubelet"

    init(client: KubeClient, nodes: [SimulatedNode], clock: SimulationClock, nodeCache: ObjectCache<Node>, logger: Logger) {
        self.client = client
        self.nodes = nodes
        self.clock = clock
        self.nodeCache = nodeCache
        self.logger = logger
    }

    /// How often each node renews its Lease: kubelet's 10 s, scaled, but never more often than
    /// once a second, and never more than 100 renewals a second for the whole cluster (what
    /// 1,000 real nodes send), so a large time-scaled cluster does not spend its API server on
    /// heartbeats.
    static func heartbeatInterval(nodes: Int, clock: SimulationClock) -> Duration {
        max(clock.scaled(seconds: 10, minimum: 1), .milliseconds(nodes * 10))
    }

    /// Registers every node (idempotent: labels, taints and capacity are applied, user
    /// changes such as cordoning are kept), sixteen at a time as many kubelets start at once.
    func register() async throws {
        var remaining = nodes[...]
        while !remaining.isEmpty {
            let batch = remaining.prefix(16)
            remaining = remaining.dropFirst(batch.count)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in batch {
                    group.addTask {
                        var node = Node(metadata: ObjectMeta(name: n.name, labels: n.labels), spec: Node.Spec(taints: n.taints))
                        node.status = nil
                        _ = try await self.client.apply(node, fieldManager: Self.fieldManager, force: true)
                        try await self.postStatus(n, ready: true)
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    func isFailed(_ name: String) -> Bool {
        nodeCache.get(namespace: nil, name: name)?.metadata.annotations?[SimulatedNode.failureAnnotation] == "true"
    }

    /// Heartbeats until cancelled: the Lease every `heartbeatInterval`, the Ready condition
    /// when it changes.
    func run() async {
        var lastReady: [String: Bool] = [:]
        while !Task.isCancelled {
            // Every kubelet heartbeats on its own, so one slow answer delays no other node.
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for n in nodes {
                    let failed = isFailed(n.name)
                    // Post Ready again after a failure, or when the node lifecycle controller
                    // marked the node unknown while this process was too busy to heartbeat.
                    let repost = !failed && (lastReady[n.name] != true || nodeCache.get(namespace: nil, name: n.name)?.isReady == false)
                    group.addTask {
                        do {
                            if !failed { try await self.renewLease(n.name) }
                            if repost { try await self.postStatus(n, ready: true) }
                        } catch {
                            self.logger.warning("node \(n.name): heartbeat failed: \(error)")
                        }
                        return (n.name, !failed)
                    }
                }
                var out: [(String, Bool)] = []
                for await r in group { out.append(r) }
                return out
            }
            for (name, ready) in results { lastReady[name] = ready }
            try? await Task.sleep(for: Self.heartbeatInterval(nodes: nodes.count, clock: clock))
        }
    }

    /// Renews from the Lease this node last wrote, one PUT per heartbeat as kubelet does; a
    /// conflict or a missing copy costs a read.
    private func renewLease(_ node: String) async throws {
        let now = MicroTime(secondsSinceEpoch: Date().timeIntervalSince1970)
        func renewed(_ lease: Lease) -> Lease {
            var lease = lease
            lease.spec = lease.spec ?? Lease.Spec()
            lease.spec?.holderIdentity = node
            lease.spec?.leaseDurationSeconds = 40
            lease.spec?.renewTime = now
            return lease
        }
        if let last = lastLease.withLock({ $0[node] }) {
            do {
                let stored = try await client.update(renewed(last))
                lastLease.withLock { $0[node] = stored }
                return
            } catch let e as KubeAPIError where e.isConflict || e.isNotFound {
                lastLease.withLock { $0[node] = nil }
            }
        }
        do {
            let stored = try await client.update(renewed(try await client.get(Lease.self, name: node, namespace: "kube-node-lease")))
            lastLease.withLock { $0[node] = stored }
        } catch let e as KubeAPIError where e.isNotFound {
            let lease = Lease(metadata: ObjectMeta(name: node, namespace: "kube-node-lease"), spec: .init(holderIdentity: node, leaseDurationSeconds: 40, renewTime: now))
            let stored = try await client.create(lease)
            lastLease.withLock { $0[node] = stored }
        }
    }

    func postStatus(_ n: SimulatedNode, ready: Bool) async throws {
        let now = Timestamp.now()
        _ = try await client.updateStatus(Node.self, name: n.name, namespace: nil) { node in
            var status = node.status ?? Node.Status()
            status.capacity = n.capacity
            status.allocatable = n.capacity
            status.addresses = [.init(type: "InternalIP", address: "127.0.0.1"), .init(type: "Hostname", address: n.name)]
            status.nodeInfo = [
                "kubeletVersion": "v1.32.0-llmops", "containerRuntimeVersion": "llmops-sim://1", "operatingSystem": "linux", "architecture": "amd64",
                "osImage": "llmops simulated node", "kernelVersion": "", "kubeProxyVersion": "", "machineID": .string(n.name), "systemUUID": .string(n.name)
            ]
            var conditions = status.conditions ?? []
            let current = conditions.first { $0.type == "Ready" }
            let want = ready ? "True" : "Unknown"
            if current?.status != want || current == nil {
                conditions.removeAll { $0.type == "Ready" }
                conditions.append(
                    Node.Condition(
                        type: "Ready", status: want, reason: ready ? "KubeletReady" : "NodeStatusUnknown",
                        message: ready ? "kubelet is posting ready status" : "Kubelet stopped posting node status.", lastHeartbeatTime: now,
                        lastTransitionTime: now))
            }
            for pressure in ["MemoryPressure", "DiskPressure", "PIDPressure"] where !conditions.contains(where: { $0.type == pressure }) {
                conditions.append(Node.Condition(type: pressure, status: "False", reason: "KubeletHas\(pressure == "PIDPressure" ? "SufficientPID" : "No\(pressure)")", message: "", lastHeartbeatTime: now, lastTransitionTime: now))
            }
            status.conditions = conditions
            node.status = status
        }
    }
}
