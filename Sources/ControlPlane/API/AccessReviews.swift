import Foundation
import KubeModel

/// The authorization and authentication review kinds (answered at once, never stored) and
/// the ServiceAccount `token` subresource: `kubectl auth can-i` (SelfSubjectAccessReview,
/// `--list` a SelfSubjectRulesReview), `kubectl auth whoami` (SelfSubjectReview), webhooks'
/// SubjectAccessReview and TokenReview, and `kubectl create token` / the kubelet (TokenRequest).
extension APIHandler {
    func review(_ resource: ServedResource, _ path: ResourcePath, _ r: APIRequest) async throws -> APIResponse {
        guard r.method == "POST" else { throw APIError(code: 405, reason: "MethodNotAllowed", message: "\(resource.plural) can only be created") }
        guard case .object(var o) = try decodeBody(r) else { throw APIError.badRequest("the body must be a JSON object") }
        let asker = r.user ?? Authenticator.admin
        let spec = o["spec"] ?? .object(JSONObject())
        o["apiVersion"] = .string(resource.apiVersion)
        o["kind"] = .string(resource.kind)
        var status = JSONObject()
        switch resource.kind {
        case "SelfSubjectAccessReview":
            status = try await accessStatus(asker, spec, path: "spec")
        case "SubjectAccessReview", "LocalSubjectAccessReview":
            guard let username = spec["user"]?.stringValue ?? (spec["groups"] != nil ? "" : nil) else {
                throw APIError.invalid(kind: resource.kind, name: "", group: resource.group, [FieldError(.required, "spec.user", "at least one of user or group must be specified")])
            }
            if resource.kind == "LocalSubjectAccessReview", let ns = spec["resourceAttributes"]?["namespace"]?.stringValue, ns != path.namespace {
                throw APIError.invalid(
                    kind: resource.kind, name: "", group: resource.group,
                    [FieldError(.invalid, "spec.resourceAttributes.namespace", "must match metadata.namespace \"\(path.namespace ?? "")\"")])
            }
            var extra: [String: [String]] = [:]
            for (k, v) in spec["extra"]?.objectValue ?? JSONObject() { extra[k] = v.arrayValue?.compactMap(\.stringValue) ?? [] }
            let subject = UserInfo(
                username: username, uid: spec["uid"]?.stringValue, groups: spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? [], extra: extra)
            var scoped = spec
            if resource.kind == "LocalSubjectAccessReview", case .object(var attrs) = spec["resourceAttributes"] ?? .null, case .object(var s) = spec {
                attrs["namespace"] = .string(path.namespace ?? "")
                s["resourceAttributes"] = .object(attrs)
                scoped = .object(s)
            }
            status = try await accessStatus(subject, scoped, path: "spec")
        case "SelfSubjectRulesReview":
            let namespace = spec["namespace"]?.stringValue ?? ""
            let (rules, incomplete) = await RBACAuthorizer(store: store).rules(asker, namespace: namespace)
            status["resourceRules"] = .array(rules.filter(\.nonResourceURLs.isEmpty).map(\.json))
            status["nonResourceRules"] = .array(rules.filter { !$0.nonResourceURLs.isEmpty }.map(\.json))
            status["incomplete"] = .bool(incomplete)
        case "SelfSubjectReview":
            status["userInfo"] = asker.json
        case "TokenReview":
            guard let token = spec["token"]?.stringValue, !token.isEmpty else {
                throw APIError.invalid(kind: resource.kind, name: "", group: resource.group, [FieldError(.required, "spec.token", "a token to review is required")])
            }
            if let authenticator, let user = await authenticator.authenticate(token: token) {
                status["authenticated"] = true
                status["user"] = user.json
                status["audiences"] = [.string(ServiceAccountTokens.apiAudience)]
            } else {
                status["authenticated"] = false
                status["error"] = "invalid bearer token"
            }
        default:
            throw APIError(code: 404, reason: "NotFound", message: "no review \(resource.kind)")
        }
        o["status"] = .object(status)
        return APIResponse(status: 201, body: .object(o))
    }

    /// The status of an access review whose spec (at `path`) holds resource or non-resource attributes.
    private func accessStatus(_ user: UserInfo, _ spec: JSONValue, path: String) async throws -> JSONObject {
        let attributes: RequestAttributes
        if let ra = spec["resourceAttributes"] {
            attributes = RequestAttributes(
                verb: ra["verb"]?.stringValue ?? "", apiGroup: ra["group"]?.stringValue ?? "", resource: ra["resource"]?.stringValue ?? "",
                subresource: ra["subresource"]?.stringValue ?? "", namespace: ra["namespace"]?.stringValue ?? "", name: ra["name"]?.stringValue ?? "",
                apiVersion: ra["version"]?.stringValue ?? "")
        } else if let na = spec["nonResourceAttributes"] {
            attributes = RequestAttributes(verb: na["verb"]?.stringValue ?? "", path: na["path"]?.stringValue ?? "")
        } else {
            throw APIError.invalid(
                kind: "SubjectAccessReview", name: "", group: "authorization.k8s.io",
                [FieldError(.required, "\(path).resourceAttributes", "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        }
        let decision = await RBACAuthorizer(store: store).authorize(user, attributes)
        var status = JSONObject([("allowed", .bool(decision.allowed))])
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return status
    }

    /// `POST serviceaccounts/NAME/token`: a token for the ServiceAccount, bound to a Pod when
    /// `spec.boundObjectRef` names one (it stops working when that Pod goes).
    func requestToken(_ path: ResourcePath, _ name: String, _ r: APIRequest) async throws -> APIResponse {
        guard let authenticator else { throw APIError(code: 404, reason: "NotFound", message: "this server issues no ServiceAccount tokens") }
        let namespace = path.namespace ?? ""
        guard let sa = await store.find(StoreKey(resource: "core/serviceaccounts", namespace: namespace, name: name)) else {
            throw APIError.notFound("serviceaccounts", name)
        }
        let body = r.body.isEmpty ? JSONValue.object(JSONObject()) : try decodeBody(r)
        let spec = body["spec"] ?? .object(JSONObject())
        let seconds = spec["expirationSeconds"]?.intValue ?? 3600
        var errors: [FieldError] = []
        if seconds < 600 { errors.append(FieldError(.invalid, "spec.expirationSeconds", "may not specify a duration less than 10 minutes")) }
        if seconds > 1 << 32 { errors.append(FieldError(.invalid, "spec.expirationSeconds", "may not specify a duration larger than 2^32 seconds")) }
        var pod: (String, String)?
        if let ref = spec["boundObjectRef"], ref != .null {
            let kind = ref["kind"]?.stringValue ?? ""
            let refName = ref["name"]?.stringValue ?? ""
            if kind != "Pod" {
                errors.append(FieldError(.notSupported, "spec.boundObjectRef.kind", "supported values: \"Pod\" (got \"\(kind)\")"))
            } else if let found = await store.find(StoreKey(resource: "core/pods", namespace: namespace, name: refName)) {
                let uid = found["metadata"]?["uid"]?.stringValue ?? ""
                if let want = ref["uid"]?.stringValue, !want.isEmpty, want != uid {
                    throw APIError(code: 409, reason: "Conflict", message: "the UID in the bound object reference (\(want)) does not match the UID in record (\(uid)); the object might have been deleted and then recreated")
                }
                if found["spec"]?["serviceAccountName"]?.stringValue ?? "default" != name {
                    errors.append(FieldError(.invalid, "spec.boundObjectRef", "pod \(refName) runs as ServiceAccount \(found["spec"]?["serviceAccountName"]?.stringValue ?? "default"), not \(name)"))
                }
                pod = (refName, uid)
            } else {
                throw APIError.notFound("pods", refName)
            }
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: "TokenRequest", name: name, group: "authentication.k8s.io", errors) }
        var audiences = spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if audiences.isEmpty { audiences = [ServiceAccountTokens.apiAudience] }
        let issued = now().secondsSinceEpoch
        let claims = ServiceAccountTokens.Claims(
            namespace: namespace, serviceAccount: name, serviceAccountUID: sa["metadata"]?["uid"]?.stringValue ?? "", pod: pod, audiences: audiences,
            issuedAt: issued, expires: issued + seconds, id: newUID())
        var outSpec = JSONObject([("audiences", .array(audiences.map(JSONValue.string))), ("expirationSeconds", .int(seconds))])
        if let ref = spec["boundObjectRef"], ref != .null { outSpec["boundObjectRef"] = ref }
        let response: JSONValue = [
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(Timestamp(secondsSinceEpoch: issued).rfc3339)],
            "spec": .object(outSpec),
            "status": ["token": .string(authenticator.tokens.issue(claims)), "expirationTimestamp": .string(Timestamp(secondsSinceEpoch: issued + seconds).rfc3339)],
        ]
        return APIResponse(status: 201, body: response)
    }
}
