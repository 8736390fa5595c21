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

    /// A bootstrap ClusterRole; `aggregateTo` labels it into that aggregated role, and
    /// `aggregating` makes it one, gathering the ClusterRoles labelled for it.
    static func clusterRole(_ name: String, _ rules: [JSONValue], aggregateTo: String? = nil, aggregating: String? = nil) -> JSONValue {
        var l = labels.objectValue ?? JSONObject()
        if let aggregateTo { l["rbac.authorization.k8s.io/aggregate-to-\(aggregateTo)"] = "true" }
        var role = JSONObject([
            ("apiVersion", "rbac.authorization.k8s.io/v1"), ("kind", "ClusterRole"),
            ("metadata", ["name": .string(name), "labels": .object(l), "annotations": annotations]), ("rules", .array(rules)),
        ])
        if let aggregating {
            role["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": .object(JSONObject([("rbac.authorization.k8s.io/aggregate-to-\(aggregating)", "true")]))]]]
        }
        return .object(role)
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

    static let workloadResources: [(String, [String])] = [
        ("", ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers", "serviceaccounts", "services"]),
        ("apps", ["daemonsets", "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
        ("batch", ["cronjobs", "jobs"]), ("discovery.k8s.io", ["endpointslices"]), ("networking.k8s.io", ["ingresses", "networkpolicies"]),
        ("policy", ["poddisruptionbudgets"]), ("autoscaling", ["horizontalpodautoscalers"]),
    ]

    /// `view`, `edit` and `admin` gather the rules of every ClusterRole labelled
    /// `rbac.authorization.k8s.io/aggregate-to-{view,edit,admin}` (an operator's CRD roles
    /// join them so; `view` feeds `edit`, which feeds `admin`), with Kubernetes' own base
    /// rules for the kinds served here.
    public static let aggregationRoles: [JSONValue] = [
        clusterRole("admin", [], aggregating: "admin"), clusterRole("edit", [], aggregateTo: "admin", aggregating: "edit"),
        clusterRole("view", [], aggregateTo: "edit", aggregating: "view"),
        clusterRole(
            "system:aggregate-to-view",
            workloadResources.map { ["apiGroups": [.string($0.0)], "resources": .array($0.1.map(JSONValue.string)), "verbs": read] }
                + [["apiGroups": [""], "resources": ["events", "namespaces", "pods/log", "pods/status", "resourcequotas", "limitranges"], "verbs": read]],
            aggregateTo: "view"),
        clusterRole(
            "system:aggregate-to-edit",
            workloadResources.map { ["apiGroups": [.string($0.0)], "resources": .array($0.1.map(JSONValue.string)), "verbs": write] }
                + [
                    ["apiGroups": [""], "resources": ["secrets"], "verbs": .array(read.arrayValue! + write.arrayValue!)],
                    ["apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]],
                    ["apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]],
                ],
            aggregateTo: "edit"),
        clusterRole(
            "system:aggregate-to-admin",
            [
                ["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": .array(read.arrayValue! + write.arrayValue!)],
                ["apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"], "verbs": ["create"]],
            ],
            aggregateTo: "admin"),
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
