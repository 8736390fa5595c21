/// A taint on a node, as in Kubernetes: replicas must tolerate NoSchedule and NoExecute taints.
public struct Taint: Sendable, Hashable {
    public var key: String
    public var value: String?
    public var effect: String  // NoSchedule, PreferNoSchedule, NoExecute
    public init(key: String, value: String? = nil, effect: String) {
        self.key = key
        self.value = value
        self.effect = effect
    }
}

/// A toleration: matches a taint by key (and value unless `exists`), and by effect when set.
public struct Toleration: Sendable, Hashable {
    public var key: String?
    public var value: String?
    public var exists: Bool
    public var effect: String?
    public init(key: String?, value: String? = nil, exists: Bool = false, effect: String? = nil) {
        self.key = key
        self.value = value
        self.exists = exists
        self.effect = effect
    }

    func tolerates(_ t: Taint) -> Bool {
        if let effect, effect != t.effect { return false }
        guard let key else { return exists }  // empty key with Exists tolerates everything
        return key == t.key && (exists || value == t.value)
    }
}

/// A GPU node as the placer sees it.
public struct GPUNode: Sendable, Hashable {
    public var name: String
    public var gpuType: String
    public var gpuCount: Int
    public var unhealthyGPUs: Set<Int>
    /// GPUs held by workloads other than the replicas being placed.
    public var reservedGPUs: Set<Int>
    public var labels: [String: String]
    public var taints: [Taint]
    public var zone: String?

    public init(
        name: String, gpuType: String, gpuCount: Int, unhealthyGPUs: Set<Int> = [], reservedGPUs: Set<Int> = [], labels: [String: String] = [:],
        taints: [Taint] = [], zone: String? = nil
    ) {
        self.name = name
        self.gpuType = gpuType
        self.gpuCount = gpuCount
        self.unhealthyGPUs = unhealthyGPUs
        self.reservedGPUs = reservedGPUs
        self.labels = labels
        self.taints = taints
        self.zone = zone
    }
}

/// One replica to place: `gpus` GPUs of `gpuType` on a single node.
public struct ReplicaRequest: Sendable, Hashable {
    public var id: String
    /// Replicas of the same deployment are spread across nodes and zones.
    public var deployment: String
    public var gpuType: String
    public var gpus: Int
    public var nodeSelector: [String: String]
    public var tolerations: [Toleration]
    /// Where it runs now, if it runs; kept there when still valid.
    public var currentNode: String?
    public var currentGPUs: [Int]?

    public init(
        id: String, deployment: String, gpuType: String, gpus: Int, nodeSelector: [String: String] = [:], tolerations: [Toleration] = [],
        currentNode: String? = nil, currentGPUs: [Int]? = nil
    ) {
        self.id = id
        self.deployment = deployment
        self.gpuType = gpuType
        self.gpus = gpus
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        self.currentNode = currentNode
        self.currentGPUs = currentGPUs
    }
}

public struct ReplicaAssignment: Sendable, Hashable {
    public var replica: String
    public var node: String
    public var gpus: [Int]
    /// Whether the replica stays where it already ran.
    public var kept: Bool
}

public struct PlacementResult: Sendable, Hashable {
    public var assignments: [ReplicaAssignment]
    public var unplaced: [(replica: String, reason: String)]
    public var explanation: Explanation

    public static func == (a: PlacementResult, b: PlacementResult) -> Bool {
        a.assignments == b.assignments && a.unplaced.map(\.replica) == b.unplaced.map(\.replica) && a.explanation == b.explanation
    }
    public func hash(into h: inout Hasher) {
        h.combine(assignments)
        h.combine(unplaced.map(\.replica))
    }
}

/// Assigns replicas to nodes: respects GPU type, node selectors, taints and GPU health; keeps
/// running replicas where they are; places the largest replicas first and fits each where it
/// leaves the least waste (first-fit decreasing, best fit), preferring GPU blocks aligned to
/// their size so that large tensor-parallel replicas still find whole blocks later; and spreads
/// replicas of one deployment across nodes and zones.
public enum Placer {
    public static func place(_ replicas: [ReplicaRequest], on nodes: [GPUNode]) -> PlacementResult {
        var free: [Int: [Bool]] = [:]  // node index → per-GPU free flag
        var nodeIndex: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            nodeIndex[n.name] = i
            free[i] = (0..<n.gpuCount).map { !n.unhealthyGPUs.contains($0) && !n.reservedGPUs.contains($0) }
        }
        var perNode: [String: [Int: Int]] = [:]  // deployment → node → count
        var perZone: [String: [String: Int]] = [:]
        var assignments: [ReplicaAssignment] = []
        var unplaced: [(String, String)] = []
        var pending: [ReplicaRequest] = []

        func eligible(_ r: ReplicaRequest, _ n: GPUNode) -> Bool {
            n.gpuType == r.gpuType && r.nodeSelector.allSatisfy { n.labels[$0.key] == $0.value }
                && n.taints.allSatisfy { t in t.effect == "PreferNoSchedule" || r.tolerations.contains { $0.tolerates(t) } }
        }
        func record(_ r: ReplicaRequest, node i: Int, gpus: [Int], kept: Bool) {
            for g in gpus { free[i]![g] = false }
            perNode[r.deployment, default: [:]][i, default: 0] += 1
            if let z = nodes[i].zone { perZone[r.deployment, default: [:]][z, default: 0] += 1 }
            assignments.append(ReplicaAssignment(replica: r.id, node: nodes[i].name, gpus: gpus.sorted(), kept: kept))
        }

        // 1. Minimal movement: replicas whose current node and GPUs are still valid stay.
        for r in replicas {
            if let nodeName = r.currentNode, let gpus = r.currentGPUs, let i = nodeIndex[nodeName], gpus.count == r.gpus,
                Set(gpus).count == gpus.count, eligible(r, nodes[i]),
                gpus.allSatisfy({ $0 >= 0 && $0 < nodes[i].gpuCount && free[i]![$0] })
            {
                record(r, node: i, gpus: gpus, kept: true)
            } else {
                pending.append(r)
            }
        }
        // 2. The rest, largest first (then by id, for determinism).
        pending.sort { $0.gpus != $1.gpus ? $0.gpus > $1.gpus : $0.id < $1.id }
        for r in pending {
            guard r.gpus > 0 else {
                unplaced.append((r.id, "requests \(r.gpus) GPUs"))
                continue
            }
            var best: (score: (Int, Int, Int, Int, String), node: Int, gpus: [Int])?
            for (i, n) in nodes.enumerated() where eligible(r, n) {
                let flags = free[i]!
                let freeCount = flags.lazy.filter { $0 }.count
                guard freeCount >= r.gpus, let gpus = pickGPUs(flags, r.gpus) else { continue }
                let aligned = gpus.first! % r.gpus == 0 && gpus.last! - gpus.first! == r.gpus - 1 ? 0 : 1
                let score = (
                    perNode[r.deployment]?[i] ?? 0, n.zone.flatMap { perZone[r.deployment]?[$0] } ?? 0, aligned, freeCount - r.gpus, n.name
                )
                if best == nil || score < best!.score { best = (score, i, gpus) }
            }
            if let best {
                record(r, node: best.node, gpus: best.gpus, kept: false)
            } else {
                unplaced.append((r.id, reason(r, nodes, free)))
            }
        }
        let kept = assignments.filter(\.kept).count
        var reasons = ["\(kept) replicas kept in place, \(assignments.count - kept) placed, \(unplaced.count) unplaceable"]
        reasons += unplaced.prefix(5).map { "\($0.0): \($0.1)" }
        let explanation = Explanation(
            summary: unplaced.isEmpty ? "placed all \(assignments.count) replicas" : "\(unplaced.count) of \(replicas.count) replicas cannot be placed",
            inputs: [.init("nodes", String(nodes.count)), .init("replicas", String(replicas.count))], reasons: reasons)
        return PlacementResult(assignments: assignments, unplaced: unplaced, explanation: explanation)
    }

    /// Free GPU indices for `count` GPUs: an aligned contiguous block when one exists (so
    /// blocks for larger replicas stay whole), else any contiguous run, else the lowest free.
    static func pickGPUs(_ free: [Bool], _ count: Int) -> [Int]? {
        var start = 0
        while start + count <= free.count {
            if (start..<(start + count)).allSatisfy({ free[$0] }) { return Array(start..<(start + count)) }
            start += count
        }
        var run = 0
        for i in free.indices {
            run = free[i] ? run + 1 : 0
            if run == count { return Array((i - count + 1)...i) }
        }
        let any = free.indices.filter { free[$0] }
        return any.count >= count ? Array(any.prefix(count)) : nil
    }

    static func reason(_ r: ReplicaRequest, _ nodes: [GPUNode], _ free: [Int: [Bool]]) -> String {
        let typed = nodes.indices.filter { nodes[$0].gpuType == r.gpuType }
        if typed.isEmpty { return "no node has \(r.gpuType) GPUs" }
        let selected = typed.filter { i in r.nodeSelector.allSatisfy { nodes[i].labels[$0.key] == $0.value } }
        if selected.isEmpty { return "no \(r.gpuType) node matches nodeSelector \(r.nodeSelector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))" }
        let tolerated = selected.filter { i in
            nodes[i].taints.allSatisfy { t in t.effect == "PreferNoSchedule" || r.tolerations.contains { $0.tolerates(t) } }
        }
        if tolerated.isEmpty { return "every matching \(r.gpuType) node has a taint the replica does not tolerate" }
        let mostFree = tolerated.map { free[$0]!.filter { $0 }.count }.max() ?? 0
        let healthy = tolerated.map { nodes[$0].gpuCount - nodes[$0].unhealthyGPUs.count }.max() ?? 0
        if healthy < r.gpus { return "needs \(r.gpus) healthy \(r.gpuType) GPUs on one node; the most any node has is \(healthy)" }
        return "needs \(r.gpus) free \(r.gpuType) GPUs on one node; the most free on any eligible node is \(mostFree)"
    }
}
