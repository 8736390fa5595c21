import Foundation
import KubeModel

extension Timestamp {
    /// The wall clock as a Kubernetes timestamp, for what controllers write (condition
    /// transitions, heartbeats, Event times). KubeModel stays clock-free; this is the shell's.
    public static func now() -> Timestamp { Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }
}
