import LLMOpsCore

/// A fixed number of replicas for the whole trace (sized for its peak by the evaluation).
public struct StaticPolicy: SimulatedPolicy {
    public var replicas: Int
    public let name = "static-peak"
    public let tickSeconds = 15.0
    public let coldStartSeconds = 0.0
    public init(replicas: Int) { self.replicas = replicas }
    public mutating func desiredReplicas(_ o: Observation) -> Int { replicas }
}

/// The Kubernetes HorizontalPodAutoscaler algorithm with its documented defaults: every 15 s,
/// desired = ceil(ready × metric / target), no change within a 10% tolerance; scale-up at most
/// max(4 pods, 100%) per period; scale-down to the highest recommendation of the last 300 s.
/// The metric is requests in flight per replica (a queue/concurrency metric, the usual custom
/// metric for LLM serving).
public struct HPAPolicy: SimulatedPolicy {
    public var target: Double
    public var maxReplicas: Int
    public let coldStartSeconds: Double
    public let name = "hpa"
    public let tickSeconds = 15.0
    private var recommendations: [(Double, Int)] = []

    public init(targetInFlightPerReplica: Double, maxReplicas: Int, coldStartSeconds: Double) {
        target = targetInFlightPerReplica
        self.maxReplicas = maxReplicas
        self.coldStartSeconds = coldStartSeconds
    }

    public mutating func desiredReplicas(_ o: Observation) -> Int {
        let current = max(o.replicas, 1)
        let ready = max(o.readyReplicas, 1)
        let ratio = Double(o.inFlight) / Double(ready) / target
        var raw = abs(ratio - 1) <= 0.1 ? current : Int((Double(ready) * ratio - 1e-9).rounded(.up))
        raw = max(1, min(maxReplicas, raw))
        recommendations.append((o.time, raw))
        recommendations.removeAll { o.time - $0.0 > 300 }
        if raw < current {
            return min(current, recommendations.map(\.1).max() ?? raw)
        }
        return min(raw, max(current + 4, 2 * current))
    }
}

/// Knative's KPA with its defaults: every 2 s, desired = ceil(average concurrency / target)
/// over a 60 s stable window; when the 6 s panic window asks for at least 200% of the ready
/// replicas it panics, and for at least 60 s it scales up on the panic window and never down.
/// Scale-down is limited to halving per tick (max-scale-down-rate 2).
public struct KPAPolicy: SimulatedPolicy {
    public var target: Double
    public var maxReplicas: Int
    public let coldStartSeconds: Double
    public let name = "kpa"
    public let tickSeconds = 2.0
    private var samples: [(Double, Double)] = []
    private var panicSince: Double?
    private var panicDesired = 0

    public init(targetConcurrency: Double, maxReplicas: Int, coldStartSeconds: Double) {
        target = targetConcurrency
        self.maxReplicas = maxReplicas
        self.coldStartSeconds = coldStartSeconds
    }

    public mutating func desiredReplicas(_ o: Observation) -> Int {
        samples.append((o.time, Double(o.inFlight)))
        samples.removeAll { o.time - $0.0 > 60 }
        func average(_ window: Double) -> Double {
            let xs = samples.filter { o.time - $0.0 <= window }.map(\.1)
            return xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
        }
        let current = max(o.replicas, 1)
        let ready = max(o.readyReplicas, 1)
        let stable = Int((average(60) / target - 1e-9).rounded(.up))
        let panic = Int((average(6) / target - 1e-9).rounded(.up))
        if Double(panic) / Double(ready) >= 2 {
            if panicSince == nil { panicSince = o.time }
        } else if let since = panicSince, o.time - since >= 60 {
            panicSince = nil
            panicDesired = 0
        }
        var desired: Int
        if panicSince != nil {
            panicDesired = max(panicDesired, panic, current)
            desired = panicDesired
        } else {
            desired = max(stable, Int((Double(current) / 2).rounded(.up)))
        }
        return max(1, min(maxReplicas, desired))
    }
}

/// The llmops core: DynamicScaler in hybrid mode with the policy defaults a user gets, capacity
/// per replica from the capacity model corrected online by the EfficiencyEstimator, and the
/// default forecaster over the request rate.
public struct LLMOpsPolicy: SimulatedPolicy {
    public let name = "llmops"
    public let tickSeconds = 15.0
    public let coldStartSeconds: Double
    public var capacityPerReplica: Double
    public var policy: ScalerPolicy
    private var state = ScalerState()
    private var forecaster = HoltForecaster()
    private var efficiency = EfficiencyEstimator(bounds: EfficiencyEstimator.bounds(headroom: Evaluation.headroom))

    public var itlTargetSeconds: Double
    /// The rate one replica carries through a burst (`ReplicaModel.burstRate`).
    public var burstCapacityPerReplica: Double?
    /// The share of requests that must meet the SLO: half of the rest may fall on bursts.
    public var attainment: Double
    /// Where the burst reserve comes from: given (`LoadProfile.burstFactor` and the peak of
    /// the history it was measured on), or, when `burstFactor` is nil, measured online over
    /// the last hour of arrivals per tick, as the operator measures it from its scrapes.
    public var burstFactor: Double?
    public var burstPeak: Double?
    /// Per-replica capacity by fleet size relative to `capacityPerReplica`
    /// (`ScalerInput.capacityScaleByFleet`), for requests that arrive in groups.
    public var capacityScaleByFleet: [Double] = []
    /// Arrivals per tick: the reserve's base rate in both cases, and its factor and ceiling
    /// when online. Per tick, not per minute: 1-minute rates smooth away bursts shorter than a
    /// minute, and a development trace at ×30 then missed the SLO (98.7 %); the counting noise
    /// of a tick's few arrivals at ×1 is taken out before it can read as bursts.
    private var history: BurstHistory

    public init(
        capacityPerReplica: Double, maxReplicas: Int, coldStartSeconds: Double, ttftTargetSeconds: Double, itlTargetSeconds: Double = .infinity,
        burstFactor: Double? = 1, burstCapacityPerReplica: Double? = nil, burstPeak: Double? = nil, attainment: Double = 0.99,
        capacityScaleByFleet: [Double] = []
    ) {
        self.capacityScaleByFleet = capacityScaleByFleet
        self.burstFactor = burstFactor
        self.burstPeak = burstPeak
        self.burstCapacityPerReplica = burstCapacityPerReplica
        self.capacityPerReplica = capacityPerReplica
        self.itlTargetSeconds = itlTargetSeconds
        self.coldStartSeconds = coldStartSeconds
        self.attainment = attainment
        history = BurstHistory(periodSeconds: tickSeconds, countSeconds: tickSeconds)
        policy = ScalerPolicy(
            minReplicas: 1, maxReplicas: maxReplicas, mode: .hybrid, queueDepthPerReplica: 8, ttftTargetSeconds: ttftTargetSeconds)
    }

    public mutating func desiredReplicas(_ o: Observation) -> Int {
        forecaster.observe(o.rateLastTick)
        history.observe(o.rateLastTick)
        let ready = Double(max(o.readyReplicas, 1))
        let scale = ScalerInput.capacityScale(capacityScaleByFleet, fleet: o.readyReplicas)
        let factor = efficiency.observe(
            ratePerReplica: o.rateLastMinute / ready, modelCapacity: capacityPerReplica * scale, ttftP95: o.ttftP95LastMinute,
            ttftTarget: policy.ttftTargetSeconds ?? .infinity, itlP95: o.itlP95LastMinute, itlTarget: itlTargetSeconds,
            queuePerReplica: Double(o.queueDepth) / ready, now: o.time)
        let lead = coldStartSeconds + policy.scaleUp.periodSeconds
        let forecast = (1...max(1, Int((lead / tickSeconds).rounded(.up)))).compactMap { k in
            forecaster.forecast(steps: k).map { ForecastPoint(secondsAhead: Double(k) * tickSeconds, requestsPerSecond: $0) }
        }
        var input = ScalerInput(
            now: o.time, currentReplicas: o.replicas, readyReplicas: o.readyReplicas,
            // The rate over the last minute, as the operator reads it from Prometheus
            // (`rate(...[1m])`): a spike of one period is the burst reserve's to absorb, and
            // sizing on it at SLO capacity held a fleet for a whole scale-down window after
            // every spike (a development trace of batch arrivals paid 35 % more).
            metrics: ScalerMetrics(
                requestsPerSecond: o.rateLastMinute, queueDepth: Double(o.queueDepth), kvCacheUtilization: o.kvUtilization,
                ttftP95Seconds: o.ttftP95LastMinute, observedAt: o.time),
            forecast: forecast, capacityPerReplica: capacityPerReplica * factor, coldStartSeconds: coldStartSeconds, policy: policy, state: state)
        input.capacityScaleByFleet = capacityScaleByFleet
        let wait = policy.ttftTargetSeconds ?? 0
        input.burstFactor = burstFactor ?? history.factor(lead: lead, waitSeconds: wait, headroom: Evaluation.headroom, attainment: attainment)
        // The burst rate comes from the same model the factor corrects: down, not up (growth is
        // evidence of spare steady capacity below the knee, not of more room in a burst).
        input.burstCapacityPerReplica = burstCapacityPerReplica.map { $0 * min(factor, 1) }
        input.burstPeakRequestsPerSecond = burstFactor == nil ? history.ceiling(factor: input.burstFactor, waitSeconds: wait, attainment: attainment) : burstPeak
        input.recentRequestsPerSecond = history.base
        switch DynamicScaler.decide(input) {
        case .success(let d):
            state = d.state
            return d.desiredReplicas
        case .failure:
            return o.replicas
        }
    }
}

/// A clairvoyant lower bound: it knows the arrivals of the next minute, starts replicas in
/// the physical minimum time (weights over a 25 GB/s host link), and removes them at once.
public struct OraclePolicy: SimulatedPolicy {
    public let name = "oracle"
    public let tickSeconds = 2.0
    public let coldStartSeconds: Double
    public var capacityPerReplica: Double
    public var maxReplicas: Int
    /// Peak arrival rate over 10 s buckets, per bucket start.
    private let bucketRates: [Double]

    public init(requests: [TraceRequest], capacityPerReplica: Double, maxReplicas: Int, coldStartSeconds: Double) {
        self.capacityPerReplica = capacityPerReplica
        self.maxReplicas = maxReplicas
        self.coldStartSeconds = coldStartSeconds
        let end = requests.last?.arrival ?? 0
        var counts = Array(repeating: 0.0, count: Int(end / 10) + 2)
        for r in requests { counts[Int(r.arrival / 10)] += 1 }
        bucketRates = counts.map { $0 / 10 }
    }

    public mutating func desiredReplicas(_ o: Observation) -> Int {
        let first = Int(o.time / 10)
        let last = min(bucketRates.count - 1, Int((o.time + 60 + coldStartSeconds) / 10))
        let peak = first <= last ? bucketRates[first...last].max() ?? 0 : 0
        return max(1, min(maxReplicas, Int((peak / capacityPerReplica - 1e-9).rounded(.up))))
    }
}

/// The llmops policy with the optional RL allocator adjusting each decision by ±1 replica.
public struct RLAssistedPolicy: SimulatedPolicy {
    public let name = "llmops+rl"
    public var base: LLMOpsPolicy
    public var allocator: RLAllocator
    public var learning: Bool
    public var tickSeconds: Double { base.tickSeconds }
    public var coldStartSeconds: Double { base.coldStartSeconds }
    public var maxReplicas: Int
    private var previousRate: Double?

    public init(base: LLMOpsPolicy, allocator: RLAllocator, learning: Bool, maxReplicas: Int) {
        self.base = base
        self.allocator = allocator
        self.learning = learning
        self.maxReplicas = maxReplicas
    }

    public mutating func desiredReplicas(_ o: Observation) -> Int {
        let recommended = base.desiredReplicas(o)
        let ready = Double(max(o.readyReplicas, 1))
        let trend = previousRate.map { p in p > 0 ? (o.rateLastMinute - p) / p : 0 } ?? 0
        previousRate = o.rateLastMinute
        let observation = RLAllocator.Observation(
            loadPerCapacity: o.rateLastMinute / (ready * base.capacityPerReplica), queuePerReplica: Double(o.queueDepth) / ready,
            ttftRatio: base.policy.ttftTargetSeconds.flatMap { t in o.ttftP95LastMinute.map { $0 / t } },
            itlRatio: o.itlP95LastMinute.map { $0 / base.itlTargetSeconds }, trend: trend)
        let delta = allocator.adjust(observation, replicas: o.replicas, learn: learning)
        return max(1, min(maxReplicas, recommended + delta))
    }
}
