import KubeModel

/// The ClusterRoles and ClusterRoleBindings every Kubernetes cluster starts with, as
/// kube-apiserver's RBAC bootstrap creates them: `cluster-admin` for `system:masters`,
/// discovery, public info (version, health), and self-reviews (`kubectl auth can-i`,
/// `kubectl auth whoami`) for every authenticated user. Created when missing, never
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

    public static let clusterRoleBindings: [JSONValue] = [
        binding("cluster-admin", role: "cluster-admin", groups: [UserInfo.mastersGroup]),
        binding("system:discovery", role: "system:discovery", groups: [UserInfo.authenticated]),
        binding("system:public-info-viewer", role: "system:public-info-viewer", groups: [UserInfo.authenticated, "system:unauthenticated"]),
        binding("system:basic-user", role: "system:basic-user", groups: [UserInfo.authenticated]),
    ]

    /// Creates whichever of the defaults are missing.
    public static func install(_ handler: APIHandler) async throws {
        for (path, objects) in [
            ("/apis/rbac.authorization.k8s.io/v1/clusterroles", clusterRoles), ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", clusterRoleBindings),
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
