import Foundation

/// The operator's clock. On a real cluster it is the wall clock. Against `llmops up
/// --time-scale F`, where every modelled delay runs F times faster, the operator runs the same
/// fast-forward (`speedup` F): rates, windows and cool-downs are then in the same modelled
/// seconds as the serving engines' latencies and the capacity model.
public struct OperatorClock: Sendable {
    public let speedup: Double
    private let origin: Date

    public init(speedup: Double = 1) {
        self.speedup = max(speedup, 1e-6)
        origin = Date()
    }

    /// Seconds since the epoch, in the operator's time.
    public func now() -> Double {
        origin.timeIntervalSince1970 + Date().timeIntervalSince(origin) * speedup
    }

    /// A wait of `seconds` operator time, in real time.
    public func real(_ seconds: Double) -> Duration { .milliseconds(Int64(max(seconds / speedup, 0.05) * 1000)) }
}
