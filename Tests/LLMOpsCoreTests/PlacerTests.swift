import LLMOpsCore
import PropertyBased
import Testing

@Suite struct PlacerTests {
    func node(_ name: String, _ type: String = "H100", gpus: Int = 8, zone: String? = nil, unhealthy: Set<Int> = [], taints: [Taint] = [], labels: [String: String] = [:]) -> GPUNode {
        GPUNode(name: name, gpuType: type, gpuCount: gpus, unhealthyGPUs: unhealthy, labels: labels, taints: taints, zone: zone)
    }

    @Test func largeReplicasStillFitAfterSmallOnes() {
        // Two 8-GPU nodes; six TP-1 replicas and one TP-8: the TP-8 needs a whole node, so the
        // small ones must share the other.
        let nodes = [node("a"), node("b")]
        let replicas = (0..<6).map { ReplicaRequest(id: "small-\($0)", deployment: "s", gpuType: "H100", gpus: 1) }
            + [ReplicaRequest(id: "big", deployment: "b", gpuType: "H100", gpus: 8)]
        let r = Placer.place(replicas, on: nodes)
        #expect(r.unplaced.isEmpty, "\(r.unplaced)")
        #expect(r.assignments.first { $0.replica == "big" }?.gpus == Array(0..<8))
    }

    @Test func keepsRunningReplicasWhereTheyAre() {
        let nodes = [node("a"), node("b")]
        let replicas = [
            ReplicaRequest(id: "r1", deployment: "d", gpuType: "H100", gpus: 2, currentNode: "b", currentGPUs: [6, 7]),
            ReplicaRequest(id: "r2", deployment: "d", gpuType: "H100", gpus: 2),
        ]
        let r = Placer.place(replicas, on: nodes)
        let r1 = r.assignments.first { $0.replica == "r1" }!
        #expect(r1.node == "b" && r1.gpus == [6, 7] && r1.kept)
        // Spread: the new replica goes to the other node.
        #expect(r.assignments.first { $0.replica == "r2" }?.node == "a")
    }

    @Test func movesReplicasOffUnhealthyGPUs() {
        let nodes = [node("a", unhealthy: [1]), node("b")]
        let r = Placer.place([ReplicaRequest(id: "r1", deployment: "d", gpuType: "H100", gpus: 2, currentNode: "a", currentGPUs: [0, 1])], on: nodes)
        let a = r.assignments.first!
        #expect(!a.kept)
        #expect(!(a.node == "a" && a.gpus.contains(1)))
    }

    @Test func spreadsAcrossZones() {
        let nodes = [node("a1", zone: "a"), node("a2", zone: "a"), node("b1", zone: "b")]
        let replicas = (0..<2).map { ReplicaRequest(id: "r\($0)", deployment: "d", gpuType: "H100", gpus: 1) }
        let zones = Set(Placer.place(replicas, on: nodes).assignments.map { $0.node.prefix(1) })
        #expect(zones == ["a", "b"])
    }

    @Test func explainsUnplaceableReplicas() {
        let nodes = [node("a", "L40S", gpus: 4, taints: [Taint(key: "dedicated", value: "batch", effect: "NoSchedule")]), node("b", "L40S", gpus: 2)]
        let cases: [(ReplicaRequest, String)] = [
            (ReplicaRequest(id: "x", deployment: "d", gpuType: "H100", gpus: 1), "no node has H100"),
            (ReplicaRequest(id: "y", deployment: "d", gpuType: "L40S", gpus: 4), "needs 4 healthy L40S GPUs on one node; the most any node has is 2"),
            (ReplicaRequest(id: "z", deployment: "d", gpuType: "L40S", gpus: 1, nodeSelector: ["pool": "gold"]), "nodeSelector pool=gold"),
        ]
        for (req, expected) in cases {
            let r = Placer.place([req], on: nodes)
            #expect(r.unplaced.first?.reason.contains(expected) == true, "\(r.unplaced)")
        }
        let tolerant = ReplicaRequest(id: "t", deployment: "d", gpuType: "L40S", gpus: 4, tolerations: [Toleration(key: "dedicated", exists: true)])
        #expect(Placer.place([tolerant], on: nodes).assignments.first?.node == "a")
    }

    /// Property: no GPU is ever given twice, no unhealthy or reserved GPU is used, every
    /// assignment matches the replica's type and size, and the same input gives the same output.
    @Test func neverOvercommits() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var rng = SeededGenerator(seed: seed)
            let types = ["H100", "L40S", "A100-80GB"]
            let nodes = (0..<Int.random(in: 1...12, using: &rng)).map { i in
                GPUNode(
                    name: "n\(i)", gpuType: types.randomElement(using: &rng)!, gpuCount: [4, 8].randomElement(using: &rng)!,
                    unhealthyGPUs: Set((0..<Int.random(in: 0...2, using: &rng)).map { _ in Int.random(in: 0..<8, using: &rng) }),
                    reservedGPUs: Bool.random(using: &rng) ? [Int.random(in: 0..<4, using: &rng)] : [], zone: ["z1", "z2"].randomElement(using: &rng))
            }
            let replicas = (0..<Int.random(in: 0...30, using: &rng)).map { i in
                let current = Bool.random(using: &rng) ? nodes.randomElement(using: &rng)!.name : nil
                return ReplicaRequest(
                    id: "r\(i)", deployment: "d\(i % 4)", gpuType: types.randomElement(using: &rng)!, gpus: [1, 2, 4, 8].randomElement(using: &rng)!,
                    currentNode: current, currentGPUs: current == nil ? nil : [Int.random(in: 0..<4, using: &rng)])
            }
            let r = Placer.place(replicas, on: nodes)
            #expect(r.assignments.count + r.unplaced.count == replicas.count)
            var used: Set<String> = []
            for a in r.assignments {
                let n = nodes.first { $0.name == a.node }!
                let req = replicas.first { $0.id == a.replica }!
                #expect(n.gpuType == req.gpuType)
                #expect(a.gpus.count == req.gpus)
                for g in a.gpus {
                    #expect(g >= 0 && g < n.gpuCount)
                    #expect(!n.unhealthyGPUs.contains(g) && !n.reservedGPUs.contains(g))
                    #expect(used.insert("\(a.node)/\(g)").inserted, "GPU \(a.node)/\(g) given twice")
                }
            }
            #expect(Placer.place(replicas, on: nodes) == r)
        }
    }
}
