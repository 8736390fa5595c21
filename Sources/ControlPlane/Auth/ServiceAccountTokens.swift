import Crypto
import Foundation
import KubeModel

/// Issues and verifies ServiceAccount tokens: JWTs with the claims kube-apiserver's bound
/// tokens carry (`sub`, `aud`, `exp`, and `kubernetes.io` naming the namespace, the
/// ServiceAccount and the Pod the token is bound to), signed with a key kept in the data
/// directory so tokens stay valid across restarts. HMAC-SHA256 rather than RS256: the only
/// verifier is this server (TokenReview answers for anyone else).
public struct ServiceAccountTokens: Sendable {
    public static let issuer = "https://kubernetes.default.svc.cluster.local"
    /// The audience tokens get when the request names none, and the one this server accepts.
    public static let apiAudience = "https://kubernetes.default.svc.cluster.local"

    public struct Claims: Sendable, Equatable {
        public var namespace: String
        public var serviceAccount: String
        public var serviceAccountUID: String
        public var pod: (name: String, uid: String)?
        public var audiences: [String]
        public var issuedAt: Int64
        public var expires: Int64
        public var id: String

        public static func == (a: Claims, b: Claims) -> Bool {
            a.namespace == b.namespace && a.serviceAccount == b.serviceAccount && a.serviceAccountUID == b.serviceAccountUID
                && a.pod?.name == b.pod?.name && a.pod?.uid == b.pod?.uid && a.audiences == b.audiences && a.issuedAt == b.issuedAt
                && a.expires == b.expires && a.id == b.id
        }
    }

    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(key: [UInt8]) { keyBytes = key }

    /// Reads the signing key from `file`, creating it (mode 0600) on first use.
    public static func loadOrCreate(_ file: URL) throws -> ServiceAccountTokens {
        if let data = try? Data(contentsOf: file), data.count >= 32 { return ServiceAccountTokens(key: Array(data)) }
        var rng = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(key).write(to: file, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return ServiceAccountTokens(key: key)
    }

    public func issue(_ claims: Claims) -> String {
        var k8s = JSONObject()
        k8s["namespace"] = .string(claims.namespace)
        k8s["serviceaccount"] = .object(JSONObject([("name", .string(claims.serviceAccount)), ("uid", .string(claims.serviceAccountUID))]))
        if let pod = claims.pod { k8s["pod"] = .object(JSONObject([("name", .string(pod.name)), ("uid", .string(pod.uid))])) }
        let payload = JSONValue.object(
            JSONObject([
                ("aud", .array(claims.audiences.map(JSONValue.string))), ("exp", .int(claims.expires)), ("iat", .int(claims.issuedAt)),
                ("iss", .string(Self.issuer)), ("jti", .string(claims.id)), ("kubernetes.io", .object(k8s)), ("nbf", .int(claims.issuedAt)),
                ("sub", .string(UserInfo.serviceAccountPrefix + claims.namespace + ":" + claims.serviceAccount)),
            ]))
        let header = Self.base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let body = Self.base64URL(JSONText.bytes(payload))
        let signature = HMAC<SHA256>.authenticationCode(for: Array("\(header).\(body)".utf8), using: key)
        return "\(header).\(body).\(Self.base64URL(Array(signature)))"
    }

    /// The claims of a token this server signed that has not expired at `now`, else nil.
    public func verify(_ token: String, now: Int64) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Self.fromBase64URL(parts[2]) else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Array("\(parts[0]).\(parts[1])".utf8), using: key) else { return nil }
        guard let bytes = Self.fromBase64URL(parts[1]), let payload = try? JSONText.parse(bytes) else { return nil }
        guard let k8s = payload["kubernetes.io"], let ns = k8s["namespace"]?.stringValue, let sa = k8s["serviceaccount"]?["name"]?.stringValue,
            let exp = payload["exp"]?.intValue, let iat = payload["iat"]?.intValue
        else { return nil }
        guard now < Int64(exp), now + 60 >= Int64(iat) else { return nil }
        var pod: (String, String)?
        if let name = k8s["pod"]?["name"]?.stringValue, let uid = k8s["pod"]?["uid"]?.stringValue { pod = (name, uid) }
        return Claims(
            namespace: ns, serviceAccount: sa, serviceAccountUID: k8s["serviceaccount"]?["uid"]?.stringValue ?? "", pod: pod,
            audiences: payload["aud"]?.arrayValue?.compactMap(\.stringValue) ?? [], issuedAt: Int64(iat), expires: Int64(exp),
            id: payload["jti"]?.stringValue ?? "")
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func fromBase64URL(_ text: Substring) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
