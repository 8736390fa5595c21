import KubeModel

/// A new revision of an LLMDeployment rolled out in steps, each judged statistically against
/// the running baseline, then promoted or rolled back.
public struct CanaryRun: CustomResource {
    public static let kind = "CanaryRun"
    public static let summary =
        "CanaryRun rolls a new image or model revision out to an LLMDeployment in steps, compares its latency and errors against the baseline with statistical tests, and promotes or rolls back."
    public static let names = CustomResourceDefinition.Names(
        plural: "canaryruns", singular: "canaryrun", kind: kind, shortNames: ["cr", "canary"], categories: ["llmops"])
    public static let printerColumns: [CustomResourceDefinition.PrinterColumn] = [
        .init(name: "Target", type: "string", jsonPath: ".spec.targetRef.name", description: "The LLMDeployment being changed."),
        .init(name: "Strategy", type: "string", jsonPath: ".status.strategy", description: "Canary, blue-green or rolling."),
        .init(name: "Phase", type: "string", jsonPath: ".status.phase", description: "Where the run is."),
        .init(name: "Step", type: "integer", jsonPath: ".status.currentStep", description: "Index of the current step."),
        .init(name: "Weight", type: "integer", jsonPath: ".status.currentWeight", description: "Percent of traffic on the new revision."),
        .init(name: "Message", type: "string", jsonPath: ".status.message", description: "Latest verdict.", priority: 1),
        .init(name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation."),
    ]

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: CanaryRunSpec
    public var status: CanaryRunStatus?

    public init(metadata: ObjectMeta, spec: CanaryRunSpec, status: CanaryRunStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public enum RolloutStrategy: String, SchemaEnum {
    /// Let the optimization core choose from the change's risk and the spare GPUs.
    case auto
    case canary
    case blueGreen
    case rolling
}

public enum CanaryMetric: String, SchemaEnum {
    case ttft, itl, errorRate
}

public enum CanaryTest: String, SchemaEnum {
    /// Fixed-horizon Mann–Whitney U test at the end of each step.
    case mannWhitney
    /// Always-valid mixture sequential probability ratio test, checked every interval.
    case sequential
}

public struct CanaryRunSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultStrategy: DefaultProvider { public static var value: RolloutStrategy { .auto } }
    public enum DefaultAnalysis: DefaultProvider { public static var value: AnalysisSpec { AnalysisSpec() } }
    public enum DefaultRollback: DefaultProvider { public static var value: RollbackSpec { RollbackSpec() } }
    public enum DefaultApproval: DefaultProvider { public static var value: ApprovalSpec { ApprovalSpec() } }

    public var targetRef: LocalObjectReference
    public var revision: RevisionSpec
    @Defaulted<DefaultStrategy> public var strategy: RolloutStrategy
    public var steps: [CanaryStep]?
    @Defaulted<DefaultAnalysis> public var analysis: AnalysisSpec
    @Defaulted<DefaultRollback> public var rollback: RollbackSpec
    @Defaulted<DefaultApproval> public var approval: ApprovalSpec
    public var trafficRouting: TrafficRoutingSpec?

    public init(
        targetRef: LocalObjectReference, revision: RevisionSpec, strategy: RolloutStrategy = .auto, steps: [CanaryStep]? = nil,
        analysis: AnalysisSpec = AnalysisSpec(), rollback: RollbackSpec = RollbackSpec(), approval: ApprovalSpec = ApprovalSpec(),
        trafficRouting: TrafficRoutingSpec? = nil
    ) {
        self.trafficRouting = trafficRouting
        self.targetRef = targetRef
        self.revision = revision
        self.strategy = strategy
        self.steps = steps
        self.analysis = analysis
        self.rollback = rollback
        self.approval = approval
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Desired rollout.",
            [
                Field("targetRef", \.targetRef, "The LLMDeployment to change."),
                Field("revision", \.revision, "What changes: image, model revision and/or engine arguments."),
                Field("strategy", \._strategy, "auto lets the operator pick canary, blueGreen or rolling from the change's risk and spare GPUs."),
                Field("steps", \.steps, "Traffic steps; when omitted the operator plans them to fit the spare GPUs.").minItems(1).maxItems(20),
                Field("analysis", \._analysis, "How each step is judged."),
                Field("rollback", \._rollback, "What happens when the canary is worse."),
                Field("approval", \._approval, "Optional manual gate before full promotion."),
                Field("trafficRouting", \.trafficRouting, "How traffic is split; without it, by replica ratio behind the LLMDeployment's Service."),
            ])
    }
}

/// Where a canary's share of traffic is set.
public struct TrafficRoutingSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var gatewayAPI: GatewayAPIRouting?

    public init(gatewayAPI: GatewayAPIRouting? = nil) { self.gatewayAPI = gatewayAPI }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Traffic routing for the canary.",
            [Field("gatewayAPI", \.gatewayAPI, "Split by the weights of a Gateway API HTTPRoute's backendRefs.")])
    }
}

/// A Gateway API HTTPRoute whose backendRefs the operator weights during a canary.
public struct GatewayAPIRouting: Codable, Sendable, Hashable, SchemaDescribed {
    public var httpRoute: String

    public init(httpRoute: String) { self.httpRoute = httpRoute }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Gateway API (gateway.networking.k8s.io/v1) traffic splitting.",
            [
                Field(
                    "httpRoute", \.httpRoute,
                    "An HTTPRoute in the CanaryRun's namespace with rules that send traffic to the LLMDeployment's Service; each step sets their backendRefs to the current and new revisions' Services with the step's weights, and the end of the run restores the Service."
                ).minLength(1).maxLength(253),
            ])
    }
}

public struct RevisionSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var image: String?
    public var modelRevision: String?
    public var args: [String]?

    public init(image: String? = nil, modelRevision: String? = nil, args: [String]? = nil) {
        self.image = image
        self.modelRevision = modelRevision
        self.args = args
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "The new revision; at least one field must be set.",
            [
                Field("image", \.image, "New engine container image.").minLength(1).maxLength(512),
                Field("modelRevision", \.modelRevision, "New model weights revision.").minLength(1).maxLength(128),
                Field("args", \.args, "New extra engine arguments, replacing the current ones.").maxItems(64),
            ],
            minProperties: 1)
    }
}

public struct CanaryStep: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultDuration: DefaultProvider { public static var value: Int32 { 300 } }
    public enum DefaultSamples: DefaultProvider { public static var value: Int32 { 200 } }

    public var weight: Int32
    @Defaulted<DefaultDuration> public var durationSeconds: Int32
    @Defaulted<DefaultSamples> public var minSamples: Int32

    public init(weight: Int32, durationSeconds: Int32 = 300, minSamples: Int32 = 200) {
        self.weight = weight
        self.durationSeconds = durationSeconds
        self.minSamples = minSamples
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "One traffic step.",
            [
                Field("weight", \.weight, "Percent of requests sent to the new revision.").range(1...100),
                Field("durationSeconds", \._durationSeconds, "Minimum time at this weight before moving on.").range(0...86_400),
                Field("minSamples", \._minSamples, "Minimum canary requests observed before the step can pass.").range(10...10_000_000),
            ])
    }
}

public struct AnalysisSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultMetrics: DefaultProvider { public static var value: [CanaryMetric] { [.ttft, .itl, .errorRate] } }
    public enum DefaultTest: DefaultProvider { public static var value: CanaryTest { .sequential } }
    public enum DefaultConfidence: DefaultProvider { public static var value: Double { 0.99 } }
    public enum DefaultRegression: DefaultProvider { public static var value: Double { 0.05 } }
    public enum DefaultInterval: DefaultProvider { public static var value: Int32 { 60 } }

    @Defaulted<DefaultMetrics> public var metrics: [CanaryMetric]
    @Defaulted<DefaultTest> public var test: CanaryTest
    @Defaulted<DefaultConfidence> public var confidence: Double
    @Defaulted<DefaultRegression> public var maxRegression: Double
    @Defaulted<DefaultInterval> public var intervalSeconds: Int32

    public init(
        metrics: [CanaryMetric] = DefaultMetrics.value, test: CanaryTest = .sequential, confidence: Double = 0.99, maxRegression: Double = 0.05,
        intervalSeconds: Int32 = 60
    ) {
        self.metrics = metrics
        self.test = test
        self.confidence = confidence
        self.maxRegression = maxRegression
        self.intervalSeconds = intervalSeconds
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Statistical judgement of the canary against the baseline.",
            [
                Field("metrics", \._metrics, "Metrics compared.").minItems(1).setList(),
                Field("test", \._test, "mannWhitney tests once per step; sequential can be checked every interval without inflating false alarms."),
                Field("confidence", \._confidence, "Confidence required to call a regression, e.g. 0.99 for a 1% false-alarm rate.")
                    .range(0.8...0.9999),
                Field("maxRegression", \._maxRegression, "Relative worsening tolerated before a regression counts, e.g. 0.05 for 5%.")
                    .range(0...1),
                Field("intervalSeconds", \._intervalSeconds, "How often metrics are collected and judged.").range(10...3600),
            ])
    }
}

public struct RollbackSpec: Codable, Sendable, Hashable, SchemaDescribed {
    @Defaulted<Defaults.True> public var automatic: Bool

    public init(automatic: Bool = true) { self.automatic = automatic }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Rollback behaviour.",
            [Field("automatic", \._automatic, "Roll back as soon as a regression is significant; when false the run pauses instead.")])
    }
}

public struct ApprovalSpec: Codable, Sendable, Hashable, SchemaDescribed {
    @Defaulted<Defaults.False> public var required: Bool
    @Defaulted<Defaults.False> public var approved: Bool

    public init(required: Bool = false, approved: Bool = false) {
        self.required = required
        self.approved = approved
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Manual approval gate.",
            [
                Field("required", \._required, "Wait in AwaitingApproval after the last step until approved."),
                Field("approved", \._approved, "Set to true (e.g. kubectl patch) to approve promotion."),
            ])
    }
}

public enum CanaryPhase: String, SchemaEnum {
    case Pending, Progressing, AwaitingApproval, Paused, Promoted, RolledBack, Failed
}

public struct CanaryRunStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var observedGeneration: Int64?
    public var phase: CanaryPhase?
    public var strategy: String?
    public var strategyReason: String?
    public var currentStep: Int32?
    public var currentWeight: Int32?
    public var steps: [StepResult]?
    public var message: String?
    public var conditions: [Condition]?
    public var startTime: Timestamp?
    public var endTime: Timestamp?

    public init() {}

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Observed state of a CanaryRun.",
            [
                Field("observedGeneration", \.observedGeneration, "The metadata.generation this status describes.").minimum(0),
                Field("phase", \.phase, "Pending, Progressing, AwaitingApproval, Paused, Promoted, RolledBack or Failed."),
                Field("strategy", \.strategy, "Strategy in use (the operator's choice when spec.strategy is auto)."),
                Field("strategyReason", \.strategyReason, "Why that strategy: the decision-tree path taken.").maxLength(4096),
                Field("currentStep", \.currentStep, "Index of the current step, from 0.").minimum(0),
                Field("currentWeight", \.currentWeight, "Percent of traffic on the new revision.").range(0...100),
                Field("steps", \.steps, "Results of each step so far.").maxItems(20),
                Field("message", \.message, "Latest verdict in words.").maxLength(4096),
                Field("conditions", \.conditions, "Progressing, Healthy and Complete conditions.").mapList(keys: ["type"]).maxItems(16),
                Field("startTime", \.startTime, "When the run started."),
                Field("endTime", \.endTime, "When it was promoted, rolled back or failed."),
            ])
    }
}

public struct StepResult: Codable, Sendable, Hashable, SchemaDescribed {
    public var step: Int32
    public var weight: Int32
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    /// How long this step runs: the spec's duration times the pace the judge advised when
    /// the previous step passed (shorter after a clearly healthy step, longer after a marginal one).
    public var durationSeconds: Int32?
    public var verdict: String?
    public var analyses: [MetricAnalysis]?

    public init(step: Int32, weight: Int32) {
        self.step = step
        self.weight = weight
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Outcome of one step.",
            [
                Field("step", \.step, "Step index.").minimum(0),
                Field("weight", \.weight, "Traffic percent during the step.").range(0...100),
                Field("startedAt", \.startedAt, "When the step began."),
                Field("finishedAt", \.finishedAt, "When it ended."),
                Field("durationSeconds", \.durationSeconds, "How long the step runs: the spec's duration times the pace the judge advised after the previous step.").minimum(0),
                Field("verdict", \.verdict, "continue, promote or rollback."),
                Field("analyses", \.analyses, "Per-metric statistics.").maxItems(8),
            ])
    }
}

public struct MetricAnalysis: Codable, Sendable, Hashable, SchemaDescribed {
    public var metric: String
    public var test: String
    public var baselineSamples: Int64
    public var canarySamples: Int64
    public var baselineMedian: Double?
    public var canaryMedian: Double?
    public var effectSize: Double?
    public var pValue: Double?
    public var verdict: String

    public init(metric: String, test: String, baselineSamples: Int64, canarySamples: Int64, verdict: String) {
        self.metric = metric
        self.test = test
        self.baselineSamples = baselineSamples
        self.canarySamples = canarySamples
        self.verdict = verdict
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "The statistics behind one metric's verdict.",
            [
                Field("metric", \.metric, "ttft, itl or errorRate."),
                Field("test", \.test, "Statistical test used."),
                Field("baselineSamples", \.baselineSamples, "Baseline observations.").minimum(0),
                Field("canarySamples", \.canarySamples, "Canary observations.").minimum(0),
                Field("baselineMedian", \.baselineMedian, "Baseline median (milliseconds, or a rate for errorRate)."),
                Field("canaryMedian", \.canaryMedian, "Canary median."),
                Field("effectSize", \.effectSize, "Relative change of the canary against the baseline; positive is worse."),
                Field("pValue", \.pValue, "p-value (or always-valid p-value for the sequential test).").range(0...1),
                Field("verdict", \.verdict, "pass, fail or inconclusive."),
            ])
    }
}
