import Foundation
import KubeModel
import Synchronization

/// Every request as a Kubernetes audit event (`audit.k8s.io/v1` Event, level Metadata, one JSON
/// object per line), as kube-apiserver's `--audit-log-path` writes them: who (user and user
/// agent), what (verb, resource, subresource, namespace, name), the answer's code, and when.
/// It answers an admin's "who changed this?", and a run's log is what the operator's RBAC is
/// derived from.
public final class AuditLog: Sendable {
    private let handle: Mutex<FileHandle>

    /// Opens `path` for appending (created if missing).
    public init(path: String) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        _ = try h.seekToEnd()
        handle = Mutex(h)
    }

    /// The verb RBAC checks for a request, as kube-apiserver's request-info resolver names it.
    static func verb(method: String, query: [String: String], collection: Bool) -> String {
        switch method {
        case "GET", "HEAD": return ["true", "1"].contains(query["watch"] ?? "") ? "watch" : (collection ? "list" : "get")
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return "patch"
        case "DELETE": return collection ? "deletecollection" : "delete"
        default: return method.lowercased()
        }
    }

    func record(_ request: APIRequest, user: UserInfo?, impersonated: UserInfo? = nil, code: Int, stage: String, received: Date, sourceIP: String?) {
        var event = JSONObject()
        event["kind"] = "Event"
        event["apiVersion"] = "audit.k8s.io/v1"
        event["level"] = "Metadata"
        event["auditID"] = .string(UUID().uuidString.lowercased())
        event["stage"] = .string(stage)
        let query = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        event["requestURI"] = .string(request.path + (query.isEmpty ? "" : "?" + query))
        let path = ResourcePath.parse(request.path)
        event["verb"] = .string(path.map { Self.verb(method: request.method, query: request.query, collection: $0.name == nil) } ?? request.method.lowercased())
        event["user"] = (user ?? UserInfo(username: "system:anonymous", groups: ["system:unauthenticated"])).json
        if let impersonated { event["impersonatedUser"] = impersonated.json }
        if let sourceIP { event["sourceIPs"] = .array([.string(sourceIP)]) }
        if let agent = request.userAgent { event["userAgent"] = .string(agent) }
        if let path {
            var ref = JSONObject()
            ref["resource"] = .string(path.plural)
            if let ns = path.namespace { ref["namespace"] = .string(ns) }
            if let name = path.name { ref["name"] = .string(name) }
            ref["apiGroup"] = .string(path.group)
            ref["apiVersion"] = .string(path.version)
            if let sub = path.subresource { ref["subresource"] = .string(sub) }
            event["objectRef"] = .object(ref)
        }
        event["responseStatus"] = .object(JSONObject([("metadata", .object(JSONObject())), ("code", .int(Int64(code)))]))
        event["requestReceivedTimestamp"] = .string(MicroTime(secondsSinceEpoch: received.timeIntervalSince1970).description)
        event["stageTimestamp"] = .string(MicroTime(secondsSinceEpoch: Date().timeIntervalSince1970).description)
        let line = Data((JSONText.serialize(.object(event)) + "\n").utf8)
        handle.withLock { try? $0.write(contentsOf: line) }
    }
}
