import KubeModel

/// Role-based access control over the Roles, ClusterRoles, RoleBindings and
/// ClusterRoleBindings in the store, evaluated as Kubernetes' RBAC authorizer does: a request
/// is allowed when any binding that names the user (directly, by group, or as a
/// ServiceAccount) refers to a role with a rule covering it; nothing else is allowed. ClusterRoles
/// with an `aggregationRule` hold the rules of the ClusterRoles their selectors match.
/// Members of `system:masters` are allowed everything before RBAC is asked.
public struct RBACAuthorizer: Sendable {
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        /// Which binding allowed it (`RBAC: allowed by ...`), or why rules could not be read.
        public var reason: String
    }

    /// One rule, as RBAC writes it.
    public struct Rule: Sendable, Equatable {
        public var verbs: [String]
        public var apiGroups: [String]
        public var resources: [String]
        public var resourceNames: [String]
        public var nonResourceURLs: [String]

        init(_ v: JSONValue) {
            func strings(_ k: String) -> [String] { v[k]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            verbs = strings("verbs")
            apiGroups = strings("apiGroups")
            resources = strings("resources")
            resourceNames = strings("resourceNames")
            nonResourceURLs = strings("nonResourceURLs")
        }

        public func allows(_ a: RequestAttributes) -> Bool {
            guard verbs.contains("*") || verbs.contains(a.verb) else { return false }
            if !a.isResourceRequest {
                return nonResourceURLs.contains { url in url == "*" || url == a.path || (url.hasSuffix("*") && a.path.hasPrefix(url.dropLast())) }
            }
            guard apiGroups.contains("*") || apiGroups.contains(a.apiGroup) else { return false }
            let combined = a.combinedResource
            let resourceMatch = resources.contains { r in
                r == "*" || r == combined || (!a.subresource.isEmpty && r == "*/" + a.subresource)
            }
            guard resourceMatch else { return false }
            return resourceNames.isEmpty || (!a.name.isEmpty && resourceNames.contains(a.name))
        }

        public var json: JSONValue {
            var o = JSONObject()
            o["verbs"] = .array(verbs.map(JSONValue.string))
            if nonResourceURLs.isEmpty {
                o["apiGroups"] = .array(apiGroups.map(JSONValue.string))
                o["resources"] = .array(resources.map(JSONValue.string))
                if !resourceNames.isEmpty { o["resourceNames"] = .array(resourceNames.map(JSONValue.string)) }
            } else {
                o["nonResourceURLs"] = .array(nonResourceURLs.map(JSONValue.string))
            }
            return .object(o)
        }
    }

    let store: ObjectStore

    public init(store: ObjectStore) { self.store = store }

    public func authorize(_ user: UserInfo, _ a: RequestAttributes) async -> Decision {
        if user.isPrivileged { return Decision(allowed: true, reason: "") }
        return await policy(namespace: a.namespace).authorize(user, a)
    }

    /// Every rule that applies to the user in `namespace` (cluster-wide ones included), for
    /// SelfSubjectRulesReview; `incomplete` when a binding names a role that is missing.
    public func rules(_ user: UserInfo, namespace: String) async -> (rules: [Rule], incomplete: Bool) {
        if user.isPrivileged {
            let all = Rule(.object(JSONObject([("verbs", ["*"]), ("apiGroups", ["*"]), ("resources", ["*"])])))
            let urls = Rule(.object(JSONObject([("verbs", ["*"]), ("nonResourceURLs", ["*"])])))
            return ([all, urls], false)
        }
        return await policy(namespace: namespace).rules(user)
    }

    /// The RBAC objects that decide requests in `namespace` (the cluster-wide ones, and the
    /// namespace's Roles and RoleBindings), read once for any number of checks.
    public func policy(namespace: String) async -> Policy {
        func objects(_ resource: String, _ ns: String?) async -> [JSONValue] {
            await store.list(prefix: StoreKey.prefix(resource: resource, namespace: ns)).items
        }
        let local = namespace.isEmpty
        return Policy(
            namespace: namespace, clusterRoles: await objects("rbac.authorization.k8s.io/clusterroles", nil),
            clusterRoleBindings: await objects("rbac.authorization.k8s.io/clusterrolebindings", nil),
            roles: local ? [] : await objects("rbac.authorization.k8s.io/roles", namespace),
            roleBindings: local ? [] : await objects("rbac.authorization.k8s.io/rolebindings", namespace))
    }

    /// A snapshot of the RBAC objects for one namespace, evaluated without further reads.
    public struct Policy: Sendable {
        public let namespace: String
        let clusterRoles: [JSONValue]
        let clusterRoleBindings: [JSONValue]
        let roles: [JSONValue]
        let roleBindings: [JSONValue]

        /// Attributes in another namespace than the snapshot's see only the cluster-wide bindings.
        public func authorize(_ user: UserInfo, _ a: RequestAttributes) -> Decision {
            if user.isPrivileged { return Decision(allowed: true, reason: "") }
            var problems: [String] = []
            var found: String?
            visitRules(user, namespace: a.namespace == namespace ? namespace : "", problems: &problems) { rules, binding in
                if rules.contains(where: { $0.allows(a) }) {
                    found = binding
                    return false
                }
                return true
            }
            if let found { return Decision(allowed: true, reason: "RBAC: allowed by \(found)") }
            return Decision(allowed: false, reason: problems.isEmpty ? "" : "RBAC: " + problems.joined(separator: ", "))
        }

        func rules(_ user: UserInfo) -> (rules: [Rule], incomplete: Bool) {
            var collected: [Rule] = []
            var problems: [String] = []
            visitRules(user, namespace: namespace, problems: &problems) { rules, _ in
                collected += rules
                return true
            }
            return (collected, !problems.isEmpty)
        }

        /// The Role (in the snapshot's namespace) or ClusterRole a roleRef names.
        func role(kind: String, name: String) -> JSONValue? {
            (kind == "Role" ? roles : clusterRoles).first { $0["metadata"]?["name"]?.stringValue == name }
        }

        /// A role's rules, a ClusterRole's with aggregation.
        func rules(of role: JSONValue) -> [Rule] { RBACAuthorizer.rules(of: role, among: clusterRoles) }

        /// Calls `visit` with the rules of each binding that names the user (ClusterRoleBindings
        /// first, then RoleBindings in `namespace`) until it returns false.
        private func visitRules(_ user: UserInfo, namespace: String, problems: inout [String], _ visit: ([Rule], String) -> Bool) {
            var clusterRoleByName: [String: JSONValue] = [:]
            for r in clusterRoles { if let n = r["metadata"]?["name"]?.stringValue { clusterRoleByName[n] = r } }
            for binding in clusterRoleBindings {
                guard let subject = RBACAuthorizer.matchingSubject(binding, user, bindingNamespace: "") else { continue }
                let roleName = binding["roleRef"]?["name"]?.stringValue ?? ""
                guard binding["roleRef"]?["kind"]?.stringValue == "ClusterRole", let role = clusterRoleByName[roleName] else {
                    problems.append("clusterrole.rbac.authorization.k8s.io \"\(roleName)\" not found")
                    continue
                }
                let name = binding["metadata"]?["name"]?.stringValue ?? ""
                if !visit(rules(of: role), "ClusterRoleBinding \"\(name)\" of ClusterRole \"\(roleName)\" to \(subject)") { return }
            }
            guard !namespace.isEmpty else { return }
            for binding in roleBindings {
                guard let subject = RBACAuthorizer.matchingSubject(binding, user, bindingNamespace: namespace) else { continue }
                let kind = binding["roleRef"]?["kind"]?.stringValue ?? ""
                let roleName = binding["roleRef"]?["name"]?.stringValue ?? ""
                let role = kind == "ClusterRole" ? clusterRoleByName[roleName] : self.role(kind: "Role", name: roleName)
                guard let role else {
                    problems.append("\(kind.lowercased()).rbac.authorization.k8s.io \"\(roleName)\" not found")
                    continue
                }
                let name = binding["metadata"]?["name"]?.stringValue ?? ""
                if !visit(rules(of: role), "RoleBinding \"\(name)/\(namespace)\" of \(kind) \"\(roleName)\" to \(subject)") { return }
            }
        }
    }

    /// A ClusterRole's rules; an aggregated one holds those of every ClusterRole its selectors
    /// match, themselves aggregated (`view` feeds `edit`, which feeds `admin`).
    static func rules(of role: JSONValue, among all: [JSONValue], visited: Set<String> = []) -> [Rule] {
        var rules = (role["rules"]?.arrayValue ?? []).map(Rule.init)
        guard let selectors = role["aggregationRule"]?["clusterRoleSelectors"]?.arrayValue else { return rules }
        let own = role["metadata"]?["name"]?.stringValue ?? ""
        let seen = visited.union([own])
        for selector in selectors {
            guard let parsed = try? LabelSelector(parsing: LabelSelector.string(fromObject: selector)) else { continue }
            for other in all {
                let name = other["metadata"]?["name"]?.stringValue ?? ""
                guard !seen.contains(name) else { continue }
                var labels: [String: String] = [:]
                for (k, v) in other["metadata"]?["labels"]?.objectValue ?? JSONObject() { labels[k] = v.stringValue }
                if parsed.matches(labels) { rules += Self.rules(of: other, among: all, visited: seen) }
            }
        }
        return rules
    }

    /// How the binding names the user (`ServiceAccount "ns/name"`, `Group "g"`, `User "u"`), or nil.
    static func matchingSubject(_ binding: JSONValue, _ user: UserInfo, bindingNamespace: String) -> String? {
        for s in binding["subjects"]?.arrayValue ?? [] {
            let kind = s["kind"]?.stringValue ?? ""
            let name = s["name"]?.stringValue ?? ""
            switch kind {
            case "User" where name == user.username: return "User \"\(name)\""
            case "Group" where user.groups.contains(name): return "Group \"\(name)\""
            case "ServiceAccount":
                let ns = s["namespace"]?.stringValue ?? bindingNamespace
                if let sa = user.serviceAccount, sa.namespace == ns, sa.name == name { return "ServiceAccount \"\(name)/\(ns)\"" }
            default: continue
            }
        }
        return nil
    }
}
