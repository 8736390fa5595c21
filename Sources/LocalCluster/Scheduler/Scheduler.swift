import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import Synchronization

/// Binds Pods to Nodes as kube-scheduler's default profile does, for the rules GPU serving
/// depends on: node readiness and cordons, taints and tolerations, node selector and required
/// node affinity, resource requests (GPUs in whole units), the Pod limit, and topology spread
/// (hard constraints filter, soft ones score). Among the nodes that fit it packs GPUs (the
/// fullest node that still fits wins) so that whole free nodes stay available for large
/// replicas. A Pod that fits nowhere keeps `PodScheduled=False` with kube-scheduler's summary
/// ("0/5 nodes are available: ...") and a `FailedScheduling` Event, and is retried.
final class Scheduler: Sendable {
    static let name = "default-scheduler"
    let client: KubeClient
    let pods: ObjectCache<Pod>
    let nodes: ObjectCache<Node>
    let events: EventRecorder
    let logger: Logger
    let retry: Duration
    /// Bindings made but not yet seen in the cache, so two Pods are never counted into the
    /// same free GPU (kube-scheduler's "assumed" Pods).
    private let assumed = Mutex<[ObjectKey: (node: String, requests: [String: Double], labels: [String: String])]>([:])
    /// The last unschedulable message per Pod, so a Pod retried every few seconds gets a new
    /// Event only when the reason changes.
    private let lastFailure = Mutex<[ObjectKey: String]>([:])
    /// Each Pod's parsed requirements (a Pod's resources and scheduling rules do not change),
    /// so counting what a node has in use does not re-read every Pod's spec for every Pod
    /// scheduled.
    /// Held while a node is chosen and assumed: choices are made one Pod at a time, as in
    /// kube-scheduler's scheduling cycle, while bindings go out in parallel (its binding cycle).
    private let cycle = Mutex<Void>(())
    private let parsed = Mutex<[ObjectKey: (uid: String, needs: PodRequirements)]>([:])

    init(client: KubeClient, pods: ObjectCache<Pod>, nodes: ObjectCache<Node>, events: EventRecorder, retry: Duration, logger: Logger) {
        self.client = client
        self.pods = pods
        self.nodes = nodes
        self.events = events
        self.retry = retry
        self.logger = logger
    }

    static func isOurs(_ pod: Pod) -> Bool {
        let scheduler = pod.spec?["schedulerName"]?.stringValue ?? name
        return scheduler == name && (pod.spec?["nodeName"]?.stringValue ?? "").isEmpty && pod.metadata.deletionTimestamp == nil
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let pod = pods.get(key) else {
            lastFailure.withLock { $0[key] = nil }
            parsed.withLock { $0[key] = nil }
            assumed.withLock { $0[key] = nil }
            return .done
        }
        guard Self.isOurs(pod) else {
            assumed.withLock { $0[key] = nil }
            return .done
        }
        if assumed.withLock({ $0[key] != nil }) { return .done }
        let needs = requirements(pod)
        let (choice, reasons, total) = cycle.withLock { _ in
            let result = pick(pod, needs)
            if let node = result.0 { assumed.withLock { $0[key] = (node, needs.requests, pod.metadata.labels ?? [:]) } }
            return result
        }
        guard let node = choice else {
            let message = Self.summary(reasons, total: total)
            try await markUnschedulable(pod, message)
            return .requeueAfter(retry)
        }
        do {
            _ = try await client.request(
                "POST", "/api/v1/namespaces/\(key.namespace ?? "default")/pods/\(key.name)/binding",
                body: ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(key.name)], "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)]])
        } catch {
            assumed.withLock { $0[key] = nil }
            throw error
        }
        lastFailure.withLock { $0[key] = nil }
        await events.record(pod, reason: "Scheduled", message: "Successfully assigned \(key.namespace ?? "default")/\(key.name) to \(node)")
        return .done
    }

    func requirements(_ pod: Pod) -> PodRequirements {
        let key = ObjectKey(pod.metadata)
        let uid = pod.metadata.uid ?? ""
        if let known = parsed.withLock({ $0[key] }), known.uid == uid { return known.needs }
        let needs = PodRequirements(spec: pod.spec)
        parsed.withLock { $0[key] = (uid, needs) }
        return needs
    }

    /// Drops assumptions the cache has caught up with.
    func forgetAssumed(_ pod: Pod) {
        if !Self.isOurs(pod) { assumed.withLock { $0[ObjectKey(pod.metadata)] = nil } }
    }

    /// The best node, or the reasons each node was rejected.
    func pick(_ pod: Pod, _ needs: PodRequirements) -> (String?, [String: Int], Int) {
        let allNodes = nodes.list()
        var used: [String: [String: Double]] = [:]
        var podLabelsByNode: [String: [[String: String]]] = [:]
        let assumedNow = assumed.withLock { $0 }
        for p in pods.list() {
            guard let node = p.spec?["nodeName"]?.stringValue, !node.isEmpty else { continue }
            let phase = p.status?.phase
            if phase == "Succeeded" || phase == "Failed" { continue }
            for (k, v) in requirements(p).requests { used[node, default: [:]][k, default: 0] += v }
            used[node, default: [:]]["pods", default: 0] += 1
            podLabelsByNode[node, default: []].append(p.metadata.labels ?? [:])
        }
        for (key, a) in assumedNow where pods.get(key).map(Self.isOurs) ?? false {
            for (k, v) in a.requests { used[a.node, default: [:]][k, default: 0] += v }
            used[a.node, default: [:]]["pods", default: 0] += 1
            podLabelsByNode[a.node, default: []].append(a.labels)
        }
        var reasons: [String: Int] = [:]
        var fits: [(node: Node, score: Double)] = []
        let labels = pod.metadata.labels ?? [:]
        for node in allNodes {
            let name = node.metadata.name ?? ""
            if !node.isReady {
                reasons["node(s) were not ready", default: 0] += 1
                continue
            }
            if node.spec?.unschedulable == true {
                reasons["node(s) were unschedulable", default: 0] += 1
                continue
            }
            if let t = (node.spec?.taints ?? []).first(where: { ($0.effect == "NoSchedule" || $0.effect == "NoExecute") && !needs.tolerates($0) }) {
                reasons["node(s) had untolerated taint {\(t.key): \(t.value ?? "")}", default: 0] += 1
                continue
            }
            if !needs.matchesNode(node.metadata.labels ?? [:]) {
                reasons["node(s) didn't match Pod's node affinity/selector", default: 0] += 1
                continue
            }
            let allocatable = node.status?.allocatable ?? [:]
            var short: String?
            for (resource, amount) in needs.requests.sorted(by: { $0.key < $1.key }) where amount > 0 {
                let have = Quantity.parse(allocatable[resource] ?? "0") ?? 0
                if (used[name]?[resource] ?? 0) + amount > have + 1e-9 {
                    short = resource
                    break
                }
            }
            if short == nil, let maxPods = Quantity.parse(allocatable["pods"] ?? "110"), (used[name]?["pods"] ?? 0) + 1 > maxPods { short = "pods" }
            if let short {
                reasons[short == "pods" ? "Too many pods" : "Insufficient \(short)", default: 0] += 1
                continue
            }
            if let violated = needs.spread.first(where: { $0.hard && skew(after: node, $0, labels, allNodes, podLabelsByNode) > $0.maxSkew }) {
                _ = violated
                reasons["node(s) didn't match pod topology spread constraints", default: 0] += 1
                continue
            }
            fits.append((node, score(node, needs, used[name] ?? [:], labels, allNodes, podLabelsByNode)))
        }
        let best = fits.max { a, b in a.score != b.score ? a.score < b.score : (a.node.metadata.name ?? "") > (b.node.metadata.name ?? "") }
        return (best?.node.metadata.name, reasons, allNodes.count)
    }

    /// Higher is better: GPU bin-packing first, then soft spread, then least CPU in use.
    private func score(_ node: Node, _ needs: PodRequirements, _ used: [String: Double], _ labels: [String: String], _ all: [Node], _ podLabels: [String: [[String: String]]]) -> Double {
        let allocatable = node.status?.allocatable ?? [:]
        var s = 0.0
        if let gpus = Quantity.parse(allocatable["nvidia.com/gpu"] ?? "0"), gpus > 0 {
            let after = (used["nvidia.com/gpu"] ?? 0) + (needs.requests["nvidia.com/gpu"] ?? 0)
            s += 100 * after / gpus
            // A Pod that needs no GPU should not take a GPU node's CPU.
            if (needs.requests["nvidia.com/gpu"] ?? 0) == 0 { s -= 200 }
        }
        for c in needs.spread where !c.hard { s -= 10 * Double(skew(after: node, c, labels, all, podLabels)) }
        let cpu = Quantity.parse(allocatable["cpu"] ?? "1") ?? 1
        s -= ((used["cpu"] ?? 0) + (needs.requests["cpu"] ?? 0)) / max(cpu, 1)
        return s
    }

    /// The spread's skew if the Pod went to `node`: matching Pods in that node's domain minus
    /// the fewest in any domain.
    private func skew(after node: Node, _ c: PodRequirements.SpreadConstraint, _ labels: [String: String], _ all: [Node], _ podLabels: [String: [[String: String]]]) -> Int {
        guard let domain = node.metadata.labels?[c.topologyKey] else { return Int.max / 2 }
        let selector = c.selector ?? LabelSelectorSpec(matchLabels: labels)
        var counts: [String: Int] = [:]
        for n in all {
            guard let d = n.metadata.labels?[c.topologyKey] else { continue }
            counts[d, default: 0] += (podLabels[n.metadata.name ?? ""] ?? []).filter { selector.matches($0) }.count
        }
        counts[domain, default: 0] += selector.matches(labels) ? 1 : 0
        return (counts[domain] ?? 0) - (counts.values.min() ?? 0)
    }

    static func summary(_ reasons: [String: Int], total: Int) -> String {
        let parts = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        return "0/\(total) nodes are available: \(parts.joined(separator: ", ")). preemption: 0/\(total) nodes are available: \(total) No preemption victims found for incoming pod."
    }

    private func markUnschedulable(_ pod: Pod, _ message: String) async throws {
        let key = ObjectKey(pod.metadata)
        let now = Timestamp.now()
        _ = try await client.updateStatus(Pod.self, name: key.name, namespace: key.namespace) { p in
            var status = p.status ?? Pod.Status(phase: "Pending")
            if status.phase == nil { status.phase = "Pending" }
            var conditions = status.conditions ?? []
            if let existing = conditions.first(where: { $0["type"]?.stringValue == "PodScheduled" }), existing["message"]?.stringValue == message { return }
            conditions.removeAll { $0["type"]?.stringValue == "PodScheduled" }
            conditions.append([
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message), "lastProbeTime": .null,
                "lastTransitionTime": .string(now.rfc3339),
            ])
            status.conditions = conditions
            p.status = status
        }
        let changed = lastFailure.withLock { seen -> Bool in
            defer { seen[key] = message }
            return seen[key] != message
        }
        if changed { await events.record(pod, type: .warning, reason: "FailedScheduling", message: message) }
    }
}
