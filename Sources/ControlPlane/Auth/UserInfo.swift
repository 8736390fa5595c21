import KubeModel

/// Who made a request, as Kubernetes' authenticators describe a user: a name, an optional
/// uid, the groups RBAC bindings can name, and free-form extra attributes.
public struct UserInfo: Sendable, Equatable {
    public var username: String
    public var uid: String?
    public var groups: [String]
    public var extra: [String: [String]]

    public init(username: String, uid: String? = nil, groups: [String], extra: [String: [String]] = [:]) {
        self.username = username
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// The group whose members may do everything, whatever RBAC holds (kube-apiserver's
    /// privileged group).
    public static let mastersGroup = "system:masters"
    public static let authenticated = "system:authenticated"
    public static let serviceAccountPrefix = "system:serviceaccount:"

    /// The identity a ServiceAccount's token carries, with the groups Kubernetes adds.
    public static func serviceAccount(namespace: String, name: String, uid: String? = nil, extra: [String: [String]] = [:]) -> UserInfo {
        UserInfo(
            username: serviceAccountPrefix + namespace + ":" + name, uid: uid,
            groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", authenticated], extra: extra)
    }

    /// Namespace and name when this is a ServiceAccount's username.
    public var serviceAccount: (namespace: String, name: String)? {
        Self.parseServiceAccount(username)
    }

    static func parseServiceAccount(_ username: String) -> (namespace: String, name: String)? {
        guard username.hasPrefix(serviceAccountPrefix) else { return nil }
        let parts = username.dropFirst(serviceAccountPrefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    public var isPrivileged: Bool { groups.contains(Self.mastersGroup) }

    /// The `userInfo` object of reviews and audit events.
    public var json: JSONValue {
        var o = JSONObject()
        o["username"] = .string(username)
        if let uid { o["uid"] = .string(uid) }
        o["groups"] = .array(groups.map(JSONValue.string))
        if !extra.isEmpty {
            o["extra"] = .object(JSONObject(extra.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map(JSONValue.string))) }))
        }
        return .object(o)
    }
}

/// The `Impersonate-*` headers of a request (`kubectl --as`, `--as-group`, `--as-uid`).
public struct Impersonation: Sendable, Equatable {
    public var user: String?
    public var groups: [String] = []
    public var uid: String?
    public var extra: [String: [String]] = [:]

    public init(user: String? = nil, groups: [String] = [], uid: String? = nil, extra: [String: [String]] = [:]) {
        self.user = user
        self.groups = groups
        self.uid = uid
        self.extra = extra
    }

    public var isEmpty: Bool { user == nil && groups.isEmpty && uid == nil && extra.isEmpty }
}
