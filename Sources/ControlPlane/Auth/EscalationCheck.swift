import KubeModel

/// RBAC's escalation prevention, as Kubernetes applies it to writes of Roles, ClusterRoles and
/// their bindings by anyone outside `system:masters`: a role may only grant what its writer
/// already holds (in the role's namespace, or cluster-wide) unless the writer may `escalate`
/// roles; a binding may only point at a role whose rules the writer holds, unless the writer
/// may `bind` that role.
extension APIHandler {
    func preventEscalation(_ resource: ServedResource, _ object: JSONValue, namespace: String?, _ r: APIRequest) async throws {
        guard resource.group == "rbac.authorization.k8s.io", resource.schema == nil, let user = r.user, !user.isPrivileged else { return }
        let ns = resource.namespaced ? namespace ?? "" : ""
        // One read of the RBAC objects serves every check below.
        let policy = await RBACAuthorizer(store: store).policy(namespace: ns)
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        func may(_ verb: String, _ plural: String, _ roleName: String) -> Bool {
            policy.authorize(user, RequestAttributes(verb: verb, apiGroup: resource.group, resource: plural, namespace: ns, name: roleName)).allowed
        }
        let rules: [RBACAuthorizer.Rule]
        switch resource.kind {
        case "Role", "ClusterRole":
            if may("escalate", resource.plural, name) { return }
            rules = policy.rules(of: object)
        case "RoleBinding", "ClusterRoleBinding":
            let kind = object["roleRef"]?["kind"]?.stringValue ?? ""
            let roleName = object["roleRef"]?["name"]?.stringValue ?? ""
            if may("bind", kind == "Role" ? "roles" : "clusterroles", roleName) { return }
            guard let role = policy.role(kind: kind, name: roleName) else { return }  // a binding to nothing grants nothing
            rules = policy.rules(of: role)
        default: return
        }
        var missing: [String] = []
        for rule in rules {
            if !rule.nonResourceURLs.isEmpty {
                for url in rule.nonResourceURLs {
                    for verb in rule.verbs where !policy.authorize(user, RequestAttributes(verb: verb, path: url)).allowed {
                        missing.append("{NonResourceURLs:[\(url)], Verbs:[\(verb)]}")
                    }
                }
                continue
            }
            let names = rule.resourceNames.isEmpty ? [""] : rule.resourceNames
            for group in rule.apiGroups {
                for res in rule.resources {
                    let parts = res.split(separator: "/", maxSplits: 1).map(String.init)
                    for verb in rule.verbs {
                        for n in names {
                            let a = RequestAttributes(verb: verb, apiGroup: group, resource: parts[0], subresource: parts.count > 1 ? parts[1] : "", namespace: ns, name: n)
                            if !policy.authorize(user, a).allowed {
                                missing.append("{APIGroups:[\"\(group)\"], Resources:[\"\(res)\"], Verbs:[\"\(verb)\"]\(n.isEmpty ? "" : ", ResourceNames:[\"\(n)\"]")}")
                            }
                        }
                    }
                }
            }
        }
        guard !missing.isEmpty else { return }
        let subject = resource.kind.hasSuffix("Binding") ? "bind" : "create or update"
        throw APIError(
            code: 403, reason: "Forbidden",
            message: "\(resource.plural).rbac.authorization.k8s.io \"\(name)\" is forbidden: user \"\(user.username)\" (groups=\(user.groups.map { "\"\($0)\"" }.joined(separator: ", "))) is attempting to grant RBAC permissions not currently held:\n" + missing.prefix(20).joined(separator: "\n") + (missing.count > 20 ? "\n..." : "") + " (needs the \(subject == "bind" ? "bind" : "escalate") verb to \(subject) it anyway)",
            details: .object(JSONObject([("name", .string(name)), ("group", "rbac.authorization.k8s.io"), ("kind", .string(resource.plural))])))
    }
}
