import Foundation
import KubeModel

/// A request, as the transport hands it over (HTTP framing, TLS and auth are done before).
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var body: [UInt8]
    public var contentType: String?
    /// The Accept header: `as=Table;g=meta.k8s.io` asks for server-side printing.
    public var accept: String?
    public var userAgent: String?
    /// Who is asking, once authenticated (and impersonation applied); nil inside the server.
    public var user: UserInfo?

    public init(
        method: String, path: String, query: [String: String] = [:], body: [UInt8] = [], contentType: String? = nil, accept: String? = nil,
        userAgent: String? = nil
    ) {
        self.userAgent = userAgent
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.contentType = contentType
        self.accept = accept
    }

    /// Who is writing, for managedFields: the `fieldManager` parameter, else the client's
    /// User-Agent up to its first "/" (as the Kubernetes API server derives it).
    public var fieldManager: String {
        if let m = query["fieldManager"], !m.isEmpty { return m }
        let agent = userAgent.flatMap { $0.split(separator: "/").first.map(String.init) } ?? ""
        return agent.isEmpty ? "unknown" : String(agent.prefix(128))
    }

    /// `dryRun=All`: validate and answer as if written, store nothing.
    public var isDryRun: Bool { query["dryRun"] == "All" }

    /// The media type without parameters: `application/json` from `application/json; charset=utf-8`.
    public var mediaType: String? {
        contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    /// Whether the client asked for a meta.k8s.io Table (as kubectl get does).
    public var wantsTable: Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").first.map { $0.contains("as=Table") && $0.contains("g=meta.k8s.io") } ?? false
    }
}

public struct APIResponse: Sendable {
    public var status: Int
    public var body: JSONValue
    /// The body already serialised, when it was cheaper to assemble as bytes (large lists);
    /// `body` is then only a summary for logs.
    public var encodedBody: [UInt8]?
    /// Warnings for the `Warning` header (e.g. pruned unknown fields).
    public var warnings: [String]
    /// Overrides `application/json` (aggregated discovery names its kind in the media type).
    public var contentType: String?

    public init(status: Int, body: JSONValue, warnings: [String] = []) {
        self.status = status
        self.body = body
        self.warnings = warnings
    }

    public init(status: Int, encodedBody: [UInt8], summary: JSONValue) {
        self.status = status
        self.body = summary
        self.encodedBody = encodedBody
        self.warnings = []
    }

    /// The JSON body as sent.
    public var bytes: [UInt8] { encodedBody ?? JSONText.bytes(body) }
}

/// `metav1.Status` failures, with the HTTP code and reason Kubernetes uses for each.
public struct APIError: Error, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSONValue?

    public static func notFound(_ kind: String, _ name: String, group: String = "") -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(kind.lowercased()) \"\(name)\" not found",
            details: .object(JSONObject([("name", .string(name)), ("group", .string(group)), ("kind", .string(kind))])))
    }

    public static func badRequest(_ message: String) -> APIError { APIError(code: 400, reason: "BadRequest", message: message) }

    /// 422 with one cause per field error, as `kubectl` prints them.
    public static func invalid(kind: String, name: String, group: String, _ errors: [FieldError]) -> APIError {
        let causes: [JSONValue] = errors.map { e in
            // A cause's message leaves the field out, as kube-apiserver's do: clients print
            // "field: message".
            .object(JSONObject([("reason", .string(e.kind.rawValue)), ("message", .string(e.message)), ("field", .string(e.path))]))
        }
        let list = errors.map(\.description).joined(separator: ", ")
        return APIError(
            code: 422, reason: "Invalid", message: "\(kind)\(group.isEmpty ? "" : "." + group) \"\(name)\" is invalid: [\(list)]",
            details: .object(JSONObject([("name", .string(name)), ("group", .string(group)), ("kind", .string(kind)), ("causes", .array(causes))])))
    }

    public var status: JSONValue {
        var o = JSONObject([
            ("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())), ("status", "Failure"), ("message", .string(message)),
            ("reason", .string(reason)),
        ])
        if let details { o["details"] = details }
        o["code"] = .int(Int64(code))
        return .object(o)
    }

    public var response: APIResponse { APIResponse(status: code, body: status) }
}
