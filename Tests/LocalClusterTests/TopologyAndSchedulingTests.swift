import KubeModel
import Testing

@testable import LocalCluster

@Suite struct ClusterTopologyTests {
    @Test func parsesGroupsAndNamesNodes() throws {
        let t = try ClusterTopology.parse("h100:2x8, l40s:4x4")
        #expect(t.groups == [.init(gpuType: "H100", nodes: 2, gpusPerNode: 8), .init(gpuType: "L40S", nodes: 4, gpusPerNode: 4)])
        let names = t.nodes.map(\.name)
        #expect(names == ["cpu-0", "gpu-h100-0", "gpu-h100-1", "gpu-l40s-0", "gpu-l40s-1", "gpu-l40s-2", "gpu-l40s-3"])
        #expect(Set(t.nodes.map(\.zone)).count == 3)
        let h100 = t.nodes[1]
        #expect(h100.labels["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3")
        #expect(h100.capacity["nvidia.com/gpu"] == "8")
        #expect(t.nodes[0].taints == nil && h100.taints == [SimulatedNode.gpuTaint])
    }

    @Test func readsAFileWithComments() throws {
        let t = try ClusterTopology.parse("# lab\nh100:1x8   # one box\nA100-40GB:2x4\n")
        #expect(t.groups.map(\.gpuType) == ["H100", "A100-40GB"])
    }

    @Test(arguments: [
        ("h100", "expected TYPE:NODESxGPUS"), ("b200:1x8", "unknown GPU type"), ("h100:2x3", "GPUs per node must be"),
        ("h100:0x8", "nodes must be between"), ("h100:1x8,h100:2x8", "listed twice"), ("", "no GPU groups"), ("h100:twox8", "NODESxGPUS"),
    ])
    func refusesBadInputWithTheReason(_ input: String, _ reason: String) {
        #expect(throws: TopologyError.self) { try ClusterTopology.parse(input) }
        do {
            _ = try ClusterTopology.parse(input)
        } catch {
            #expect(error.description.hasPrefix("--gpus: ") && error.description.contains(reason), "\(error)")
        }
    }
}

@Suite struct PodRequirementsTests {
    let pod: JSONValue = [
        "containers": [
            ["name": "a", "resources": ["limits": ["nvidia.com/gpu": "2", "cpu": "500m"], "requests": ["cpu": "1"]]],
            ["name": "b", "resources": ["requests": ["memory": "1Gi"]]],
        ],
        "nodeSelector": ["zone": "a"],
        "affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
            ["matchExpressions": [["key": "nvidia.com/gpu.product", "operator": "In", "values": ["X", "Y"]]]],
            ["matchExpressions": [["key": "gpus", "operator": "Gt", "values": ["4"]]]],
        ]]]],
        "tolerations": [["key": "nvidia.com/gpu", "operator": "Exists"]],
    ]

    @Test func requestsFallBackToLimitsAndAddUp() {
        let r = PodRequirements(spec: pod)
        #expect(r.requests["nvidia.com/gpu"] == 2)
        #expect(r.requests["cpu"] == 1)
        #expect(r.requests["memory"] == Double(1_073_741_824))
    }

    @Test func selectorAndAffinityTermsAreAndThenOr() {
        let r = PodRequirements(spec: pod)
        #expect(r.matchesNode(["zone": "a", "nvidia.com/gpu.product": "Y"]))
        #expect(r.matchesNode(["zone": "a", "gpus": "8"]))
        #expect(!r.matchesNode(["zone": "a", "gpus": "4"]))
        #expect(!r.matchesNode(["zone": "b", "nvidia.com/gpu.product": "X"]))
    }

    @Test func tolerations() {
        let r = PodRequirements(spec: pod)
        #expect(r.tolerates(.init(key: "nvidia.com/gpu", value: "present", effect: "NoSchedule")))
        #expect(!r.tolerates(.init(key: "node.kubernetes.io/unreachable", effect: "NoExecute")))
    }

    @Test func quantities() {
        #expect(Quantity.parse("250m") == 0.25)
        #expect(Quantity.parse("16Gi") == Double(16 * 1_073_741_824))
        #expect(Quantity.parse("1.5G") == 1.5e9)
        #expect(Quantity.parse("2e3") == 2000)
        #expect(Quantity.parse("x") == nil)
    }
}

@Suite struct DeploymentMathTests {
    @Test func surgeRoundsUpUnavailabilityDown() {
        #expect(DeploymentController.resolve("25%", total: 10, default: "25%", roundUp: true) == 3)
        #expect(DeploymentController.resolve("25%", total: 10, default: "25%", roundUp: false) == 2)
        #expect(DeploymentController.resolve(.int(1), total: 10, default: "25%", roundUp: true) == 1)
        #expect(DeploymentController.resolve(nil, total: 3, default: "25%", roundUp: true) == 1)
    }

    @Test func templatesCompareSemantically() {
        let a: JSONValue = ["metadata": ["labels": ["app": "x"]], "spec": ["containers": [["name": "c", "image": "i"]]]]
        let b: JSONValue = ["metadata": ["labels": ["app": "x"], "creationTimestamp": .null], "spec": ["containers": [["name": "c", "image": "i", "resources": [:]]]]]
        #expect(DeploymentController.normalized(a) == DeploymentController.normalized(b))
        #expect(DeploymentController.templateHash(DeploymentController.normalized(a)) == DeploymentController.templateHash(DeploymentController.normalized(b)))
        let c: JSONValue = ["metadata": ["labels": ["app": "x"]], "spec": ["containers": [["name": "c", "image": "j"]]]]
        #expect(DeploymentController.templateHash(a) != DeploymentController.templateHash(c))
    }

    @Test func podAddressesAreUniqueAndRoundTrip() {
        let a = PodAddresses()
        let ips = (0..<600).compactMap { _ in a.allocate() }
        #expect(Set(ips).count == 600)
        #expect(ips.allSatisfy { $0.hasPrefix("127.") && !$0.hasSuffix(".0") && !$0.hasSuffix(".255") })
        #expect(PodAddresses.format(PodAddresses.parse("127.10.3.4")!) == "127.10.3.4")
    }
}

@Suite struct ServedModelTests {
    @Test func readsVLLMArguments() {
        let m = ServedModel(args: ["--model", "meta-llama/Llama-3.1-70B-Instruct", "--tensor-parallel-size=4", "--max-model-len", "4096"], annotations: [:], gpus: 4)
        #expect(m.parameters == 70e9 && m.tensorParallel == 4 && m.contextLength == 4096 && m.name == "meta-llama/Llama-3.1-70B-Instruct")
        let served = ServedModel(args: ["vllm", "serve", "org/tiny", "--served-model-name", "tiny"], annotations: ["llmops.io/parameter-count": "1.5B"], gpus: 1)
        #expect(served.parameters == 1.5e9 && served.name == "tiny" && served.tensorParallel == 1)
        #expect(ServedModel.isVLLM(image: "vllm/vllm-openai:v0.8.5", command: []))
        #expect(!ServedModel.isVLLM(image: "nginx", command: ["nginx"]))
        // Weights of 8B in BF16 over 2 GB/s plus 30 s.
        #expect(abs(ServedModel(args: ["--model", "x/Llama-3.1-8B"], annotations: [:], gpus: 1).coldStartSeconds - 38) < 0.01)
    }
}
