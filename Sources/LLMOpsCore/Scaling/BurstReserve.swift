/// How much capacity a fleet must hold above its recent load because bursts arrive faster than
/// replicas start: the `LoadProfile.burstFactor` / `ScalerInput.burstFactor` of a rate history.
///
/// For every interval t, the fleet is assumed sized on a base rate measured `lead` seconds
/// earlier (what a scaler could have had serving by t, given a cold start), and to serve R ×
/// that base. The base is the higher of the mean rate of the last `baseWindow` seconds and of
/// the last `levelWindow` seconds (`base(recent:lastMinute:)`): a rise that has lasted a minute
/// is the new level, not a burst, and the reserve is held above it; with the five-minute mean
/// alone the reserve trailed a ramp of several minutes and the fleet ran into it. Arrivals
/// beyond the fleet's rate wait in one FIFO queue (a fluid model, rates constant within an
/// interval); a request misses when the work ahead of it exceeds `waitSeconds` of service. The reserve R is the smallest multiple such
/// that the missing requests are at most `missShare` of all requests.
///
/// Counting requests, not time, matches how SLO attainment is counted: a rare burst that
/// carries many requests needs a reserve, a rare blip does not. Counting the queue matters at
/// scale: under a sustained shortfall every request behind the backlog misses, not only the
/// excess over the fleet's rate, so counting the excess alone sized fleets that missed the SLO
/// on ramps that lasted minutes.
public enum BurstReserve {
    /// The rate a fleet holds in reserve: `factor` × the recent rate, but never more than the
    /// highest rate of the history the factor was measured on (`peak`, when known).
    public static func reserveRate(recent: Double, factor: Double, peak: Double?) -> Double {
        min(recent * factor, peak ?? .infinity)
    }

    /// The share of requests that may miss because of bursts beyond the reserve: half of the
    /// SLO's miss budget (1 − attainment), the other half left to the steady sizing. The design
    /// step, the running policy and the operator all size with this share.
    public static func missShare(attainment: Double) -> Double { max(1 - attainment, 1e-6) / 2 }

    /// The rate the reserve is a multiple of: the higher of the recent (five-minute) mean and
    /// the last minute's rate, when known.
    public static func base(recent: Double, lastMinute: Double?) -> Double {
        max(recent, lastMinute ?? 0)
    }

    /// - Parameters:
    ///   - rates: arrival rates (requests per second) of consecutive intervals, oldest first.
    ///   - intervalSeconds: the length of one interval.
    ///   - lead: cold start plus one scaling period, seconds.
    ///   - baseWindowSeconds: the recent mean's window (five minutes).
    ///   - levelWindowSeconds: the level's window (one minute); equal to the base window, the
    ///     base is the recent mean alone.
    ///   - waitSeconds: how long a request may queue and still meet its TTFT objective.
    ///   - floor: the multiple of the base the fleet serves whatever R is: a scaler that sizes
    ///     for the base at SLO capacity with headroom h serves at least base / (1 − h). Without
    ///     it, a fleet at exactly its load never drains the backlog of even a small blip.
    ///   - missShare: the share of requests that may miss (e.g. half the SLO's miss budget).
    ///   - countSeconds: the window each rate was counted over, when the rates are counts of
    ///     arrivals (see `withoutCountingNoise`); nil takes them as they are.
    /// - Returns: R ≥ 1; 1 while the history is shorter than the base window plus the lead.
    public static func estimate(
        rates: [Double], intervalSeconds: Double, lead: Double, baseWindowSeconds: Double = 300, levelWindowSeconds: Double = 60, waitSeconds: Double = 0,
        floor: Double = 1, missShare: Double, countSeconds: Double? = nil
    ) -> Double {
        guard intervalSeconds > 0, missShare > 0, lead >= 0 else { return 1 }
        let rates = countSeconds.map { withoutCountingNoise(rates, intervalSeconds: intervalSeconds, countSeconds: $0, windowSeconds: baseWindowSeconds) } ?? rates
        let window = max(1, Int((baseWindowSeconds / intervalSeconds).rounded()))
        let lag = Int((lead / intervalSeconds).rounded(.up))
        guard rates.count > window + lag else { return 1 }
        let prefix = prefixSums(rates)
        var samples: [(rate: Double, base: Double)] = []
        let level = max(1, Int((levelWindowSeconds / intervalSeconds).rounded()))
        for t in (window + lag)..<rates.count {
            let to = t - lag, from = to - window
            let last = min(level, window)
            let base = Self.base(recent: (prefix[to] - prefix[from]) / Double(window), lastMinute: (prefix[to] - prefix[to - last]) / Double(last))
            samples.append((max(0, rates[t]), base))
        }
        func missShareAt(_ r: Double) -> Double {
            fluidMissShare(samples.map { ($0.rate, max(r, floor) * $0.base) }, intervalSeconds: intervalSeconds, waitSeconds: waitSeconds)
        }
        guard samples.contains(where: { $0.rate > 0 }) else { return 1 }
        if missShareAt(1) <= missShare { return 1 }
        var lo = 1.0, hi = 2.0
        while missShareAt(hi) > missShare && hi < 1000 {
            lo = hi
            hi *= 2
        }
        while hi - lo > 0.01 * lo {
            let mid = (lo + hi) / 2
            if missShareAt(mid) > missShare { lo = mid } else { hi = mid }
        }
        return hi
    }

    /// The lowest constant rate that would have served the whole history with at most
    /// `missShare` of its requests missing, in the same fluid model as `estimate` (requests
    /// may queue `waitSeconds`): the most a reserve ever needs to hold for traffic like it.
    /// Below the history's peak interval rate wherever a peak is short enough for its backlog
    /// to drain within the wait: a ten-second spike 20 % above the rest needs no capacity of
    /// its own with a two-second TTFT objective. Counting noise is taken out first, as in
    /// `estimate`: the highest of a few hundred Poisson counts stands some three deviations
    /// above its intensity, which the replicas' SLO capacity already pays for. Nil for an
    /// empty history.
    public static func staticCapacity(rates: [Double], intervalSeconds: Double, waitSeconds: Double, missShare: Double, countSeconds: Double? = nil) -> Double? {
        guard intervalSeconds > 0, !rates.isEmpty else { return nil }
        let rates = countSeconds.map { withoutCountingNoise(rates, intervalSeconds: intervalSeconds, countSeconds: $0, windowSeconds: 300) } ?? rates
        let top = max(0, rates.max()!)
        guard top > 0, missShare > 0 else { return top }
        func missShareAt(_ c: Double) -> Double {
            fluidMissShare(rates.map { (max(0, $0), c) }, intervalSeconds: intervalSeconds, waitSeconds: waitSeconds)
        }
        // The mean never serves a varying history; the peak always does.
        var lo = 0.0, hi = top
        while hi - lo > 0.005 * hi {
            let mid = (lo + hi) / 2
            if missShareAt(mid) > missShare { lo = mid } else { hi = mid }
        }
        return hi
    }

    /// The share of requests that miss in a fluid FIFO queue served at `capacity` through
    /// each interval of `rate` arrivals: a request misses when the work ahead of it exceeds
    /// `waitSeconds` of service.
    static func fluidMissShare(_ intervals: [(rate: Double, capacity: Double)], intervalSeconds span: Double, waitSeconds: Double) -> Double {
        let wait = max(0, waitSeconds)
        var backlog = 0.0, missed = 0.0, total = 0.0
        for (a, c) in intervals {
            let limit = c * wait  // work ahead of a request that still lets it meet the target
            // Seconds of this interval during which the backlog exceeds the limit.
            var late: Double
            if a > c {
                late = max(0, span - max(0, (limit - backlog) / (a - c)))
            } else if backlog > limit {
                late = c > a ? min(span, (backlog - limit) / (c - a)) : span
            } else {
                late = 0
            }
            missed += a * late
            total += a * span
            backlog = max(0, backlog + (a - c) * span)
        }
        return total > 0 ? missed / total : 0
    }

    /// How many standard deviations of counting noise a rate must stray from its surroundings
    /// before the excess counts as a burst.
    public static let noiseDeviations = 2.0

    /// Rates counted from arrivals carry Poisson counting noise: n arrivals over T seconds at an
    /// intensity λ vary by √(λT), so a rate varies by √(λ/T) around the intensity even when the
    /// traffic is perfectly steady. A replica's SLO capacity is measured at steady Poisson load,
    /// so that noise is already paid for; counted again as bursts, at a few requests per second
    /// over 15 seconds, it asked for a reserve of 1.4–1.6× on traffic that needed none. Each
    /// rate is moved toward the mean of the `windowSeconds` around it by up to
    /// `noiseDeviations` × √(mean / countSeconds) (a soft threshold): what noise alone explains
    /// goes, a burst keeps all but that margin. At hundreds of requests per second the margin
    /// is a few per cent and the rates are nearly unchanged.
    public static func withoutCountingNoise(_ rates: [Double], intervalSeconds: Double, countSeconds: Double, windowSeconds: Double) -> [Double] {
        guard intervalSeconds > 0, countSeconds > 0, rates.count > 1 else { return rates }
        let prefix = prefixSums(rates)
        let half = max(1, Int((windowSeconds / intervalSeconds / 2).rounded()))
        return rates.indices.map { t in
            let from = max(0, t - half), to = min(rates.count, t + half + 1)
            let mean = (prefix[to] - prefix[from]) / Double(to - from)
            let margin = noiseDeviations * (mean / countSeconds).squareRoot()
            let deviation = max(0, rates[t]) - mean
            return mean + (deviation > 0 ? max(0, deviation - margin) : min(0, deviation + margin))
        }
    }

    /// Running totals of the rates (negative ones as 0), with a leading 0: the mean of
    /// rates[a..<b] is (p[b] − p[a]) / (b − a).
    private static func prefixSums(_ rates: [Double]) -> [Double] {
        var prefix = [0.0]
        prefix.reserveCapacity(rates.count + 1)
        for r in rates { prefix.append(prefix.last! + max(0, r)) }
        return prefix
    }
}
