/// How much capacity a fleet must hold above its recent load because bursts arrive faster than
/// replicas start: the `LoadProfile.burstFactor` / `ScalerInput.burstFactor` of a rate history.
///
/// For every interval t, the fleet is assumed sized on the mean rate of the `baseWindow`
/// seconds that ended `lead` seconds earlier (what a scaler could have had serving by t, given
/// a cold start). The reserve R is the smallest multiple of that base such that the requests
/// arriving above R × base, summed over all intervals, are at most `missShare` of all requests.
/// Counting requests, not time, matches how SLO attainment is counted: a rare burst that
/// carries many requests needs a reserve, a rare blip does not.
public enum BurstReserve {
    /// The rate a fleet holds in reserve: `factor` × the recent rate, but never more than the
    /// highest rate of the history the factor was measured on (`peak`, when known).
    public static func reserveRate(recent: Double, factor: Double, peak: Double?) -> Double {
        min(recent * factor, peak ?? .infinity)
    }

    /// - Parameters:
    ///   - rates: arrival rates (requests per second) of consecutive intervals, oldest first.
    ///   - intervalSeconds: the length of one interval.
    ///   - lead: cold start plus one scaling period, seconds.
    ///   - missShare: the share of requests that may fall beyond the reserve (e.g. half the
    ///     SLO's miss budget).
    /// - Returns: R ≥ 1; 1 while the history is shorter than the base window plus the lead.
    public static func estimate(rates: [Double], intervalSeconds: Double, lead: Double, baseWindowSeconds: Double = 300, missShare: Double) -> Double {
        guard intervalSeconds > 0, missShare > 0, lead >= 0 else { return 1 }
        let window = max(1, Int((baseWindowSeconds / intervalSeconds).rounded()))
        let lag = Int((lead / intervalSeconds).rounded(.up))
        guard rates.count > window + lag else { return 1 }
        var prefix = [0.0]
        prefix.reserveCapacity(rates.count + 1)
        for r in rates { prefix.append(prefix.last! + max(0, r)) }
        var samples: [(count: Double, base: Double)] = []
        for t in (window + lag)..<rates.count {
            let to = t - lag, from = to - window
            samples.append((max(0, rates[t]) * intervalSeconds, (prefix[to] - prefix[from]) / Double(window) * intervalSeconds))
        }
        let total = samples.reduce(0) { $0 + $1.count }
        guard total > 0 else { return 1 }
        func excessShare(_ r: Double) -> Double { samples.reduce(0) { $0 + max(0, $1.count - r * $1.base) } / total }
        if excessShare(1) <= missShare { return 1 }
        var lo = 1.0, hi = 2.0
        while excessShare(hi) > missShare && hi < 1000 {
            lo = hi
            hi *= 2
        }
        while hi - lo > 0.01 * lo {
            let mid = (lo + hi) / 2
            if excessShare(mid) > missShare { lo = mid } else { hi = mid }
        }
        return hi
    }
}
