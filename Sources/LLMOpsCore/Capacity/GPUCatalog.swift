/// One GPU model's published specifications and an hourly price.
public struct GPUSpecs: Sendable, Hashable {
    public var name: String
    /// Device memory in GB (10^9 bytes).
    public var memoryGB: Double
    /// Peak memory bandwidth in GB/s.
    public var memoryBandwidthGBs: Double
    /// Dense (no sparsity) BF16 tensor throughput in TFLOPS.
    public var bf16TFLOPS: Double
    /// Dense FP8 tensor throughput in TFLOPS; nil where the GPU has no FP8 tensor cores
    /// (FP8 weights then run through BF16 compute).
    public var fp8TFLOPS: Double?
    /// GPU-to-GPU bandwidth inside a node in GB/s (NVLink, or PCIe when there is none).
    public var interconnectGBs: Double
    /// On-demand price per GPU-hour in dollars.
    public var pricePerHour: Double

    public init(
        name: String, memoryGB: Double, memoryBandwidthGBs: Double, bf16TFLOPS: Double, fp8TFLOPS: Double?,
        interconnectGBs: Double, pricePerHour: Double
    ) {
        self.name = name
        self.memoryGB = memoryGB
        self.memoryBandwidthGBs = memoryBandwidthGBs
        self.bf16TFLOPS = bf16TFLOPS
        self.fp8TFLOPS = fp8TFLOPS
        self.interconnectGBs = interconnectGBs
        self.pricePerHour = pricePerHour
    }
}

/// The GPUs the optimizer knows. Specs are NVIDIA's datasheet figures (SXM parts for
/// H100/H200/A100; dense throughput, i.e. half the "with sparsity" numbers). Prices are
/// indicative on-demand cloud prices per GPU-hour (instance price divided by its GPUs, late
/// 2025); every deployment's real prices differ, so users override them (the operator reads a
/// ConfigMap) and the optimizer never depends on these particular values.
public struct GPUCatalog: Sendable {
    public private(set) var gpus: [String: GPUSpecs]

    public init(_ gpus: [GPUSpecs]) {
        self.gpus = Dictionary(gpus.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
    }

    public subscript(name: String) -> GPUSpecs? { gpus[name] }

    public var names: [String] { gpus.keys.sorted() }

    /// A copy with some prices replaced, e.g. from the operator's price ConfigMap.
    /// Unknown names and non-positive or non-finite prices are returned as errors, not ignored.
    public func overridingPrices(_ prices: [String: Double]) -> Result<GPUCatalog, CoreError> {
        var copy = self
        for (name, price) in prices.sorted(by: { $0.key < $1.key }) {
            guard copy.gpus[name] != nil else {
                return .failure(.invalidInput(field: "prices.\(name)", reason: "unknown GPU type; known: \(names.joined(separator: ", "))"))
            }
            guard price.isFinite, price > 0 else {
                return .failure(.invalidInput(field: "prices.\(name)", reason: "price must be a positive number of dollars per hour"))
            }
            copy.gpus[name]!.pricePerHour = price
        }
        return .success(copy)
    }

    public static let standard = GPUCatalog([
        // H100 SXM5: 80 GB HBM3, 3.35 TB/s, 989 TF BF16, 1979 TF FP8, NVLink 900 GB/s.
        GPUSpecs(name: "H100", memoryGB: 80, memoryBandwidthGBs: 3350, bf16TFLOPS: 989, fp8TFLOPS: 1979, interconnectGBs: 900, pricePerHour: 6.88),
        // H200 SXM: 141 GB HBM3e, 4.8 TB/s, same compute as H100.
        GPUSpecs(name: "H200", memoryGB: 141, memoryBandwidthGBs: 4800, bf16TFLOPS: 989, fp8TFLOPS: 1979, interconnectGBs: 900, pricePerHour: 7.91),
        // A100 SXM4 80 GB: 2.039 TB/s, 312 TF BF16, NVLink 600 GB/s.
        GPUSpecs(name: "A100-80GB", memoryGB: 80, memoryBandwidthGBs: 2039, bf16TFLOPS: 312, fp8TFLOPS: nil, interconnectGBs: 600, pricePerHour: 5.12),
        // A100 SXM4 40 GB: 1.555 TB/s.
        GPUSpecs(name: "A100-40GB", memoryGB: 40, memoryBandwidthGBs: 1555, bf16TFLOPS: 312, fp8TFLOPS: nil, interconnectGBs: 600, pricePerHour: 4.10),
        // L40S: 48 GB GDDR6, 864 GB/s, 362 TF BF16, 733 TF FP8, PCIe Gen4 x16 (64 GB/s).
        GPUSpecs(name: "L40S", memoryGB: 48, memoryBandwidthGBs: 864, bf16TFLOPS: 362, fp8TFLOPS: 733, interconnectGBs: 64, pricePerHour: 1.86),
        // L4: 24 GB GDDR6, 300 GB/s, 121 TF BF16, 242 TF FP8, PCIe Gen4 x16.
        GPUSpecs(name: "L4", memoryGB: 24, memoryBandwidthGBs: 300, bf16TFLOPS: 121, fp8TFLOPS: 242, interconnectGBs: 64, pricePerHour: 0.80),
        // A10G (AWS variant of A10): 24 GB GDDR6, 600 GB/s, ~125 TF BF16 (A10 datasheet).
        GPUSpecs(name: "A10G", memoryGB: 24, memoryBandwidthGBs: 600, bf16TFLOPS: 125, fp8TFLOPS: nil, interconnectGBs: 64, pricePerHour: 1.01),
    ])
}

/// Errors from the core: always a bad or infeasible input, never a crash. Each says which
/// input field is at fault and why, so controllers can copy it into a condition message.
public enum CoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidInput(field: String, reason: String)
    case infeasible(reason: String)

    public var description: String {
        switch self {
        case .invalidInput(let field, let reason): return "\(field): \(reason)"
        case .infeasible(let reason): return reason
        }
    }
}

extension GPUCatalog {
    /// The product names NVIDIA's driver reports for each GPU type, with spaces as dashes: the
    /// value GPU feature discovery writes to a node's `nvidia.com/gpu.product` label. The first
    /// is the usual server part; the others are variants of the same type.
    public static let productLabels: [String: [String]] = [
        "H100": ["NVIDIA-H100-80GB-HBM3", "NVIDIA-H100-SXM5-80GB", "NVIDIA-H100-PCIe", "NVIDIA-H100-NVL"],
        "H200": ["NVIDIA-H200", "NVIDIA-H200-141GB-HBM3e"],
        "A100-80GB": ["NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe"],
        "A100-40GB": ["NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-PCIE-40GB"],
        "L40S": ["NVIDIA-L40S"],
        "L4": ["NVIDIA-L4"],
        "A10G": ["NVIDIA-A10G"],
    ]

    /// The GPU type a `nvidia.com/gpu.product` label names, or nil.
    public static func gpuType(forProduct product: String) -> String? {
        productLabels.first { $0.value.contains(product) }?.key
    }
}
