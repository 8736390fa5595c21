import Foundation
import KubeModel

/// Turns a request's bearer token into a user, as kube-apiserver's token authenticators do:
/// the admin token (the kubeconfig `llmops up` writes) is a member of `system:masters`; a
/// ServiceAccount token is its ServiceAccount, as long as the token is unexpired, meant for
/// this API server, and the ServiceAccount and the Pod it is bound to still exist with the
/// uids it names (deleting either revokes it).
public struct Authenticator: Sendable {
    public static let adminUsername = "llmops-admin"

    let adminToken: String
    let tokens: ServiceAccountTokens
    let store: ObjectStore
    let now: @Sendable () -> Int64

    public init(adminToken: String, tokens: ServiceAccountTokens, store: ObjectStore, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.adminToken = adminToken
        self.tokens = tokens
        self.store = store
        self.now = now
    }

    public static let admin = UserInfo(username: adminUsername, groups: [UserInfo.mastersGroup, UserInfo.authenticated])

    /// The user an `Authorization` header names, or nil (401) for none or an invalid token.
    public func authenticate(_ authorization: String?) async -> UserInfo? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        return await authenticate(token: token)
    }

    public func authenticate(token: String) async -> UserInfo? {
        if constantTimeEquals(token, adminToken) { return Self.admin }
        guard let claims = tokens.verify(token, now: now()), claims.audiences.contains(ServiceAccountTokens.apiAudience) else { return nil }
        let saKey = StoreKey(resource: "core/serviceaccounts", namespace: claims.namespace, name: claims.serviceAccount)
        guard let sa = await store.find(saKey), sa["metadata"]?["deletionTimestamp"] == nil,
            claims.serviceAccountUID.isEmpty || sa["metadata"]?["uid"]?.stringValue == claims.serviceAccountUID
        else { return nil }
        var extra: [String: [String]] = ["authentication.kubernetes.io/credential-id": ["JTI=\(claims.id)"]]
        if let pod = claims.pod {
            let found = await store.find(StoreKey(resource: "core/pods", namespace: claims.namespace, name: pod.name))
            guard let found, found["metadata"]?["uid"]?.stringValue == pod.uid else { return nil }
            extra["authentication.kubernetes.io/pod-name"] = [pod.name]
            extra["authentication.kubernetes.io/pod-uid"] = [pod.uid]
        }
        return .serviceAccount(namespace: claims.namespace, name: claims.serviceAccount, uid: claims.serviceAccountUID.isEmpty ? nil : claims.serviceAccountUID, extra: extra)
    }

    private func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
