import KubeModel

/// How an LLMDeployment scales: bounds, reactive metric targets, prediction, and the pace of
/// change in each direction.
public struct ScalingPolicy: CustomResource {
    public static let kind = "ScalingPolicy"
    public static let summary =
        "ScalingPolicy scales an LLMDeployment on current and forecast load within bounds, with separate behaviour for scaling up and down."
    public static let names = CustomResourceDefinition.Names(
        plural: "scalingpolicies", singular: "scalingpolicy", kind: kind, shortNames: ["sp"], categories: ["llmops"])
    public static let printerColumns: [CustomResourceDefinition.PrinterColumn] = [
        .init(name: "Target", type: "string", jsonPath: ".spec.targetRef.name", description: "The LLMDeployment scaled."),
        .init(name: "Mode", type: "string", jsonPath: ".spec.mode", description: "Reactive, predictive or hybrid."),
        .init(name: "Min", type: "integer", jsonPath: ".spec.minReplicas", description: "Lower bound on replicas."),
        .init(name: "Max", type: "integer", jsonPath: ".spec.maxReplicas", description: "Upper bound on replicas."),
        .init(name: "Recommended", type: "integer", jsonPath: ".status.recommendedReplicas", description: "Replicas the policy asks for now."),
        .init(name: "Load", type: "number", jsonPath: ".status.currentLoad.requestsPerSecond", description: "Current requests per second.", priority: 1),
        .init(name: "Forecast", type: "number", jsonPath: ".status.forecastLoad.requestsPerSecond", description: "Forecast requests per second.", priority: 1),
        .init(
            name: "Reserve", type: "number", jsonPath: ".status.burstReserve.factor", description: "Multiple of the recent load held for bursts (1: none).",
            priority: 1),
        .init(name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation."),
    ]

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: ScalingPolicySpec
    public var status: ScalingPolicyStatus?

    public init(metadata: ObjectMeta, spec: ScalingPolicySpec, status: ScalingPolicyStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public enum ScalingMode: String, SchemaEnum {
    /// Follow current metrics only.
    case reactive
    /// Provision for the forecast ahead of time.
    case predictive
    /// The larger of the two, so a forecast miss never under-provisions.
    case hybrid
}

public enum ForecasterKind: String, SchemaEnum {
    case lastValue, seasonalNaive, holt, holtWinters
    /// Experimental multi-stream network; opt-in only (it loses to holt on held-out traces).
    case neural
}

public struct ScalingPolicySpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultMin: DefaultProvider { public static var value: Int32 { 1 } }
    public enum DefaultMode: DefaultProvider { public static var value: ScalingMode { .hybrid } }
    public enum DefaultTargets: DefaultProvider { public static var value: MetricTargets { MetricTargets(queueDepthPerReplica: 8) } }
    public enum DefaultScaleUp: DefaultProvider {
        public static var value: ScalingBehavior { ScalingBehavior(stabilizationWindowSeconds: 0, maxStep: 4, periodSeconds: 15, cooldownSeconds: 0) }
    }
    public enum DefaultScaleDown: DefaultProvider {
        public static var value: ScalingBehavior { ScalingBehavior(stabilizationWindowSeconds: 300, maxStep: 4, periodSeconds: 60, cooldownSeconds: 0) }
    }
    public enum DefaultForecast: DefaultProvider { public static var value: ForecastSpec { ForecastSpec() } }
    public enum DefaultScaleToZero: DefaultProvider { public static var value: ScaleToZeroSpec { ScaleToZeroSpec() } }

    public var targetRef: LocalObjectReference
    @Defaulted<DefaultMin> public var minReplicas: Int32
    public var maxReplicas: Int32
    @Defaulted<DefaultMode> public var mode: ScalingMode
    @Defaulted<DefaultTargets> public var targets: MetricTargets
    @Defaulted<DefaultScaleUp> public var scaleUp: ScalingBehavior
    @Defaulted<DefaultScaleDown> public var scaleDown: ScalingBehavior
    @Defaulted<DefaultForecast> public var forecast: ForecastSpec
    @Defaulted<DefaultScaleToZero> public var scaleToZero: ScaleToZeroSpec

    public init(
        targetRef: LocalObjectReference, minReplicas: Int32 = 1, maxReplicas: Int32, mode: ScalingMode = .hybrid,
        targets: MetricTargets = DefaultTargets.value, scaleUp: ScalingBehavior = DefaultScaleUp.value,
        scaleDown: ScalingBehavior = DefaultScaleDown.value, forecast: ForecastSpec = ForecastSpec(),
        scaleToZero: ScaleToZeroSpec = ScaleToZeroSpec()
    ) {
        self.targetRef = targetRef
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.mode = mode
        self.targets = targets
        self.scaleUp = scaleUp
        self.scaleDown = scaleDown
        self.forecast = forecast
        self.scaleToZero = scaleToZero
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Desired scaling behaviour.",
            [
                Field("targetRef", \.targetRef, "The LLMDeployment this policy scales."),
                Field("minReplicas", \._minReplicas, "Fewest replicas while there is traffic.").range(0...1000),
                Field("maxReplicas", \.maxReplicas, "Most replicas, whatever the load.").range(1...1000),
                Field("mode", \._mode, "reactive follows current metrics; predictive provisions for the forecast; hybrid takes the larger."),
                Field("targets", \._targets, "Per-replica metric targets for reactive scaling; any that is exceeded scales up."),
                Field("scaleUp", \._scaleUp, "How fast replicas are added."),
                Field("scaleDown", \._scaleDown, "How fast replicas are removed."),
                Field("forecast", \._forecast, "Load forecasting for predictive and hybrid modes."),
                Field("scaleToZero", \._scaleToZero, "Remove every replica after a period without requests."),
            ],
            rules: [
                ValidationRule(rule: "self.minReplicas <= self.maxReplicas", message: "minReplicas must be less than or equal to maxReplicas", fieldPath: ".minReplicas")
            ])
    }
}

public struct MetricTargets: Codable, Sendable, Hashable, SchemaDescribed {
    public var queueDepthPerReplica: Int32?
    public var kvCacheUtilization: Double?
    public var ttftP95Ms: Int32?

    public init(queueDepthPerReplica: Int32? = nil, kvCacheUtilization: Double? = nil, ttftP95Ms: Int32? = nil) {
        self.queueDepthPerReplica = queueDepthPerReplica
        self.kvCacheUtilization = kvCacheUtilization
        self.ttftP95Ms = ttftP95Ms
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Metric targets per replica; at least one must be set.",
            [
                Field("queueDepthPerReplica", \.queueDepthPerReplica, "Waiting requests per replica (vllm:num_requests_waiting).")
                    .range(1...10_000),
                Field("kvCacheUtilization", \.kvCacheUtilization, "Fraction of KV-cache blocks in use (vllm:gpu_cache_usage_perc).")
                    .range(0.05...1),
                Field("ttftP95Ms", \.ttftP95Ms, "Observed 95th-percentile time to first token, in milliseconds.").range(1...600_000),
            ],
            minProperties: 1)
    }
}

public struct ScalingBehavior: Codable, Sendable, Hashable, SchemaDescribed {
    public var stabilizationWindowSeconds: Int32
    public var maxStep: Int32
    public var periodSeconds: Int32
    public var cooldownSeconds: Int32

    public init(stabilizationWindowSeconds: Int32, maxStep: Int32, periodSeconds: Int32, cooldownSeconds: Int32) {
        self.stabilizationWindowSeconds = stabilizationWindowSeconds
        self.maxStep = maxStep
        self.periodSeconds = periodSeconds
        self.cooldownSeconds = cooldownSeconds
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Pace of scaling in one direction.",
            [
                Field(
                    "stabilizationWindowSeconds", \.stabilizationWindowSeconds,
                    "Recommendations over this window are combined (the highest for scale-down, the lowest for scale-up) to avoid flapping."
                ).range(0...3600),
                Field("maxStep", \.maxStep, "Most replicas changed per period.").range(1...1000),
                Field("periodSeconds", \.periodSeconds, "Length of the period maxStep applies to.").range(1...3600),
                Field("cooldownSeconds", \.cooldownSeconds, "Minimum time after a change in this direction before the next.")
                    .range(0...3600),
            ])
    }
}

public struct ForecastSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultHorizon: DefaultProvider { public static var value: Int32 { 600 } }
    public enum DefaultForecaster: DefaultProvider { public static var value: ForecasterKind { .holt } }
    public enum DefaultSeason: DefaultProvider { public static var value: Int32 { 86_400 } }

    @Defaulted<DefaultHorizon> public var horizonSeconds: Int32
    @Defaulted<DefaultForecaster> public var forecaster: ForecasterKind
    @Defaulted<DefaultSeason> public var seasonSeconds: Int32

    public init(horizonSeconds: Int32 = 600, forecaster: ForecasterKind = .holt, seasonSeconds: Int32 = 86_400) {
        self.horizonSeconds = horizonSeconds
        self.forecaster = forecaster
        self.seasonSeconds = seasonSeconds
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Load forecasting.",
            [
                Field("horizonSeconds", \._horizonSeconds, "How far ahead to forecast; at least the model's cold-start time.").range(30...86_400),
                Field(
                    "forecaster", \._forecaster,
                    "Forecasting method: lastValue, seasonalNaive (one season ago), holt (damped trend; the default, chosen because it beats lastValue on held-out production traces), holtWinters (trend and season), or neural (experimental multi-stream network trained online; opt-in only, as it currently loses to holt on held-out traces)."),
                Field("seasonSeconds", \._seasonSeconds, "Length of the load's repeating cycle, for seasonal methods.").range(60...604_800),
            ])
    }
}

public struct ScaleToZeroSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public enum DefaultIdle: DefaultProvider { public static var value: Int32 { 900 } }

    @Defaulted<Defaults.False> public var enabled: Bool
    @Defaulted<DefaultIdle> public var idleSeconds: Int32

    public init(enabled: Bool = false, idleSeconds: Int32 = 900) {
        self.enabled = enabled
        self.idleSeconds = idleSeconds
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Scale-to-zero on idleness.",
            [
                Field("enabled", \._enabled, "Remove all replicas after idleSeconds without requests; the first request then waits for a cold start."),
                Field("idleSeconds", \._idleSeconds, "Seconds without requests before scaling to zero.").range(60...86_400),
            ])
    }
}

public struct ScalingPolicyStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    public var currentLoad: LoadSnapshot?
    public var forecastLoad: LoadForecast?
    public var recommendedReplicas: Int32?
    public var lastScaleTime: Timestamp?
    public var history: [ScalingEvent]?
    public var burstReserve: BurstReserveStatus?

    public init() {}

    /// Most scaling events kept in status, newest last.
    public static let historyLimit = 20

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Observed state of a ScalingPolicy.",
            [
                Field("observedGeneration", \.observedGeneration, "The metadata.generation this status describes.").minimum(0),
                Field("conditions", \.conditions, "Active, AbleToScale and ScalingLimited conditions.").mapList(keys: ["type"]).maxItems(16),
                Field("currentLoad", \.currentLoad, "Load measured at the last evaluation."),
                Field("forecastLoad", \.forecastLoad, "Load forecast for the horizon."),
                Field("recommendedReplicas", \.recommendedReplicas, "Replicas the policy recommends now.").minimum(0),
                Field("lastScaleTime", \.lastScaleTime, "When replicas last changed."),
                Field("history", \.history, "Recent scaling decisions with their reasons, newest last.").maxItems(historyLimit),
                Field("burstReserve", \.burstReserve, "Capacity held above the recent load for bursts that outrun cold starts, and the rate history it was measured on."),
            ])
    }
}

/// The burst reserve as the scaler measured it at the last evaluation.
public struct BurstReserveStatus: Codable, Sendable, Hashable, SchemaDescribed {
    /// Multiple of the recent rate the fleet can serve (1: no reserve).
    public var factor: Double
    /// The highest rate the reserve covers.
    public var ceilingRequestsPerSecond: Double?
    /// Seconds of rate history behind the factor (at most an hour).
    public var historySeconds: Int64
    /// Where the history came from: `observed` since the operator started, or `prometheus`
    /// when it was rebuilt from Prometheus after a start.
    public var source: String

    public init(factor: Double, ceilingRequestsPerSecond: Double?, historySeconds: Int64, source: String) {
        self.factor = factor
        self.ceilingRequestsPerSecond = ceilingRequestsPerSecond
        self.historySeconds = historySeconds
        self.source = source
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "The burst reserve and what it rests on.",
            [
                Field("factor", \.factor, "Multiple of the recent request rate the fleet keeps capacity for; 1 means no reserve.").minimum(1),
                Field("ceilingRequestsPerSecond", \.ceilingRequestsPerSecond, "The highest request rate the reserve covers: the lowest constant rate that would have served the whole history within the bursts' share of the miss budget.").minimum(0),
                Field("historySeconds", \.historySeconds, "Seconds of request-rate history the factor was measured on (at most 3600; no reserve before about six minutes).").minimum(0),
                Field("source", \.source, "observed: rates seen since the operator started; prometheus: the last hour rebuilt from Prometheus at start.").pattern("^(observed|prometheus)$"),
            ])
    }
}

public struct LoadSnapshot: Codable, Sendable, Hashable, SchemaDescribed {
    public var requestsPerSecond: Double
    public var inputTokensPerSecond: Double?
    public var outputTokensPerSecond: Double?
    public var queueDepth: Double?
    public var kvCacheUtilization: Double?
    public var observedAt: Timestamp?

    public init(requestsPerSecond: Double, inputTokensPerSecond: Double? = nil, outputTokensPerSecond: Double? = nil, queueDepth: Double? = nil, kvCacheUtilization: Double? = nil, observedAt: Timestamp? = nil) {
        self.requestsPerSecond = requestsPerSecond
        self.inputTokensPerSecond = inputTokensPerSecond
        self.outputTokensPerSecond = outputTokensPerSecond
        self.queueDepth = queueDepth
        self.kvCacheUtilization = kvCacheUtilization
        self.observedAt = observedAt
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Load measured from the serving engines' metrics.",
            [
                Field("requestsPerSecond", \.requestsPerSecond, "Arriving requests per second.").minimum(0),
                Field("inputTokensPerSecond", \.inputTokensPerSecond, "Prompt tokens per second.").minimum(0),
                Field("outputTokensPerSecond", \.outputTokensPerSecond, "Generated tokens per second.").minimum(0),
                Field("queueDepth", \.queueDepth, "Requests waiting, summed over replicas.").minimum(0),
                Field("kvCacheUtilization", \.kvCacheUtilization, "Mean fraction of KV cache in use.").range(0...1),
                Field("observedAt", \.observedAt, "When the metrics were scraped."),
            ])
    }
}

public struct LoadForecast: Codable, Sendable, Hashable, SchemaDescribed {
    public var requestsPerSecond: Double
    public var horizonSeconds: Int32
    public var forecaster: String

    public init(requestsPerSecond: Double, horizonSeconds: Int32, forecaster: String) {
        self.requestsPerSecond = requestsPerSecond
        self.horizonSeconds = horizonSeconds
        self.forecaster = forecaster
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "Forecast load.",
            [
                Field("requestsPerSecond", \.requestsPerSecond, "Peak requests per second expected within the horizon.").minimum(0),
                Field("horizonSeconds", \.horizonSeconds, "Horizon of the forecast.").minimum(0),
                Field("forecaster", \.forecaster, "Method that produced it."),
            ])
    }
}

public struct ScalingEvent: Codable, Sendable, Hashable, SchemaDescribed {
    public var time: Timestamp
    public var fromReplicas: Int32
    public var toReplicas: Int32
    public var reason: String

    public init(time: Timestamp, fromReplicas: Int32, toReplicas: Int32, reason: String) {
        self.time = time
        self.fromReplicas = fromReplicas
        self.toReplicas = toReplicas
        self.reason = reason
    }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "One change of replicas.",
            [
                Field("time", \.time, "When it happened."),
                Field("fromReplicas", \.fromReplicas, "Replicas before.").minimum(0),
                Field("toReplicas", \.toReplicas, "Replicas after.").minimum(0),
                Field("reason", \.reason, "Why.").maxLength(1024),
            ])
    }
}
