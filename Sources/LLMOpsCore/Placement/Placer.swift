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
        // Free GPUs per node as a bitmask (nodes have at most 64 GPUs), so counting and block
        // search are a few instructions per node: placement scans every eligible node per replica.
        var free: [UInt64] = nodes.map { n in
            var mask: UInt64 = 0
            for g in 0..<min(n.gpuCount, 64) where !n.unhealthyGPUs.contains(g) && !n.reservedGPUs.contains(g) { mask |= 1 << UInt64(g) }
            return mask
        }
        var nodeIndex: [String: Int] = [:]
        var byType: [String: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            nodeIndex[n.name] = i
            byType[n.gpuType, default: []].append(i)
        }
        var perNode: [String: [Int: Int]] = [:]  // deployment → node → count
        var perZone: [String: [String: Int]] = [:]
        var assignments: [ReplicaAssignment] = []
        var unplaced: [(String, String)] = []
        var pending: [ReplicaRequest] = []

        func eligible(_ r: ReplicaRequest, _ n: GPUNode) -> Bool {
            n.gpuType == r.gpuType && selects(r, n) && tolerates(r, n)
        }
        func record(_ r: ReplicaRequest, node i: Int, gpus: [Int], kept: Bool) {
            for g in gpus { free[i] &= ~(1 << UInt64(g)) }
            perNode[r.deployment, default: [:]][i, default: 0] += 1
            if let z = nodes[i].zone { perZone[r.deployment, default: [:]][z, default: 0] += 1 }
            assignments.append(ReplicaAssignment(replica: r.id, node: nodes[i].name, gpus: gpus.sorted(), kept: kept))
        }

        // 1. Minimal movement: replicas whose current node and GPUs are still valid stay.
        for r in replicas {
            if let nodeName = r.currentNode, let gpus = r.currentGPUs, let i = nodeIndex[nodeName], gpus.count == r.gpus,
                Set(gpus).count == gpus.count, eligible(r, nodes[i]),
                gpus.allSatisfy({ $0 >= 0 && $0 < min(nodes[i].gpuCount, 64) && free[i] & (1 << UInt64($0)) != 0 })
            {
                record(r, node: i, gpus: gpus, kept: true)
            } else {
                pending.append(r)
            }
        }
        // 2. The rest, largest first (then by id, for determinism).
        pending.sort { $0.gpus != $1.gpus ? $0.gpus > $1.gpus : $0.id < $1.id }
        for r in pending {
            guard r.gpus > 0, r.gpus <= 64 else {
                unplaced.append((r.id, "requests \(r.gpus) GPUs"))
                continue
            }
            let nodeCounts = perNode[r.deployment] ?? [:]
            let zoneCounts = perZone[r.deployment] ?? [:]
            // Score, lowest wins: replicas of this deployment on the node, then in its zone,
            // then whether the block is unaligned, then GPUs left idle on the node, then order.
            var best: (score: (Int, Int, Int, Int, Int), node: Int, gpus: UInt64)?
            for i in byType[r.gpuType] ?? [] {
                let mask = free[i]
                let freeCount = mask.nonzeroBitCount
                guard freeCount >= r.gpus, eligible(r, nodes[i]), let (block, aligned) = pickGPUs(mask, r.gpus, count: min(nodes[i].gpuCount, 64)) else {
                    continue
                }
                let score = (
                    nodeCounts[i] ?? 0, nodes[i].zone.flatMap { zoneCounts[$0] } ?? 0, aligned ? 0 : 1, freeCount - r.gpus, i
                )
                if best == nil || score < best!.score { best = (score, i, block) }
            }
            if let best {
                record(r, node: best.node, gpus: (0..<64).filter { best.gpus & (1 << UInt64($0)) != 0 }, kept: false)
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

    /// Free GPUs for `need` GPUs as a mask: an aligned contiguous block when one exists (so
    /// blocks for larger replicas stay whole), else any contiguous run, else the lowest free.
    static func pickGPUs(_ free: UInt64, _ need: Int, count: Int) -> (UInt64, aligned: Bool)? {
        let block: UInt64 = need >= 64 ? ~0 : (1 << UInt64(need)) - 1
        var start = 0
        while start + need <= count {
            let m = block << UInt64(start)
            if free & m == m { return (m, true) }
            start += need
        }
        if need <= count {
            for s in 0...(count - need) {
                let m = block << UInt64(s)
                if free & m == m { return (m, false) }
            }
        }
        guard free.nonzeroBitCount >= need else { return nil }
        var m: UInt64 = 0, rest = free
        for _ in 0..<need {
            let low = rest & (~rest &+ 1)
            m |= low
            rest &= ~low
        }
        return (m, false)
    }

    static func selects(_ r: ReplicaRequest, _ n: GPUNode) -> Bool {
        r.nodeSelector.isEmpty || r.nodeSelector.allSatisfy { n.labels[$0.key] == $0.value }
    }

    /// NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule only discourages.
    static func tolerates(_ r: ReplicaRequest, _ n: GPUNode) -> Bool {
        n.taints.isEmpty || n.taints.allSatisfy { t in t.effect == "PreferNoSchedule" || r.tolerations.contains { $0.tolerates(t) } }
    }

    static func reason(_ r: ReplicaRequest, _ nodes: [GPUNode], _ free: [UInt64]) -> String {
        let typed = nodes.indices.filter { nodes[$0].gpuType == r.gpuType }
        if typed.isEmpty { return "no node has \(r.gpuType) GPUs" }
        let selected = typed.filter { selects(r, nodes[$0]) }
        if selected.isEmpty { return "no \(r.gpuType) node matches nodeSelector \(r.nodeSelector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))" }
        let tolerated = selected.filter { tolerates(r, nodes[$0]) }
        if tolerated.isEmpty { return "every matching \(r.gpuType) node has a taint the replica does not tolerate" }
        let mostFree = tolerated.map { free[$0].nonzeroBitCount }.max() ?? 0
        let healthy = tolerated.map { nodes[$0].gpuCount - nodes[$0].unhealthyGPUs.count }.max() ?? 0
        if healthy < r.gpus { return "needs \(r.gpus) healthy \(r.gpuType) GPUs on one node; the most any node has is \(healthy)" }
        return "needs \(r.gpus) free \(r.gpuType) GPUs on one node; the most free on any eligible node is \(mostFree)"
    }
}
