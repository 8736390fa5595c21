/// A token bucket in the manner of Go's `rate.Limiter`: `rate` tokens a second accrue up to
/// `burst`; each reservation takes one and says how long to wait until it is covered.
/// Pure arithmetic over the times passed in, so it is tested without a clock.
public struct TokenBucket: Sendable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var last: Double?

    public init(rate: Double, burst: Int) {
        precondition(rate > 0 && burst > 0, "a token bucket needs a positive rate and burst")
        self.rate = rate
        self.burst = Double(burst)
        self.tokens = Double(burst)
    }

    /// Takes one token at `now` (seconds on any monotonic scale) and returns how many seconds
    /// the caller must wait before acting; 0 while the burst lasts.
    public mutating func reserve(now: Double) -> Double {
        if let last, now > last { tokens = min(burst, tokens + (now - last) * rate) }
        last = max(last ?? now, now)
        tokens -= 1
        return tokens >= 0 ? 0 : -tokens / rate
    }
}

/// Client-side throttling shared by every request of one client (client-go's QPS and burst).
public final class RequestThrottle: Sendable {
    private let bucket: LockedValue<TokenBucket>
    private let origin = ContinuousClock.now

    public init(qps: Double, burst: Int) { bucket = LockedValue(TokenBucket(rate: qps, burst: burst)) }

    /// Waits for this request's turn.
    public func acquire() async throws {
        let now = (ContinuousClock.now - origin).seconds
        let wait = bucket.withLock { $0.reserve(now: now) }
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
