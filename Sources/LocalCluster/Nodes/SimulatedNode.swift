import KubeModel
import LLMOpsCore

/// One simulated machine, and the Node object its kubelet registers.
public struct SimulatedNode: Sendable, Hashable {
    public var name: String
    public var zone: String
    /// nil for a CPU-only node.
    public var gpuType: String?
    public var gpus: Int

    /// The taint GPU nodes carry so that only Pods asking for GPUs land there (the API
    /// server's ExtendedResourceToleration admission gives those Pods the toleration).
    public static let gpuTaint = Node.Taint(key: "nvidia.com/gpu", value: "present", effect: "NoSchedule")
    /// Set to "true" on a Node to simulate the machine failing; remove it to bring it back.
    public static let failureAnnotation = "sim.llmops.io/failed"

    /// Labels as the kubelet and NVIDIA's GPU feature discovery write them.
    var labels: [String: String] {
        var l = [
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": "local", "node.kubernetes.io/instance-type": instanceType,
        ]
        if let gpuType, let specs = GPUCatalog.standard[gpuType] {
            l["nvidia.com/gpu.present"] = "true"
            l["nvidia.com/gpu.product"] = GPUCatalog.productLabels[gpuType]?.first ?? "NVIDIA-\(gpuType)"
            l["nvidia.com/gpu.count"] = String(gpus)
            // GFD reports MiB of framebuffer.
            l["nvidia.com/gpu.memory"] = String(Int(specs.memoryGB * 1000 * 1000 * 1000 / 1_048_576))
            l["nvidia.com/gpu.family"] = Self.family(gpuType)
        }
        return l
    }

    var instanceType: String { gpuType.map { "sim-\($0.lowercased())-\(gpus)x" } ?? "sim-cpu" }

    static func family(_ gpuType: String) -> String {
        switch gpuType {
        case "H100", "H200": return "hopper"
        case "A100-80GB", "A100-40GB": return "ampere"
        case "A10G": return "ampere"
        default: return "ada-lovelace"
        }
    }

    /// Capacity: whole GPUs, and CPU and memory in proportion, as cloud GPU machines have.
    var capacity: [String: String] {
        var c = [
            "cpu": String(gpus == 0 ? 32 : gpus * 24), "memory": "\(gpus == 0 ? 128 : gpus * 240)Gi", "pods": "110",
            "ephemeral-storage": "\(gpus == 0 ? 200 : 2000)Gi",
        ]
        if gpus > 0 { c["nvidia.com/gpu"] = String(gpus) }
        return c
    }

    var taints: [Node.Taint]? { gpuType == nil ? nil : [Self.gpuTaint] }
}
