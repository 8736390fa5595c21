import KubeModel

/// The ClusterRoles and ClusterRoleBindings every Kubernetes cluster starts with, as
/// kube-apiserver's RBAC bootstrap creates them: `cluster-admin` for `system:masters`,
/// discovery, public info (version, health), and self-reviews (`kubectl auth can-i`,
/// `kubectl auth whoami`) for every authenticated user, and the aggregated `view`, `edit` and
/// `admin` roles that namespaces are usually shared with. Created when missing, never
/// overwritten, so an admin's edit stays.
public enum BootstrapPolicy {
    static let labels: JSONValue = ["kubernetes.io/bootstrapping": "rbac-defaults"]
    static let annotations: JSONValue = ["rbac.authorization.kubernetes.io/autoupdate": "true"]

    static func clusterRole(_ name: String, _ rules: [JSONValue]) -> JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": ["name": .string(name), "labels": labels, "annotations": annotations], "rules": .array(rules),
        ]
    }

    static func binding(_ name: String, role: String, groups: [String]) -> JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": ["name": .string(name), "labels": labels, "annotations": annotations],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(role)],
            "subjects": .array(groups.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string($0)] }),
        ]
    }

    static func urls(_ urls: [String]) -> JSONValue {
        ["nonResourceURLs": .array(urls.map(JSONValue.string)), "verbs": ["get"]]
    }

    public static let clusterRoles: [JSONValue] = [
        clusterRole("cluster-admin", [["apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]], ["nonResourceURLs": ["*"], "verbs": ["*"]]]),
        clusterRole("system:discovery", [urls(["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])]),
        clusterRole("system:public-info-viewer", [urls(["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
        clusterRole(
            "system:basic-user",
            [
                ["apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]],
                ["apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]],
            ]),
    ]

    static let read: JSONValue = ["get", "list", "watch"]
    static let write: JSONValue = ["create", "delete", "deletecollection", "patch", "update"]

    static func aggregated(_ targets: [String]) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: targets.map { ("rbac.authorization.k8s.io/aggregate-to-\($0)", JSONValue.string("true")) })
    }

    /// `view`, `edit` and `admin` gather the rules of every ClusterRole labelled
    /// `rbac.authorization.k8s.io/aggregate-to-{view,edit,admin}` (an operator's CRD roles
    /// join them so), with Kubernetes' own base rules for the kinds served here.
    static func aggregateRole(_ name: String, feeds: String? = nil) -> JSONValue {
        var l = JSONObject([("kubernetes.io/bootstrapping", "rbac-defaults")])
        if let feeds { l["rbac.authorization.k8s.io/aggregate-to-\(feeds)"] = "true" }
        return [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": ["name": .string(name), "labels": .object(l), "annotations": annotations],
            "aggregationRule": ["clusterRoleSelectors": [["matchLabels": .object(JSONObject([("rbac.authorization.k8s.io/aggregate-to-\(name)", "true")]))]]],
            "rules": [],
        ]
    }

    static func baseRole(_ name: String, _ targets: [String], _ rules: [JSONValue]) -> JSONValue {
        var meta = JSONObject([("name", .string(name)), ("annotations", annotations)])
        var l = JSONObject([("kubernetes.io/bootstrapping", "rbac-defaults")])
        for (k, v) in aggregated(targets).sorted(by: { $0.key < $1.key }) { l[k] = v }
        meta["labels"] = .object(l)
        return ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": .object(meta), "rules": .array(rules)]
    }

    static let workloadResources: [(String, [String])] = [
        ("", ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers", "serviceaccounts", "services"]),
        ("apps", ["daemonsets", "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
        ("batch", ["cronjobs", "jobs"]), ("discovery.k8s.io", ["endpointslices"]), ("networking.k8s.io", ["ingresses", "networkpolicies"]),
        ("policy", ["poddisruptionbudgets"]), ("autoscaling", ["horizontalpodautoscalers"]),
    ]

    public static let aggregationRoles: [JSONValue] = [
        aggregateRole("admin"), aggregateRole("edit", feeds: "admin"), aggregateRole("view", feeds: "edit"),
        baseRole(
            "system:aggregate-to-view", ["view"],
            workloadResources.map { ["apiGroups": [.string($0.0)], "resources": .array($0.1.map(JSONValue.string)), "verbs": read] }
                + [["apiGroups": [""], "resources": ["events", "namespaces", "pods/log", "pods/status", "resourcequotas", "limitranges"], "verbs": read]]),
        baseRole(
            "system:aggregate-to-edit", ["edit"],
            workloadResources.map { ["apiGroups": [.string($0.0)], "resources": .array($0.1.map(JSONValue.string)), "verbs": write] }
                + [
                    ["apiGroups": [""], "resources": ["secrets"], "verbs": .array(read.arrayValue! + write.arrayValue!)],
                    ["apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]],
                    ["apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]],
                ]),
        baseRole(
            "system:aggregate-to-admin", ["admin"],
            [
                ["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": .array(read.arrayValue! + write.arrayValue!)],
                ["apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"], "verbs": ["create"]],
            ]),
    ]

    public static let clusterRoleBindings: [JSONValue] = [
        binding("cluster-admin", role: "cluster-admin", groups: [UserInfo.mastersGroup]),
        binding("system:discovery", role: "system:discovery", groups: [UserInfo.authenticated]),
        binding("system:public-info-viewer", role: "system:public-info-viewer", groups: [UserInfo.authenticated, "system:unauthenticated"]),
        binding("system:basic-user", role: "system:basic-user", groups: [UserInfo.authenticated]),
    ]

    /// Creates whichever of the defaults are missing.
    public static func install(_ handler: APIHandler) async throws {
        for (path, objects) in [
            ("/apis/rbac.authorization.k8s.io/v1/clusterroles", clusterRoles + aggregationRoles),
            ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", clusterRoleBindings),
        ] {
            for object in objects {
                let response = await handler.handle(APIRequest(method: "POST", path: path, body: JSONText.bytes(object), contentType: "application/json"))
                guard response.status == 201 || response.status == 409 else {
                    throw LocalControlPlane.BootstrapError(message: "cannot create the default RBAC object \(object["metadata"]?["name"]?.stringValue ?? ""): \(response.body)")
                }
            }
        }
    }
}
