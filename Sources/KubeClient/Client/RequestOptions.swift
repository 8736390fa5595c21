import KubeModel

/// Query parameters of a list request.
public struct ListOptions: Sendable, Equatable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Page size; the server returns a `continue` token when more remain.
    public var limit: Int?
    public var continueToken: String?
    /// "0" lets the server answer from its cache; nil asks for the latest state.
    public var resourceVersion: String?
    /// Client side, not sent: the items' `metadata.managedFields` are skipped while the
    /// response is parsed, for callers that would drop them anyway (informer caches). They
    /// are often the largest part of an object.
    public var omitManagedFields = false

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil, resourceVersion: String? = nil,
        omitManagedFields: Bool = false
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.omitManagedFields = omitManagedFields
    }

    var query: [(String, String)] {
        var q: [(String, String)] = []
        if let labelSelector { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector { q.append(("fieldSelector", fieldSelector)) }
        if let limit { q.append(("limit", String(limit))) }
        if let continueToken { q.append(("continue", continueToken)) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        return q
    }
}

/// Query parameters of a watch request.
public struct WatchOptions: Sendable, Equatable {
    /// Events after this version are replayed; nil starts from "now" (synthetic ADDED events
    /// for what exists).
    public var resourceVersion: String?
    public var labelSelector: String?
    public var fieldSelector: String?
    public var allowBookmarks = true
    /// The server ends the watch after this long; clients then resume from the last version.
    public var timeoutSeconds = 300
    /// Client side, not sent: each event's `metadata.managedFields` are skipped while it is
    /// parsed (see `ListOptions.omitManagedFields`).
    public var omitManagedFields = false

    public init(
        resourceVersion: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil, allowBookmarks: Bool = true, timeoutSeconds: Int = 300,
        omitManagedFields: Bool = false
    ) {
        self.resourceVersion = resourceVersion
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.allowBookmarks = allowBookmarks
        self.timeoutSeconds = timeoutSeconds
        self.omitManagedFields = omitManagedFields
    }

    var query: [(String, String)] {
        var q: [(String, String)] = [("watch", "true"), ("timeoutSeconds", String(timeoutSeconds))]
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if let labelSelector { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector { q.append(("fieldSelector", fieldSelector)) }
        if allowBookmarks { q.append(("allowWatchBookmarks", "true")) }
        return q
    }
}

/// A patch body and the content type that says how to apply it.
public enum Patch: Sendable {
    /// RFC 7386 JSON merge patch.
    case merge(JSONValue)
    /// RFC 6902 JSON patch: a list of operations.
    case json([JSONValue])
    /// Strategic merge patch (built-in kinds only).
    case strategic(JSONValue)

    var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategic: return "application/strategic-merge-patch+json"
        }
    }

    var body: [UInt8] {
        switch self {
        case .merge(let v), .strategic(let v): return Array(JSONText.serialize(v).utf8)
        case .json(let ops): return Array(JSONText.serialize(.array(ops)).utf8)
        }
    }
}

/// How a delete proceeds: dependents' fate and preconditions.
public struct DeleteOptions: Sendable, Equatable {
    public enum Propagation: String, Sendable {
        case background = "Background", foreground = "Foreground", orphan = "Orphan"
    }
    public var propagationPolicy: Propagation?
    /// Delete only if the object still has this uid (not a same-named successor).
    public var preconditionUID: String?
    /// Delete only if nobody changed the object since this version.
    public var preconditionResourceVersion: String?
    public var gracePeriodSeconds: Int?

    public init(propagationPolicy: Propagation? = nil, preconditionUID: String? = nil, preconditionResourceVersion: String? = nil, gracePeriodSeconds: Int? = nil) {
        self.propagationPolicy = propagationPolicy
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.gracePeriodSeconds = gracePeriodSeconds
    }

    var body: [UInt8] {
        var object = JSONObject([("apiVersion", "v1"), ("kind", "DeleteOptions")])
        if let p = propagationPolicy { object["propagationPolicy"] = .string(p.rawValue) }
        if let g = gracePeriodSeconds { object["gracePeriodSeconds"] = .int(Int64(g)) }
        if preconditionUID != nil || preconditionResourceVersion != nil {
            var pre = JSONObject()
            if let u = preconditionUID { pre["uid"] = .string(u) }
            if let r = preconditionResourceVersion { pre["resourceVersion"] = .string(r) }
            object["preconditions"] = .object(pre)
        }
        return Array(JSONText.serialize(.object(object)).utf8)
    }
}

/// A page of a list: the items and the version to start watching from.
public struct ObjectList<Object: KubeResource>: Sendable {
    public var items: [Object]
    public var resourceVersion: String
    /// Set when more pages remain.
    public var continueToken: String?
}

/// One change seen on a watch.
public enum WatchEvent<Object: KubeResource>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// Nothing changed, but the stream has reached this version (resume from here).
    case bookmark(resourceVersion: String)
}
