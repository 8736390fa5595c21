@testable import ControlPlane
import Foundation
import KubeModel
import Testing

/// RBAC evaluation, ServiceAccount tokens and the review kinds, through the API handler
/// (the HTTPS front door and kubectl are covered by Tests/e2e/test_85_install_rbac.py).
@Suite struct AuthorizationTests {
    static func setUp() async throws -> (APIHandler, ObjectStore, Authenticator) {
        let store = try ObjectStore(path: tempDB())
        let handler = try await APIHandler(store: store)
        for ns in ["default", "team"] { _ = await call(handler, "POST", "/api/v1/namespaces", #"{"metadata":{"name":"\#(ns)"}}"#) }
        try await BootstrapPolicy.install(handler)
        let auth = Authenticator(adminToken: "admin-token", tokens: ServiceAccountTokens(key: Array(repeating: 7, count: 32)), store: store)
        await handler.use(auth)
        return (handler, store, auth)
    }

    static let robot = UserInfo.serviceAccount(namespace: "team", name: "robot")

    @Test func rulesMatchVerbsGroupsResourcesSubresourcesAndNames() {
        let rule = RBACAuthorizer.Rule(
            .object(JSONObject([("verbs", ["get", "patch"]), ("apiGroups", ["apps"]), ("resources", ["deployments", "deployments/scale"]), ("resourceNames", ["web"])])))
        #expect(rule.allows(RequestAttributes(verb: "get", apiGroup: "apps", resource: "deployments", namespace: "x", name: "web")))
        #expect(rule.allows(RequestAttributes(verb: "patch", apiGroup: "apps", resource: "deployments", subresource: "scale", namespace: "x", name: "web")))
        #expect(!rule.allows(RequestAttributes(verb: "get", apiGroup: "apps", resource: "deployments", namespace: "x", name: "db")))
        // resourceNames never cover a request without a name (list, create).
        #expect(!rule.allows(RequestAttributes(verb: "get", apiGroup: "apps", resource: "deployments", namespace: "x")))
        #expect(!rule.allows(RequestAttributes(verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "x", name: "web")))
        #expect(!rule.allows(RequestAttributes(verb: "get", apiGroup: "", resource: "deployments", namespace: "x", name: "web")))
        #expect(!rule.allows(RequestAttributes(verb: "get", apiGroup: "apps", resource: "deployments", subresource: "status", namespace: "x", name: "web")))
        let status = RBACAuthorizer.Rule(.object(JSONObject([("verbs", ["*"]), ("apiGroups", ["*"]), ("resources", ["*/status"])])))
        #expect(status.allows(RequestAttributes(verb: "update", apiGroup: "llmops.io", resource: "llmdeployments", subresource: "status", name: "a")))
        #expect(!status.allows(RequestAttributes(verb: "update", apiGroup: "llmops.io", resource: "llmdeployments", name: "a")))
        let urls = RBACAuthorizer.Rule(.object(JSONObject([("verbs", ["get"]), ("nonResourceURLs", ["/apis/*", "/version"])])))
        #expect(urls.allows(RequestAttributes(verb: "get", path: "/apis/apps/v1")))
        #expect(urls.allows(RequestAttributes(verb: "get", path: "/version")))
        #expect(!urls.allows(RequestAttributes(verb: "get", path: "/metrics")))
        #expect(!urls.allows(RequestAttributes(verb: "get", apiGroup: "", resource: "pods")))
    }

    @Test func bindingsGrantOnlyWhereTheyApply() async throws {
        let (handler, store, _) = try await Self.setUp()
        let rbac = RBACAuthorizer(store: store)
        let list = RequestAttributes(verb: "list", apiGroup: "", resource: "pods", namespace: "team")
        #expect(await !rbac.authorize(Self.robot, list).allowed)
        _ = await call(handler, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles",
                       #"{"metadata":{"name":"reader"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}"#)
        _ = await call(handler, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings",
                       #"{"metadata":{"name":"reader"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"reader"},"subjects":[{"kind":"ServiceAccount","name":"robot","namespace":"team"}]}"#)
        let decision = await rbac.authorize(Self.robot, list)
        #expect(decision.allowed)
        #expect(decision.reason == #"RBAC: allowed by RoleBinding "reader/team" of Role "reader" to ServiceAccount "robot/team""#)
        // A RoleBinding is confined to its namespace; another ServiceAccount is not named.
        #expect(await !rbac.authorize(Self.robot, RequestAttributes(verb: "list", apiGroup: "", resource: "pods", namespace: "default")).allowed)
        #expect(await !rbac.authorize(.serviceAccount(namespace: "default", name: "robot"), list).allowed)
        // A binding to a missing role says so in the reason.
        _ = await call(handler, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                       #"{"metadata":{"name":"dangling"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"missing"},"subjects":[{"kind":"Group","name":"system:serviceaccounts"}]}"#)
        let denied = await rbac.authorize(Self.robot, RequestAttributes(verb: "get", apiGroup: "", resource: "nodes", name: "n1"))
        #expect(!denied.allowed)
        #expect(denied.reason == #"RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found"#)
        // Members of system:masters need no binding.
        #expect(await rbac.authorize(Authenticator.admin, RequestAttributes(verb: "delete", apiGroup: "", resource: "nodes", name: "n1")).allowed)
        // Every authenticated user may discover the API and review itself (bootstrap policy).
        #expect(await rbac.authorize(Self.robot, RequestAttributes(verb: "get", path: "/apis/apps/v1")).allowed)
        #expect(await rbac.authorize(Self.robot, RequestAttributes(verb: "create", apiGroup: "authorization.k8s.io", resource: "selfsubjectaccessreviews")).allowed)
    }

    @Test func aggregatedClusterRolesHoldTheRulesTheirSelectorsMatch() async throws {
        let (handler, store, _) = try await Self.setUp()
        _ = await call(handler, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                       #"{"metadata":{"name":"monitoring"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"aggregate-to-monitoring":"true"}}]},"rules":[]}"#)
        _ = await call(handler, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                       #"{"metadata":{"name":"llmd-viewer","labels":{"aggregate-to-monitoring":"true"}},"rules":[{"apiGroups":["llmops.io"],"resources":["llmdeployments"],"verbs":["get"]}]}"#)
        _ = await call(handler, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                       #"{"metadata":{"name":"monitoring"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"monitoring"},"subjects":[{"kind":"User","name":"mona"}]}"#)
        let mona = UserInfo(username: "mona", groups: [UserInfo.authenticated])
        #expect(await RBACAuthorizer(store: store).authorize(mona, RequestAttributes(verb: "get", apiGroup: "llmops.io", resource: "llmdeployments", namespace: "team", name: "a")).allowed)
    }

    @Test func forbiddenMessagesReadAsKubeAPIServerWritesThem() {
        let named = RequestAttributes(verb: "get", apiGroup: "apps", resource: "deployments", namespace: "team", name: "web").forbidden(Self.robot)
        #expect(named.code == 403 && named.reason == "Forbidden")
        #expect(named.message == #"deployments.apps "web" is forbidden: User "system:serviceaccount:team:robot" cannot get resource "deployments" in API group "apps" in the namespace "team""#)
        let cluster = RequestAttributes(verb: "list", apiGroup: "", resource: "nodes").forbidden(Self.robot)
        #expect(cluster.message == #"nodes is forbidden: User "system:serviceaccount:team:robot" cannot list resource "nodes" in API group "" at the cluster scope"#)
        let sub = RequestAttributes(verb: "patch", apiGroup: "llmops.io", resource: "llmdeployments", subresource: "scale", namespace: "a", name: "m").forbidden(Self.robot)
        #expect(sub.message.contains(#"cannot patch resource "llmdeployments/scale" in API group "llmops.io""#))
        let path = RequestAttributes(verb: "get", path: "/metrics").forbidden(Self.robot)
        #expect(path.message == #"forbidden: User "system:serviceaccount:team:robot" cannot get path "/metrics""#)
        // A namespace object is in itself, so a RoleBinding there may grant reading it.
        let ns = RequestAttributes(APIRequest(method: "GET", path: "/api/v1/namespaces/team"))
        #expect(ns.namespace == "team" && ns.resource == "namespaces" && ns.name == "team" && ns.verb == "get")
        #expect(RequestAttributes(APIRequest(method: "GET", path: "/apis/apps/v1/deployments", query: ["watch": "true"])).verb == "watch")
    }

    @Test func tokensAreBoundToTheirServiceAccountAndPod() async throws {
        let (handler, _, auth) = try await Self.setUp()
        let sa = await call(handler, "POST", "/api/v1/namespaces/team/serviceaccounts", #"{"metadata":{"name":"robot"}}"#)
        #expect(sa.status == 201)
        _ = await call(handler, "POST", "/api/v1/namespaces/team/pods",
                       #"{"metadata":{"name":"p"},"spec":{"serviceAccountName":"robot","containers":[{"name":"c","image":"x"}]}}"#)
        let response = await call(handler, "POST", "/api/v1/namespaces/team/serviceaccounts/robot/token",
                                  #"{"spec":{"expirationSeconds":3600,"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p"}}}"#)
        #expect(response.status == 201)
        let token = try #require(response.body["status"]?["token"]?.stringValue)
        let user = try #require(await auth.authenticate("Bearer " + token))
        #expect(user.username == "system:serviceaccount:team:robot")
        #expect(user.extra["authentication.kubernetes.io/pod-name"] == ["p"])
        #expect(await auth.authenticate("Bearer admin-token") == Authenticator.admin)
        #expect(await auth.authenticate("Bearer " + token.dropLast(2) + "xx") == nil)
        #expect(await auth.authenticate(nil) == nil)
        // A token for another audience is not for this API server.
        let other = await call(handler, "POST", "/api/v1/namespaces/team/serviceaccounts/robot/token", #"{"spec":{"audiences":["vault"]}}"#)
        #expect(await auth.authenticate("Bearer " + (other.body["status"]?["token"]?.stringValue ?? "")) == nil)
        // Deleting the Pod revokes the token bound to it.
        _ = await call(handler, "DELETE", "/api/v1/namespaces/team/pods/p")
        #expect(await auth.authenticate("Bearer " + token) == nil)
        let short = await call(handler, "POST", "/api/v1/namespaces/team/serviceaccounts/robot/token", #"{"spec":{"expirationSeconds":60}}"#)
        #expect(short.status == 422 && short.body["message"]?.stringValue?.contains("spec.expirationSeconds") == true)
        let missing = await call(handler, "POST", "/api/v1/namespaces/team/serviceaccounts/nobody/token", "{}")
        #expect(missing.status == 404)
    }

    @Test func expiredTokensAreRefused() {
        let tokens = ServiceAccountTokens(key: Array(repeating: 1, count: 32))
        let claims = ServiceAccountTokens.Claims(
            namespace: "a", serviceAccount: "b", serviceAccountUID: "u", pod: nil, audiences: [ServiceAccountTokens.apiAudience], issuedAt: 1000, expires: 2000, id: "j")
        let token = tokens.issue(claims)
        #expect(tokens.verify(token, now: 1500) == claims)
        #expect(tokens.verify(token, now: 2000) == nil)
        #expect(ServiceAccountTokens(key: Array(repeating: 2, count: 32)).verify(token, now: 1500) == nil)
    }

    /// A role may grant only what its writer holds; a binding may point only at a role whose
    /// rules its writer holds, unless the writer may escalate or bind.
    @Test func rbacWritesCannotEscalate() async throws {
        let (handler, _, _) = try await Self.setUp()
        func post(_ path: String, _ body: String, as user: UserInfo? = nil) async -> APIResponse {
            var request = APIRequest(method: "POST", path: path, body: Array(body.utf8), contentType: "application/json")
            request.user = user
            return await handler.handle(request)
        }
        let roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles"
        let bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings"
        _ = await post(roles, #"{"metadata":{"name":"lead"},"rules":[{"apiGroups":["rbac.authorization.k8s.io"],"resources":["roles","rolebindings"],"verbs":["create"]},{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]}]}"#)
        _ = await post(bindings, #"{"metadata":{"name":"lead"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"lead"},"subjects":[{"kind":"ServiceAccount","name":"robot","namespace":"team"}]}"#)
        let held = await post(roles, #"{"metadata":{"name":"pod-reader"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]}"#, as: Self.robot)
        #expect(held.status == 201, "\(held.body)")
        let more = await post(roles, #"{"metadata":{"name":"secret-reader"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}]}"#, as: Self.robot)
        #expect(more.status == 403)
        #expect(more.body["message"]?.stringValue?.contains("is attempting to grant RBAC permissions not currently held") == true)
        let admin = await post(bindings, #"{"metadata":{"name":"me-admin"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"robot","namespace":"team"}]}"#, as: Self.robot)
        #expect(admin.status == 403)
        let own = await post(bindings, #"{"metadata":{"name":"reader"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},"subjects":[{"kind":"User","name":"ann"}]}"#, as: Self.robot)
        #expect(own.status == 201, "\(own.body)")
        // With `bind` on cluster-admin, binding it is allowed.
        _ = await post(roles, #"{"metadata":{"name":"binder"},"rules":[{"apiGroups":["rbac.authorization.k8s.io"],"resources":["clusterroles"],"verbs":["bind"],"resourceNames":["cluster-admin"]}]}"#)
        _ = await post(bindings, #"{"metadata":{"name":"binder"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"binder"},"subjects":[{"kind":"ServiceAccount","name":"robot","namespace":"team"}]}"#)
        let allowed = await post(bindings, #"{"metadata":{"name":"me-admin"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"ann"}]}"#, as: Self.robot)
        #expect(allowed.status == 201, "\(allowed.body)")
    }

    @Test func reviewsAnswerForTheAskerOrTheNamedSubject() async throws {
        let (handler, _, _) = try await Self.setUp()
        func review(_ path: String, _ body: String, as user: UserInfo) async -> APIResponse {
            var request = APIRequest(method: "POST", path: path, body: Array(body.utf8), contentType: "application/json")
            request.user = user
            return await handler.handle(request)
        }
        let ssar = #"{"spec":{"resourceAttributes":{"verb":"list","resource":"pods","namespace":"team"}}}"#
        let asRobot = await review("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ssar, as: Self.robot)
        #expect(asRobot.status == 201 && asRobot.body["status"]?["allowed"] == false)
        let asAdmin = await review("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ssar, as: Authenticator.admin)
        #expect(asAdmin.body["status"]?["allowed"] == true)
        let sar = await review(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            #"{"spec":{"user":"x","groups":["system:masters"],"resourceAttributes":{"verb":"delete","resource":"nodes"}}}"#, as: Authenticator.admin)
        #expect(sar.body["status"]?["allowed"] == true)
        let whoami = await review("/apis/authentication.k8s.io/v1/selfsubjectreviews", "{}", as: Self.robot)
        #expect(whoami.body["status"]?["userInfo"]?["username"]?.stringValue == Self.robot.username)
        let rules = await review("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", #"{"spec":{"namespace":"team"}}"#, as: Self.robot)
        let resources = rules.body["status"]?["resourceRules"]?.arrayValue?.flatMap { $0["resources"]?.arrayValue ?? [] }.compactMap(\.stringValue) ?? []
        #expect(resources.contains("selfsubjectaccessreviews") && !resources.contains("pods"))
        let empty = await review("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", #"{"spec":{}}"#, as: Self.robot)
        #expect(empty.status == 422)
    }
}
