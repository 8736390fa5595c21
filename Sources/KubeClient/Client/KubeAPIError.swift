import KubeModel

/// A failed request, from the API server's `Status` body (or the transport), as a Swift
/// error a caller can switch on; `isRetryable` says whether trying again can help.
public enum KubeAPIError: Error, Sendable, CustomStringConvertible {
    case notFound(StatusDetails)
    /// A stale resourceVersion or a precondition that no longer holds: re-read and retry.
    case conflict(StatusDetails)
    case alreadyExists(StatusDetails)
    /// 422: the object failed validation; `details.causes` name each field.
    case invalid(StatusDetails)
    case badRequest(StatusDetails)
    /// 410: the resourceVersion was compacted; watchers must list again.
    case gone(StatusDetails)
    case unauthorized(StatusDetails)
    case forbidden(StatusDetails)
    case methodNotAllowed(StatusDetails)
    case unsupportedMediaType(StatusDetails)
    case requestEntityTooLarge(StatusDetails)
    /// 429: the server (or priority and fairness) asks to slow down.
    case tooManyRequests(StatusDetails, retryAfter: Duration?)
    /// 5xx other than 504.
    case server(StatusDetails, retryAfter: Duration?)
    /// 504 or the client's own deadline.
    case timeout(String)
    /// The connection failed or broke before a response arrived.
    case transport(String)
    /// A response that is not what the API promises (not JSON, wrong shape).
    case decoding(String)

    /// The `Status` fields a caller may need: HTTP code, reason, message, and causes.
    public struct StatusDetails: Sendable, Equatable {
        public var code: Int
        public var reason: String
        public var message: String
        public var name: String?
        public var kind: String?
        public var causes: [Cause]

        public struct Cause: Sendable, Equatable {
            public var reason: String
            public var message: String
            public var field: String
        }

        public init(code: Int, reason: String, message: String, name: String? = nil, kind: String? = nil, causes: [Cause] = []) {
            self.code = code
            self.reason = reason
            self.message = message
            self.name = name
            self.kind = kind
            self.causes = causes
        }
    }

    /// Whether the same request may succeed later without changing it (server trouble,
    /// throttling, timeouts, broken connections). Conflicts need a re-read first, so they
    /// count as retryable for a reconciler (which re-reads) but not for a blind resend.
    public var isRetryable: Bool {
        switch self {
        case .conflict, .tooManyRequests, .server, .timeout, .transport, .gone: return true
        default: return false
        }
    }

    /// How long the server asked the client to wait, if it did.
    public var retryAfter: Duration? {
        switch self {
        case .tooManyRequests(_, let d), .server(_, let d): return d
        default: return nil
        }
    }

    public var details: StatusDetails? {
        switch self {
        case .notFound(let d), .conflict(let d), .alreadyExists(let d), .invalid(let d), .badRequest(let d), .gone(let d),
            .unauthorized(let d), .forbidden(let d), .methodNotAllowed(let d), .unsupportedMediaType(let d),
            .requestEntityTooLarge(let d), .tooManyRequests(let d, _), .server(let d, _):
            return d
        case .timeout, .transport, .decoding: return nil
        }
    }

    public var code: Int? { details?.code }

    public var description: String {
        switch self {
        case .timeout(let m): return "timeout: \(m)"
        case .transport(let m): return "transport error: \(m)"
        case .decoding(let m): return "unexpected response: \(m)"
        default:
            let d = details!
            var text = "\(d.code) \(d.reason): \(d.message)"
            if let after = retryAfter { text += " (retry after \(after))" }
            return text
        }
    }

    /// Maps an HTTP error response to the error its `Status` body (or, lacking one, its code) means.
    public static func from(statusCode: Int, body: [UInt8], retryAfterHeader: String?) -> KubeAPIError {
        var details = StatusDetails(code: statusCode, reason: defaultReason(statusCode), message: String(decoding: body.prefix(512), as: UTF8.self))
        if case .object(let status)? = try? JSONText.parse(body), status["kind"]?.stringValue == "Status" {
            details.reason = status["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? details.reason
            details.message = status["message"]?.stringValue ?? ""
            details.name = status["details"]?["name"]?.stringValue
            details.kind = status["details"]?["kind"]?.stringValue
            details.causes = (status["details"]?["causes"]?.arrayValue ?? []).map {
                .init(reason: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "", field: $0["field"]?.stringValue ?? "")
            }
        }
        let retryAfter = retryAfterHeader.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { Duration.seconds($0) }
        switch statusCode {
        case 400: return .badRequest(details)
        case 401: return .unauthorized(details)
        case 403: return .forbidden(details)
        case 404: return .notFound(details)
        case 405: return .methodNotAllowed(details)
        case 409: return details.reason == "AlreadyExists" ? .alreadyExists(details) : .conflict(details)
        case 410: return .gone(details)
        case 413: return .requestEntityTooLarge(details)
        case 415: return .unsupportedMediaType(details)
        case 422: return .invalid(details)
        case 429: return .tooManyRequests(details, retryAfter: retryAfter)
        case 504: return .timeout(details.message)
        default: return .server(details, retryAfter: retryAfter)
        }
    }

    static func defaultReason(_ code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 409: return "Conflict"
        case 410: return "Expired"
        case 413: return "RequestEntityTooLarge"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 504: return "Timeout"
        default: return "InternalError"
        }
    }
}

extension KubeAPIError {
    public var isNotFound: Bool { if case .notFound = self { return true } else { return false } }
    public var isConflict: Bool { if case .conflict = self { return true } else { return false } }
    public var isAlreadyExists: Bool { if case .alreadyExists = self { return true } else { return false } }
    public var isGone: Bool { if case .gone = self { return true } else { return false } }
}
