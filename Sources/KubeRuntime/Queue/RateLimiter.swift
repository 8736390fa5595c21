import KubeClient

/// How long a failed item waits before its next attempt: the larger of a per-item
/// exponential backoff (5 ms doubling to 1000 s) and an overall token bucket (10 per second,
/// burst 100), which is controller-runtime's default. Pure over the times passed in.
public struct RateLimiter<Key: Hashable & Sendable>: Sendable {
    public var baseDelay: Duration
    public var maxDelay: Duration
    private var failures: [Key: Int] = [:]
    private var bucket: TokenBucket

    public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000), qps: Double = 10, burst: Int = 100) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.bucket = TokenBucket(rate: qps, burst: burst)
    }

    /// The delay for another retry of `key` at time `now` (seconds, monotonic); counts the failure.
    public mutating func when(_ key: Key, now: Double) -> Duration {
        let n = failures[key, default: 0]
        failures[key] = n + 1
        // 2^n overflows Duration long after maxDelay is reached; cap the exponent.
        let exponential = n >= 40 ? maxDelay : min(maxDelay, baseDelay * Double(1 << UInt64(n)))
        let throttled = Duration.milliseconds(Int64((bucket.reserve(now: now) * 1000).rounded(.up)))
        return max(exponential, throttled)
    }

    /// Forgets `key`'s failures after a success, so its next failure starts from the base delay.
    public mutating func forget(_ key: Key) { failures[key] = nil }

    public func retries(_ key: Key) -> Int { failures[key, default: 0] }
}
