import KubeModel

/// What a request asks to do, in the terms RBAC rules are written in (kube-apiserver's
/// request info): a verb on a resource (group, resource, subresource, namespace, name) or a
/// verb on a non-resource path such as `/apis` or `/version`.
public struct RequestAttributes: Sendable, Equatable {
    public var verb: String
    public var isResourceRequest: Bool
    public var apiGroup = ""
    public var apiVersion = ""
    public var resource = ""
    public var subresource = ""
    public var namespace = ""
    public var name = ""
    /// For non-resource requests.
    public var path = ""

    public init(verb: String, apiGroup: String, resource: String, subresource: String = "", namespace: String = "", name: String = "", apiVersion: String = "") {
        self.verb = verb
        self.isResourceRequest = true
        self.apiGroup = apiGroup
        self.apiVersion = apiVersion
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
    }

    public init(verb: String, path: String) {
        self.verb = verb
        self.isResourceRequest = false
        self.path = path
    }

    /// The attributes of an HTTP request, as kube-apiserver's request-info resolver derives them.
    public init(_ request: APIRequest) {
        guard let p = ResourcePath.parse(request.path) else {
            self.init(verb: request.method == "HEAD" ? "get" : request.method.lowercased(), path: request.path)
            return
        }
        self.init(
            verb: AuditLog.verb(method: request.method, query: request.query, collection: p.name == nil), apiGroup: p.group, resource: p.plural,
            subresource: p.subresource ?? "", namespace: p.namespace ?? "", name: p.name ?? "", apiVersion: p.version)
        // A namespace object is in itself: a RoleBinding there may grant reading it.
        if p.group.isEmpty && p.plural == "namespaces", let name = p.name { namespace = name }
    }

    /// `deployments/scale` for a subresource.
    public var combinedResource: String { subresource.isEmpty ? resource : resource + "/" + subresource }

    /// kube-apiserver's 403 for these attributes: `pods "x" is forbidden: User "u" cannot get
    /// resource "pods" in API group "" in the namespace "ns"`, with RBAC's reason appended when
    /// it has one (a binding naming a role that does not exist).
    public func forbidden(_ user: UserInfo, reason: String = "") -> APIError {
        var message: String
        if !isResourceRequest {
            message = "User \"\(user.username)\" cannot \(verb) path \"\(path)\""
        } else if !namespace.isEmpty {
            message = "User \"\(user.username)\" cannot \(verb) resource \"\(combinedResource)\" in API group \"\(apiGroup)\" in the namespace \"\(namespace)\""
        } else {
            message = "User \"\(user.username)\" cannot \(verb) resource \"\(combinedResource)\" in API group \"\(apiGroup)\" at the cluster scope"
        }
        if !reason.isEmpty { message += ": " + reason }
        let qualified = isResourceRequest ? (apiGroup.isEmpty ? resource : resource + "." + apiGroup) : ""
        let subject = name.isEmpty ? qualified : "\(qualified) \"\(name)\""
        return APIError(
            code: 403, reason: "Forbidden", message: subject.isEmpty ? "forbidden: \(message)" : "\(subject) is forbidden: \(message)",
            details: .object(JSONObject([("name", .string(name)), ("group", .string(apiGroup)), ("kind", .string(resource))])))
    }
}
