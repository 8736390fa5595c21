import KubeModel

/// A model served on GPUs: what to serve, with which engine, on which GPU types, under which
/// latency objectives and cost limit.
public struct LLMDeployment: CustomResource {
    public static let kind = "LLMDeployment"
    public static let summary =
        "LLMDeployment serves a large language model on GPUs. The operator picks the GPU type, tensor-parallel degree, replica count and placement that meet the latency SLOs at the lowest cost, and explains each decision in status."
    public static let names = CustomResourceDefinition.Names(
        plural: "llmdeployments", singular: "llmdeployment", kind: kind, shortNames: ["llmd"], categories: ["llmops", "all"])
    public static let printerColumns: [CustomResourceDefinition.PrinterColumn] = [
        .init(name: "Ready", type: "integer", jsonPath: ".status.readyReplicas", description: "Replicas serving traffic."),
        .init(name: "Desired", type: "integer", jsonPath: ".spec.replicas", description: "Replicas asked for."),
        .init(name: "GPU", type: "string", jsonPath: ".status.gpuType", description: "GPU type the operator chose."),
        .init(name: "TP", type: "integer", jsonPath: ".status.tensorParallel", description: "Tensor-parallel degree (GPUs per replica)."),
        .init(name: "Cost/h", type: "number", jsonPath: ".status.costPerHour", description: "Current cost in dollars per hour."),
        .init(name: "Model", type: "string", jsonPath: ".spec.model.name", description: "Served model.", priority: 1),
        .init(
            name: "Decision", type: "string", jsonPath: ".status.lastDecision.action",
            description: "The operator's latest decision.", priority: 1),
        .init(name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation."),
    ]
    public static let scale: CustomResourceDefinition.ScalePaths? = .init(
        specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".status.selector")

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: LLMDeploymentSpec
    public var status: LLMDeploymentStatus?

    public init(metadata: ObjectMeta, spec: LLMDeploymentSpec, status: LLMDeploymentStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct LLMDeploymentSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultReplicas: DefaultProvider { public static var value: Int32 { 1 } }
    public enum DefaultEngine: DefaultProvider { public static var value: EngineSpec { EngineSpec() } }

    public var model: ModelSpec
    @Defaulted<DefaultEngine> public var engine: EngineSpec
    public var slo: SLOSpec
    public var gpu: GPUSpec
    @Defaulted<DefaultReplicas> public var replicas: Int32
    public var scalingPolicyRef: LocalObjectReference?
    public var expectedLoad: ExpectedLoadSpec?

    public init(
        model: ModelSpec, engine: EngineSpec = EngineSpec(), slo: SLOSpec, gpu: GPUSpec, replicas: Int32 = 1, scalingPolicyRef: LocalObjectReference? = nil,
        expectedLoad: ExpectedLoadSpec? = nil
    ) {
        self.model = model
        self.engine = engine
        self.slo = slo
        self.gpu = gpu
        self.replicas = replicas
        self.scalingPolicyRef = scalingPolicyRef
        self.expectedLoad = expectedLoad
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Desired state of an LLMDeployment.",
            [
                Field("model", \.model, "The model to serve."),
                Field("engine", \._engine, "The serving engine and its container."),
                Field("slo", \.slo, "Latency objectives the deployment must meet."),
                Field("gpu", \.gpu, "Which GPUs the operator may use and how much it may spend."),
                Field(
                    "replicas", \._replicas,
                    "Number of serving replicas. Written by the operator when a ScalingPolicy targets this deployment; `kubectl scale` writes it through the scale subresource."
                ).range(0...1000),
                Field(
                    "scalingPolicyRef", \.scalingPolicyRef,
                    "The ScalingPolicy that scales this deployment. Without one, replicas stays as written."),
                Field(
                    "expectedLoad", \.expectedLoad,
                    "The traffic the GPU type and tensor-parallel degree are chosen for. Without it they are chosen for 20 requests per second of 1024-token prompts and 256-token outputs. The replica count follows the measured load either way."
                ),
            ])
    }
}

/// The traffic a deployment is designed for: what decides its GPU type (the replica count
/// follows the measured load). Long prompts favour compute-rich GPUs, small steady loads
/// favour small ones, so the right type depends on it.
public struct ExpectedLoadSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultInput: DefaultProvider { public static var value: Int32 { 1024 } }
    public enum DefaultOutput: DefaultProvider { public static var value: Int32 { 256 } }

    public var requestsPerSecond: Double
    @Defaulted<DefaultInput> public var meanInputTokens: Int32
    @Defaulted<DefaultOutput> public var meanOutputTokens: Int32
    /// Mean number of requests that arrive together (nil: one at a time).
    public var requestsPerGroup: Double?

    public init(requestsPerSecond: Double, meanInputTokens: Int32 = 1024, meanOutputTokens: Int32 = 256, requestsPerGroup: Double? = nil) {
        self.requestsPerSecond = requestsPerSecond
        self.meanInputTokens = meanInputTokens
        self.meanOutputTokens = meanOutputTokens
        self.requestsPerGroup = requestsPerGroup
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Expected traffic, for choosing the GPU configuration.",
            [
                Field("requestsPerSecond", \.requestsPerSecond, "Typical requests per second over the whole deployment.")
                    .minimum(0, exclusive: true).maximum(1_000_000),
                Field("meanInputTokens", \._meanInputTokens, "Mean prompt length in tokens.").range(1...10_000_000),
                Field("meanOutputTokens", \._meanOutputTokens, "Mean output length in tokens.").range(1...10_000_000),
                Field(
                    "requestsPerGroup", \.requestsPerGroup,
                    "Mean number of requests that arrive together, as when a client fans one action out into many completions or an agent makes parallel calls (unset: one at a time). A request waits behind the rest of its group, so small fleets carry less per replica; the GPU choice and the replica count both account for it."
                ).minimum(1).maximum(10_000),
            ])
    }
}

public struct ModelSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultPrecision: DefaultProvider { public static var value: Precision { .bf16 } }
    public enum DefaultContext: DefaultProvider { public static var value: Int32 { 8192 } }

    public var name: String
    public var source: String
    public var revision: String?
    public var parameterCount: String
    @Defaulted<DefaultPrecision> public var precision: Precision
    @Defaulted<DefaultContext> public var contextLength: Int32
    public var architecture: ModelArchitecture?

    public init(
        name: String, source: String, revision: String? = nil, parameterCount: String, precision: Precision = .bf16,
        contextLength: Int32 = 8192, architecture: ModelArchitecture? = nil
    ) {
        self.name = name
        self.source = source
        self.revision = revision
        self.parameterCount = parameterCount
        self.precision = precision
        self.contextLength = contextLength
        self.architecture = architecture
    }

    /// The pattern `parameterCount` must match: a number with an M, B or T suffix.
    public static let parameterCountPattern = #"^[0-9]+(\.[0-9]+)?[MBT]$"#

    /// Parameters as a number, e.g. 8.0e9 for "8B"; nil when the text does not match the pattern.
    public var parameters: Double? { Self.parseParameterCount(parameterCount) }

    /// Reads "8B", "1.5B", "350M" or "1T" as a number of parameters; nil for anything else.
    public static func parseParameterCount(_ text: String) -> Double? {
        guard let suffix = text.last, let value = Double(text.dropLast()), value > 0, value.isFinite else { return nil }
        switch suffix {
        case "M": return value * 1e6
        case "B": return value * 1e9
        case "T": return value * 1e12
        default: return nil
        }
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "The model: identity, weights location, size and numeric precision.",
            [
                Field("name", \.name, "Model name clients request through the OpenAI-compatible API, e.g. meta-llama/Llama-3.1-8B-Instruct.")
                    .minLength(1).maxLength(253),
                Field("source", \.source, "Where the weights are loaded from: hf://, s3://, gs://, pvc://, oci:// or https:// URI.")
                    .pattern(#"^(hf|s3|gs|pvc|oci|https?)://[^\s]+$"#).maxLength(2048),
                Field("revision", \.revision, "Revision of the weights (commit, tag or branch). Changing it is a model change for rollouts.")
                    .maxLength(128),
                Field("parameterCount", \.parameterCount, "Number of parameters with an M, B or T suffix, e.g. 8B, 70B, 1.5B.")
                    .pattern(parameterCountPattern),
                Field("precision", \._precision, "Numeric precision of the served weights; decides memory use and which GPU throughput applies."),
                Field("contextLength", \._contextLength, "Maximum sequence length (prompt plus output) in tokens.").range(128...2_097_152),
                Field(
                    "architecture", \.architecture,
                    "Transformer shape, for exact KV-cache sizing. When omitted the operator estimates it from parameterCount."),
            ])
    }
}

public enum Precision: String, SchemaEnum {
    case fp32, bf16, fp16, fp8, int8, int4

    /// Bytes per weight.
    public var bytesPerParameter: Double {
        switch self {
        case .fp32: return 4
        case .bf16, .fp16: return 2
        case .fp8, .int8: return 1
        case .int4: return 0.5
        }
    }
}

public struct ModelArchitecture: Codable, Sendable, Hashable, SchemaDescribed {
    public var layers: Int32
    public var hiddenSize: Int32
    public var attentionHeads: Int32
    public var kvHeads: Int32

    public init(layers: Int32, hiddenSize: Int32, attentionHeads: Int32, kvHeads: Int32) {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.attentionHeads = attentionHeads
        self.kvHeads = kvHeads
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Transformer dimensions from the model's config.json.",
            [
                Field("layers", \.layers, "Number of transformer layers (num_hidden_layers).").range(1...1024),
                Field("hiddenSize", \.hiddenSize, "Model dimension (hidden_size).").range(64...131_072),
                Field("attentionHeads", \.attentionHeads, "Query heads per layer (num_attention_heads).").range(1...1024),
                Field("kvHeads", \.kvHeads, "Key/value heads per layer (num_key_value_heads); fewer than attentionHeads with grouped-query attention.")
                    .range(1...1024),
            ],
            rules: [
                ValidationRule(rule: "self.kvHeads <= self.attentionHeads", message: "kvHeads must not exceed attentionHeads"),
                ValidationRule(rule: "self.hiddenSize % self.attentionHeads == 0", message: "hiddenSize must be a multiple of attentionHeads"),
            ])
    }
}

public struct EngineSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultKind: DefaultProvider { public static var value: EngineKind { .vllm } }

    @Defaulted<DefaultKind> public var kind: EngineKind
    public var image: String?
    public var args: [String]?

    public init(kind: EngineKind = .vllm, image: String? = nil, args: [String]? = nil) {
        self.kind = kind
        self.image = image
        self.args = args
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "The inference engine that serves the model.",
            [
                Field("kind", \._kind, "Serving engine."),
                Field("image", \.image, "Container image; when omitted the operator uses the engine's release it was tested with.")
                    .minLength(1).maxLength(512),
                Field("args", \.args, "Extra command-line arguments appended to the engine's own.").maxItems(64)
                    .items { $0.maxLength = 4096 },
            ])
    }
}

public enum EngineKind: String, SchemaEnum {
    case vllm, sglang, tgi
}

public struct SLOSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultAttainment: DefaultProvider { public static var value: Double { 0.99 } }

    public var ttftP95Ms: Int32
    public var itlP95Ms: Int32
    @Defaulted<DefaultAttainment> public var attainment: Double

    public init(ttftP95Ms: Int32, itlP95Ms: Int32, attainment: Double = 0.99) {
        self.ttftP95Ms = ttftP95Ms
        self.itlP95Ms = itlP95Ms
        self.attainment = attainment
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Service-level objectives on request latency.",
            [
                Field("ttftP95Ms", \.ttftP95Ms, "95th-percentile time to first token, in milliseconds.").range(1...600_000),
                Field("itlP95Ms", \.itlP95Ms, "95th-percentile inter-token latency (time per output token), in milliseconds.")
                    .range(1...60_000),
                Field("attainment", \._attainment, "Fraction of requests that must meet both latency objectives, e.g. 0.99.")
                    .range(0.5...0.9999),
            ])
    }
}

public struct GPUSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultTP: DefaultProvider { public static var value: TensorParallel { .auto } }

    public var allowedTypes: [GPUType]
    @Defaulted<DefaultTP> public var tensorParallel: TensorParallel
    public var maxCostPerHour: Double?
    @Defaulted<Defaults.False> public var allowMixed: Bool

    public init(allowedTypes: [GPUType], tensorParallel: TensorParallel = .auto, maxCostPerHour: Double? = nil, allowMixed: Bool = false) {
        self.allowedTypes = allowedTypes
        self.tensorParallel = tensorParallel
        self.maxCostPerHour = maxCostPerHour
        self.allowMixed = allowMixed
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "GPU choices and budget.",
            [
                Field("allowedTypes", \.allowedTypes, "GPU types the operator may choose from; it picks the cheapest that meets the SLOs.")
                    .minItems(1).maxItems(16).setList(),
                Field("tensorParallel", \._tensorParallel, "GPUs per replica: auto lets the operator choose, or 1, 2, 4 or 8."),
                Field("maxCostPerHour", \.maxCostPerHour, "Upper bound on the deployment's total cost in dollars per hour.").minimum(0),
                Field(
                    "allowMixed", \._allowMixed,
                    "Allow replicas on different GPU types at once when a mix is cheaper than any single type."),
            ])
    }
}

public enum GPUType: String, SchemaEnum {
    case h100 = "H100"
    case h200 = "H200"
    case a100_40GB = "A100-40GB"
    case a100_80GB = "A100-80GB"
    case l40s = "L40S"
    case l4 = "L4"
    case a10g = "A10G"
}

/// Tensor-parallel degree: chosen by the operator, or fixed.
public enum TensorParallel: Codable, Sendable, Hashable, SchemaDescribed {
    case auto
    case degree(Int32)

    public static let allowedDegrees: [Int32] = [1, 2, 4, 8]

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int32.self) {
            guard Self.allowedDegrees.contains(n) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "tensorParallel must be auto, 1, 2, 4 or 8, not \(n)")
            }
            self = .degree(n)
            return
        }
        let s = try c.decode(String.self)
        guard s == "auto" else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "tensorParallel must be auto, 1, 2, 4 or 8, not \"\(s)\"")
        }
        self = .auto
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .degree(let n): try c.encode(n)
        }
    }

    public static var openAPISchema: JSONSchemaProps {
        var s = JSONSchemaProps()
        s.intOrString = true
        s.anyOf = [JSONSchemaProps(type: "integer"), JSONSchemaProps(type: "string")]
        s.enumValues = [.string("auto")] + allowedDegrees.map { .int(Int64($0)) }
        return s
    }
}

public struct LLMDeploymentStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    public var replicas: Int32?
    public var readyReplicas: Int32?
    public var selector: String?
    public var gpuType: String?
    public var tensorParallel: Int32?
    public var placement: [ReplicaPlacement]?
    public var costPerHour: Double?
    public var capacity: EstimatedCapacity?
    public var lastDecision: DecisionRecord?

    public init() {}

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Observed state of an LLMDeployment.",
            [
                Field("observedGeneration", \.observedGeneration, "The metadata.generation this status describes.").minimum(0),
                Field("conditions", \.conditions, "Ready, Progressing and Degraded conditions.").mapList(keys: ["type"]).maxItems(16),
                Field("replicas", \.replicas, "Replicas that exist, ready or not.").minimum(0),
                Field("readyReplicas", \.readyReplicas, "Replicas that pass their readiness check and serve traffic.").minimum(0),
                Field("selector", \.selector, "Label selector of this deployment's pods, for the scale subresource."),
                Field("gpuType", \.gpuType, "GPU type the replicas run on (comma-separated when mixed)."),
                Field("tensorParallel", \.tensorParallel, "GPUs per replica.").minimum(1),
                Field("placement", \.placement, "Where each replica runs.").mapList(keys: ["replica"]).maxItems(1000),
                Field("costPerHour", \.costPerHour, "Cost of the running replicas in dollars per hour.").minimum(0),
                Field("capacity", \.capacity, "Load the current replicas can carry within the SLOs."),
                Field("lastDecision", \.lastDecision, "The operator's most recent decision and why it was made."),
            ])
    }
}

public struct ReplicaPlacement: Codable, Sendable, Hashable, SchemaDescribed {
    public var replica: String
    public var node: String
    public var gpuType: String
    public var gpus: [Int32]

    public init(replica: String, node: String, gpuType: String, gpus: [Int32]) {
        self.replica = replica
        self.node = node
        self.gpuType = gpuType
        self.gpus = gpus
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "The node and GPUs one replica is bound to.",
            [
                Field("replica", \.replica, "Replica (pod) name."),
                Field("node", \.node, "Node the replica runs on."),
                Field("gpuType", \.gpuType, "GPU type of that node."),
                Field("gpus", \.gpus, "Indices of the node's GPUs the replica uses.").maxItems(16).items { $0.minimum = 0 },
            ])
    }
}

public struct EstimatedCapacity: Codable, Sendable, Hashable, SchemaDescribed {
    public var requestsPerSecond: Double
    public var outputTokensPerSecond: Double
    public var maxConcurrentSequences: Int32

    public init(requestsPerSecond: Double, outputTokensPerSecond: Double, maxConcurrentSequences: Int32) {
        self.requestsPerSecond = requestsPerSecond
        self.outputTokensPerSecond = outputTokensPerSecond
        self.maxConcurrentSequences = maxConcurrentSequences
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Capacity estimated by the operator's capacity model for the current replicas.",
            [
                Field("requestsPerSecond", \.requestsPerSecond, "Request rate the replicas sustain within the SLOs.").minimum(0),
                Field("outputTokensPerSecond", \.outputTokensPerSecond, "Output tokens per second at that rate.").minimum(0),
                Field("maxConcurrentSequences", \.maxConcurrentSequences, "Sequences that fit in the KV cache across replicas.")
                    .minimum(0),
            ])
    }
}

/// A decision the operator made, with its reasons and the inputs it used, so `kubectl describe`
/// answers "why".
public struct DecisionRecord: Codable, Sendable, Hashable, SchemaDescribed {
    public var time: Timestamp
    public var action: String
    public var reason: String
    public var inputs: [String: String]?

    public init(time: Timestamp, action: String, reason: String, inputs: [String: String]? = nil) {
        self.time = time
        self.action = action
        self.reason = reason
        self.inputs = inputs
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "A decision of the optimization core.",
            [
                Field("time", \.time, "When the decision was made."),
                Field("action", \.action, "What was decided, e.g. ScaleUp 2->4 or ChooseGPU L40S x1.").maxLength(256),
                Field("reason", \.reason, "Why, in words.").maxLength(4096),
                Field("inputs", \.inputs, "The inputs the decision used, by name.").values { $0.maxLength = 1024 },
            ])
    }
}
