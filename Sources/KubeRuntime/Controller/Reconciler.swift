import KubeClient
import KubeModel

/// Which object to reconcile: the work-queue key.
public typealias ReconcileRequest = ObjectKey

/// What a reconcile asks for next.
public enum ReconcileResult: Sendable, Equatable {
    /// Converged; run again only when something changes.
    case done
    /// Run again soon, with the rate-limited backoff.
    case requeue
    /// Run again after this long (e.g. to re-check a time-based condition).
    case requeueAfter(Duration)
}

/// An error that retrying will not fix (bad user input the reconciler cannot act on). The
/// key is not retried; the next change to the object queues it again.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    public var underlying: any Error
    public init(_ underlying: any Error) { self.underlying = underlying }
    public var description: String { "terminal: \(underlying)" }
}

/// Whether a reconcile error should be retried with backoff: everything except
/// `TerminalError` and requests the API server rejected as malformed or invalid.
func shouldRetry(_ error: any Error) -> Bool {
    if error is TerminalError { return false }
    if let api = error as? KubeAPIError {
        switch api {
        case .invalid, .badRequest, .methodNotAllowed, .unsupportedMediaType, .requestEntityTooLarge: return false
        default: return true
        }
    }
    return true
}
