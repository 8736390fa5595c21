/// Learns how far the capacity model is from the replicas' measured behaviour, as a factor on
/// modelled capacity. Evidence only counts when it is informative: the factor grows only while
/// replicas carry at least `informativeLoad` of their assumed capacity and latency stays well
/// inside the objective; it shrinks as soon as latency nears the objective or queues build.
/// Growth is slow and shrinking fast (multiplicative increase/decrease in the AIMD spirit,
/// reversed for safety), and the factor stays within bounds, so a bad estimate costs money,
/// never the SLO for long. The upper bound is tight: latency percentiles stay flat until a
/// replica is close to its knee, so evidence from below the knee cannot show how far above
/// the model the knee is, and growing on "latency looks fine" alone walks a fleet past it
/// before p95 shows it. Growth may spend the headroom the sizing keeps (`bounds(headroom:)`),
/// not more: with room to 1.2 a fleet sized on a quiet stretch ran at its knee when a ramp
/// came, and a bursty development trace at ×30 fell to 96.6 % attainment.
public struct EfficiencyEstimator: Sendable, Hashable {
    public private(set) var factor: Double
    public var bounds: ClosedRange<Double>
    public var growth: Double
    public var shrink: Double
    public var informativeLoad: Double
    /// After a shrink (when observations carry a clock), no observation moves the factor until
    /// the latency window has turned over: a one-minute percentile keeps showing the stress the
    /// last shrink answered (and the replicas it added are not in it yet), and shrinking on every
    /// sample of it halved the factor within a minute and doubled the fleet.
    public var shrinkHoldSeconds: Double = 60
    private var lastShrinkAt: Double?

    /// From half the model's capacity up to the capacity the headroom holds back: the factor
    /// times (1 − headroom) stays at most 1.
    public static func bounds(headroom: Double) -> ClosedRange<Double> { 0.5...(1 / (1 - min(max(headroom, 0), 0.5))) }

    public init(factor: Double = 1, bounds: ClosedRange<Double> = EfficiencyEstimator.bounds(headroom: OptimizerRequest.defaultHeadroom), growth: Double = 1.03, shrink: Double = 0.85, informativeLoad: Double = 0.7) {
        self.factor = min(max(factor, bounds.lowerBound), bounds.upperBound)
        self.bounds = bounds
        self.growth = growth
        self.shrink = shrink
        self.informativeLoad = informativeLoad
    }

    /// Updates from one observation; returns the new factor.
    /// - Parameters:
    ///   - ratePerReplica: requests per second per ready replica.
    ///   - modelCapacity: the capacity model's requests per second per replica.
    ///   - ttftP95: observed 95th-percentile TTFT (nil when no requests finished prefill).
    ///   - ttftTarget: the objective.
    ///   - itlP95: observed 95th-percentile time per output token (vllm:time_per_output_token_seconds).
    ///   - itlTarget: its objective.
    ///   - queuePerReplica: waiting requests per ready replica.
    @discardableResult
    public mutating func observe(
        ratePerReplica: Double, modelCapacity: Double, ttftP95: Double?, ttftTarget: Double, itlP95: Double? = nil, itlTarget: Double = .infinity,
        queuePerReplica: Double, now: Double? = nil
    ) -> Double {
        guard modelCapacity > 0, ttftTarget > 0, itlTarget > 0, ratePerReplica.isFinite else { return factor }
        if let now, let last = lastShrinkAt, now - last < shrinkHoldSeconds { return factor }
        let stressed =
            (ttftP95.map { $0 > 0.8 * ttftTarget } ?? false) || (itlP95.map { $0 > 0.8 * itlTarget } ?? false) || queuePerReplica > 4
        let relaxed = (ttftP95.map { $0 < 0.5 * ttftTarget } ?? false) && (itlP95.map { $0 < 0.6 * itlTarget } ?? true)
        if stressed {
            factor = max(bounds.lowerBound, factor * shrink)
            lastShrinkAt = now
        } else if ratePerReplica >= informativeLoad * modelCapacity * factor, relaxed, queuePerReplica <= 1 {
            factor = min(bounds.upperBound, factor * growth)
        }
        return factor
    }
}
