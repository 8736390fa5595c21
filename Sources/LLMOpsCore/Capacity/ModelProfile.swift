import Foundation

/// What the capacity model needs to know about a model. Plain values, so the core never
/// depends on the API types; controllers translate an LLMDeployment's spec into this.
public struct ModelProfile: Sendable, Hashable {
    public var parameters: Double
    /// Bytes per weight: 2 for BF16/FP16, 1 for FP8/INT8, 0.5 for INT4.
    public var bytesPerParameter: Double
    /// Bytes per KV-cache element; vLLM keeps the cache in the activation dtype (2) unless an
    /// FP8 cache is configured (1).
    public var kvBytesPerElement: Double
    public var layers: Int
    public var hiddenSize: Int
    public var attentionHeads: Int
    public var kvHeads: Int
    public var contextLength: Int
    /// Whether the weights are FP8 (so FP8 tensor throughput applies where the GPU has it).
    public var usesFP8Compute: Bool

    public init(
        parameters: Double, bytesPerParameter: Double, kvBytesPerElement: Double = 2, layers: Int, hiddenSize: Int,
        attentionHeads: Int, kvHeads: Int, contextLength: Int, usesFP8Compute: Bool = false
    ) {
        self.parameters = parameters
        self.bytesPerParameter = bytesPerParameter
        self.kvBytesPerElement = kvBytesPerElement
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.attentionHeads = attentionHeads
        self.kvHeads = kvHeads
        self.contextLength = contextLength
        self.usesFP8Compute = usesFP8Compute
    }

    /// A profile when only the parameter count is known: the transformer shape of the nearest
    /// published Llama-family model (Llama 3.2 1B/3B, Llama 3.1 8B/70B/405B, Llama 2 13B,
    /// CodeLlama 34B configs), which sets KV-cache size within a small factor for most
    /// decoder-only models of that size.
    public static func estimated(parameters: Double, bytesPerParameter: Double, contextLength: Int) -> ModelProfile {
        // (parameters, layers, hidden, heads, kvHeads)
        let shapes: [(Double, Int, Int, Int, Int)] = [
            (1.2e9, 16, 2048, 32, 8), (3.2e9, 28, 3072, 24, 8), (8e9, 32, 4096, 32, 8), (13e9, 40, 5120, 40, 40),
            (34e9, 48, 8192, 64, 8), (70e9, 80, 8192, 64, 8), (405e9, 126, 16384, 128, 8),
        ]
        // Nearest on a log scale, so 1.5B maps to 1.2B rather than 3.2B.
        let best = shapes.min { abs(log($0.0) - log(parameters)) < abs(log($1.0) - log(parameters)) }!
        return ModelProfile(
            parameters: parameters, bytesPerParameter: bytesPerParameter, kvBytesPerElement: bytesPerParameter >= 2 ? 2 : 1,
            layers: best.1, hiddenSize: best.2, attentionHeads: best.3, kvHeads: best.4, contextLength: contextLength,
            usesFP8Compute: bytesPerParameter == 1)
    }

    public var headDim: Double { Double(hiddenSize) / Double(attentionHeads) }

    /// Weight bytes: parameters × bytes per parameter.
    public var weightBytes: Double { parameters * bytesPerParameter }

    /// KV-cache bytes per token: 2 (K and V) × layers × KV heads × head dimension × element
    /// size (Kwon et al., "Efficient Memory Management for LLM Serving with PagedAttention",
    /// SOSP 2023).
    public var kvBytesPerToken: Double {
        2 * Double(layers) * Double(kvHeads) * headDim * kvBytesPerElement
    }

    /// Checks that the numbers describe a model at all; the optimizer refuses bad profiles
    /// with the field at fault instead of producing NaN decisions.
    public func validate() -> CoreError? {
        if !(parameters.isFinite && parameters > 0) { return .invalidInput(field: "model.parameters", reason: "must be a positive number") }
        if !(bytesPerParameter > 0 && bytesPerParameter <= 4) {
            return .invalidInput(field: "model.bytesPerParameter", reason: "must be between 0 and 4")
        }
        if layers <= 0 { return .invalidInput(field: "model.layers", reason: "must be positive") }
        if attentionHeads <= 0 || hiddenSize < attentionHeads {
            return .invalidInput(field: "model.attentionHeads", reason: "must be positive and at most hiddenSize")
        }
        if kvHeads <= 0 || kvHeads > attentionHeads { return .invalidInput(field: "model.kvHeads", reason: "must be between 1 and attentionHeads") }
        if contextLength <= 0 { return .invalidInput(field: "model.contextLength", reason: "must be positive") }
        if !(kvBytesPerElement > 0) { return .invalidInput(field: "model.kvBytesPerElement", reason: "must be positive") }
        return nil
    }
}
