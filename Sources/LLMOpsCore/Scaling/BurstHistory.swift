/// The burst reserve as a running scaler can know it: one measured arrival rate per
/// observation period, the last hour kept, nothing about the future. The operator's
/// ScalingPolicy controller and the simulator's llmops policy both keep one, so the policy the
/// benchmark prices holds exactly the information the operator has: a reserve measured on the
/// whole trace would include the very bursts it is then judged on.
///
/// Until the history covers the base window plus the lead, the factor is 1 (no reserve): a
/// fresh scaler, or one restarted, sizes on the rate alone and its queue and latency signals.
public struct BurstHistory: Sendable, Hashable {
    /// Seconds between observations.
    public let periodSeconds: Double
    /// Seconds of history kept (an hour: long enough to have seen the traffic's usual bursts,
    /// short enough to forget yesterday's).
    public let keepSeconds: Double
    /// The window each observed rate was counted over (a period's arrivals, or the minute of a
    /// `rate(...[1m])`), for taking counting noise out (`BurstReserve.withoutCountingNoise`);
    /// nil when the rates are not counts.
    public let countSeconds: Double?
    public private(set) var rates: [Double] = []

    /// An hour.
    public static let defaultKeepSeconds = 3600.0

    public init(periodSeconds: Double, keepSeconds: Double = defaultKeepSeconds, countSeconds: Double? = nil) {
        self.periodSeconds = max(periodSeconds, 1e-3)
        self.keepSeconds = max(keepSeconds, self.periodSeconds)
        self.countSeconds = countSeconds.map { max($0, 1e-3) }
    }

    /// Records one period's arrival rate (requests per second); negative or non-finite
    /// readings are dropped rather than poisoning the hour.
    public mutating func observe(_ rate: Double) {
        guard rate.isFinite, rate >= 0 else { return }
        rates.append(rate)
        let keep = max(1, Int((keepSeconds / periodSeconds).rounded()))
        if rates.count > keep { rates.removeFirst(rates.count - keep) }
    }

    /// Seconds of history held.
    public var seconds: Double { Double(rates.count) * periodSeconds }

    /// The mean rate over the history; nil before the first observation.
    public var mean: Double? { rates.isEmpty ? nil : rates.reduce(0, +) / Double(rates.count) }

    /// The highest rate observed in the history.
    public var peak: Double? { rates.max() }

    /// The rate the reserve is a multiple of (`BurstReserve.base`): the higher of the last five
    /// minutes' mean and the last minute's; nil before the first observation.
    public var base: Double? {
        guard !rates.isEmpty else { return nil }
        return BurstReserve.base(recent: recentMean(300), lastMinute: recentMean(60))
    }

    /// The highest rate the reserve holds capacity for (`ScalerInput.burstPeakRequestsPerSecond`)
    /// with a reserve `factor`: the lowest constant rate that would have served the whole
    /// history within the burst's share of the miss budget (`BurstReserve.staticCapacity`), or
    /// `factor` × the last five minutes' mean where that is higher. The ceiling stops a
    /// reserve for a burst on top of a burst just after one, when the last minute holds the
    /// burst and the factor would multiply it. It used to be the history's peak period rate;
    /// but a peak of one period drains within the TTFT objective, and the highest of an hour
    /// of counts carries some three deviations of counting noise: on a development trace at
    /// 4 req/s the peak 10-second rate of the first hour was 16.8 req/s, the constant rate
    /// that would have served that hour 11.9 req/s.
    /// Traffic whose bursts outgrow the hour the ceiling was measured on needs more than it,
    /// and the peak alone held the reserve below them: a development trace whose second hour
    /// was 60 % busier, with bursts twice the first hour's, missed the SLO at ×30 (97.8 %).
    /// The five-minute mean rises within a burst by a fraction of it, so the ceiling follows
    /// a level that has risen without multiplying one burst; a fifteen- or ten-minute mean
    /// followed too slowly and missed on that trace as the peak did. Nil before the first
    /// observation.
    public func ceiling(factor: Double, waitSeconds: Double, attainment: Double) -> Double? {
        guard let served = BurstReserve.staticCapacity(
            rates: rates, intervalSeconds: periodSeconds, waitSeconds: waitSeconds, missShare: BurstReserve.missShare(attainment: attainment), countSeconds: countSeconds)
        else { return nil }
        return max(served, factor * recentMean(300))
    }

    private func recentMean(_ seconds: Double) -> Double {
        let recent = rates.suffix(max(1, Int((seconds / periodSeconds).rounded())))
        return recent.reduce(0, +) / Double(recent.count)
    }

    /// The reserve factor (`BurstReserve.estimate`) over the history, for a fleet whose
    /// replicas take `lead` seconds to add, whose requests may wait `waitSeconds` (the TTFT
    /// objective), that keeps `headroom` above its load, and that may let half of the SLO's
    /// miss budget (`1 − attainment`) fall on bursts.
    public func factor(lead: Double, waitSeconds: Double, headroom: Double, attainment: Double) -> Double {
        BurstReserve.estimate(
            rates: rates, intervalSeconds: periodSeconds, lead: lead, waitSeconds: waitSeconds, floor: 1 / (1 - min(max(headroom, 0), 0.5)),
            missShare: BurstReserve.missShare(attainment: attainment), countSeconds: countSeconds)
    }
}
