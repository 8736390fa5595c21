import Foundation

/// How fast simulated time runs: every modelled delay (container start-up, weight loading,
/// serving) is divided by `speedup`. 1 is real time; tests and demos use 10-1000.
public struct SimulationClock: Sendable {
    public let speedup: Double

    public init(speedup: Double = 1) {
        precondition(speedup > 0 && speedup.isFinite)
        self.speedup = speedup
    }

    /// A modelled delay as a real one, never below `minimum` real seconds (heartbeats and
    /// polls must not spin however large the speed-up).
    public func scaled(seconds: Double, minimum: Double = 0) -> Duration {
        .milliseconds(Int64((max(seconds / speedup, minimum) * 1000).rounded()))
    }

    /// Modelled seconds since `start`, read from the wall clock.
    public func modelSeconds(since start: Date) -> Double { Date().timeIntervalSince(start) * speedup }
}
