/// One tick of the signals the network reads: the resource-use, performance and deployment
/// streams. Missing metrics are nil and read as their running mean.
public struct MetricsSample: Sendable, Hashable {
    public var requestsPerSecond: Double
    public var tokensPerSecond: Double
    public var kvCacheUtilization: Double?
    public var queueDepth: Double?
    public var ttftP95Seconds: Double?
    public var itlP95Seconds: Double?
    public var replicas: Double
    public var capacityPerReplica: Double

    public init(
        requestsPerSecond: Double, tokensPerSecond: Double, kvCacheUtilization: Double? = nil, queueDepth: Double? = nil, ttftP95Seconds: Double? = nil,
        itlP95Seconds: Double? = nil, replicas: Double, capacityPerReplica: Double
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.tokensPerSecond = tokensPerSecond
        self.kvCacheUtilization = kvCacheUtilization
        self.queueDepth = queueDepth
        self.ttftP95Seconds = ttftP95Seconds
        self.itlP95Seconds = itlP95Seconds
        self.replicas = replicas
        self.capacityPerReplica = capacityPerReplica
    }
}

/// Forecasts load (and TTFT) `horizon` ticks ahead with the multi-stream network, trained online:
/// each new tick supplies the target of the example that ended `horizon` ticks earlier, so the
/// network learns from exactly the data it will later be judged on, never from the future.
/// Inputs and targets are standardised with running means and deviations.
public struct NeuralLoadForecaster: Sendable {
    public let horizon: Int
    public private(set) var network: MultiStreamNetwork
    private var history: [MetricsSample] = []
    private var stats: [RunningStats] = Array(repeating: RunningStats(), count: 8)
    public private(set) var trainedExamples = 0

    public init(horizon: Int, seed: UInt64 = 1, shape: MultiStreamNetwork.Shape = .init()) {
        self.horizon = max(1, horizon)
        network = MultiStreamNetwork(shape: shape, seed: seed)
    }

    /// Ticks the network reads per forecast.
    public var window: Int { network.shape.window }
    /// Ticks seen so far (capped at the window plus the horizon).
    public var observed: Int { history.count }

    static func raw(_ s: MetricsSample) -> [Double?] {
        [s.requestsPerSecond, s.tokensPerSecond, s.kvCacheUtilization, s.queueDepth, s.ttftP95Seconds, s.itlP95Seconds, s.replicas, s.capacityPerReplica]
    }

    private func z(_ value: Double?, _ i: Int) -> Double {
        guard let value, value.isFinite else { return 0 }
        let sd = stats[i].variance.squareRoot()
        return sd > 1e-9 ? (value - stats[i].mean) / sd : 0
    }

    private func input(endingAt end: Int) -> MultiStreamNetwork.Input {
        let slice = history[(end - window)..<end]
        return MultiStreamNetwork.Input(
            resources: slice.map { s in [z(s.requestsPerSecond, 0), z(s.tokensPerSecond, 1), z(s.kvCacheUtilization, 2), z(s.queueDepth, 3)] },
            performance: slice.map { s in [z(s.ttftP95Seconds, 4), z(s.itlP95Seconds, 5)] },
            deployment: [z(slice.last!.replicas, 6), z(slice.last!.capacityPerReplica, 7)])
    }

    public mutating func observe(_ sample: MetricsSample) {
        for (i, v) in Self.raw(sample).enumerated() { if let v, v.isFinite { stats[i].add(v) } }
        history.append(sample)
        let keep = window + horizon
        if history.count > keep { history.removeFirst(history.count - keep) }
        // The example whose window ended `horizon` ticks ago now has its target.
        if history.count == keep {
            let x = input(endingAt: window)
            let target = [z(sample.requestsPerSecond, 0), z(sample.ttftP95Seconds, 4)]
            network.train(x, target: target, mask: [1, sample.ttftP95Seconds == nil ? 0 : 1])
            trainedExamples += 1
        }
    }

    /// Forecast request rate `horizon` ticks ahead; nil until a full window has been seen.
    public func forecastRate() -> Double? {
        guard history.count >= window else { return nil }
        let out = network.predict(input(endingAt: history.count))
        let sd = stats[0].variance.squareRoot()
        return max(0, stats[0].mean + out[0] * sd)
    }

    /// Forecast TTFT p95 `horizon` ticks ahead, when TTFT has been observed.
    public func forecastTTFT() -> Double? {
        guard history.count >= window, stats[4].count > 1 else { return nil }
        let out = network.predict(input(endingAt: history.count))
        return max(0, stats[4].mean + out[1] * stats[4].variance.squareRoot())
    }
}
