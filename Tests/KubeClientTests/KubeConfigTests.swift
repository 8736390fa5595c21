import Foundation
import KubeModel
import Testing

@testable import KubeClient

@Suite struct KubeConfigTests {
    static let yaml = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev-cluster
          cluster:
            server: https://127.0.0.1:6443
            certificate-authority-data: \(Data("CA".utf8).base64EncodedString())
        - name: prod-cluster
          cluster:
            server: https://prod.example:443
            insecure-skip-tls-verify: true
        users:
        - name: dev-user
          user:
            token: abc123
        - name: cert-user
          user:
            client-certificate-data: \(Data("CERT".utf8).base64EncodedString())
            client-key-data: \(Data("KEY".utf8).base64EncodedString())
        - name: exec-user
          user:
            exec:
              command: aws
        contexts:
        - name: dev
          context: {cluster: dev-cluster, user: dev-user, namespace: inference}
        - name: prod
          context: {cluster: prod-cluster, user: cert-user}
        - name: plugin
          context: {cluster: prod-cluster, user: exec-user}
        - name: broken
          context: {cluster: nowhere, user: dev-user}
        """

    @Test func currentContextSelectsClusterUserAndNamespace() throws {
        let config = try ClientConfiguration.from(KubeConfig(yaml: Self.yaml))
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.certificateAuthorityPEM == Array("CA".utf8))
        #expect(config.namespace == "inference")
        guard case .bearer("abc123") = config.credentials else { Issue.record("expected the bearer token"); return }
    }

    @Test func explicitContextWithClientCertificate() throws {
        let config = try ClientConfiguration.from(KubeConfig(yaml: Self.yaml), context: "prod")
        #expect(config.server == "https://prod.example:443")
        #expect(config.insecureSkipTLSVerify)
        #expect(config.clientCertificatePEM == Array("CERT".utf8))
        #expect(config.clientKeyPEM == Array("KEY".utf8))
        #expect(config.namespace == "default")
    }

    @Test(arguments: [
        ("missing", "context \"missing\" not found"),
        ("broken", "cluster \"nowhere\" not found"),
        ("plugin", "exec credential plugins are not supported"),
    ])
    func unusableContextsSayWhy(context: String, message: String) throws {
        #expect {
            try ClientConfiguration.from(KubeConfig(yaml: Self.yaml), context: context)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test(arguments: [
        ("clusters: 5", "clusters: must be a list"),
        ("clusters:\n- name: a\n  cluster: {server: 1}", "clusters[0].cluster.server: must be a string"),
        ("clusters:\n- cluster: {server: https://a}", "clusters[0].name: Required value"),
        ("users:\n- name: u\n  user: {token: 1, client-key-data: '%%%'}", "users[0].user.token: must be a string"),
        ("users:\n- name: u\n  user: {client-key-data: '%%%'}", "users[0].user.client-key-data: is not valid base64"),
        ("[1, 2]", "must be a mapping"),
        ("a: [unclosed", "not valid YAML"),
    ])
    func brokenFilesNameTheField(yaml: String, message: String) {
        #expect {
            try KubeConfig(yaml: yaml, source: "/tmp/kc")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".hasPrefix("/tmp/kc")
        }
    }

    @Test func noContextSelected() throws {
        #expect { try ClientConfiguration.from(KubeConfig(yaml: "contexts: []")) } throws: { "\($0)".contains("no context selected") }
    }

    @Test func missingFileAndEmptyKUBECONFIG() throws {
        #expect { try KubeConfig.load(path: "/nonexistent/kubeconfig") } throws: { "\($0)".contains("cannot read the file") }
        #expect {
            try ClientConfiguration.load(environment: ["KUBECONFIG": "/nope/a:/nope/b", "HOME": "/nope"])
        } throws: { "\($0)".contains("none of the files") }
        #expect {
            try ClientConfiguration.load(environment: ["HOME": "/nope"])
        } throws: { "\($0)".contains("no kubeconfig found") }
    }

    @Test func kubeconfigListMergesFirstWins() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        try "clusters:\n- name: c\n  cluster: {server: https://first:1, certificate-authority: ca.pem}\n".write(to: a, atomically: true, encoding: .utf8)
        try "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://second:2}\ncontexts:\n- name: x\n  context: {cluster: c}\n"
            .write(to: b, atomically: true, encoding: .utf8)
        try "PEM".write(to: dir.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        let config = try ClientConfiguration.load(environment: ["KUBECONFIG": "\(a.path):\(b.path)"])
        #expect(config.server == "https://first:1")
        #expect(config.certificateAuthorityPEM == Array("PEM".utf8), "relative paths resolve against the file's folder")
    }

    @Test func inClusterReadsServiceAccountAndRereadsRotatedToken() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "token-1\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "CA".write(to: dir.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try "operators".write(to: dir.appendingPathComponent("namespace"), atomically: true, encoding: .utf8)
        let env = ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let config = try ClientConfiguration.inCluster(environment: env, serviceAccountDirectory: dir.path)
        #expect(config.server == "https://10.0.0.1:443")
        #expect(config.namespace == "operators")
        #expect(config.certificateAuthorityPEM == Array("CA".utf8))
        let source = TokenSource(config.credentials, refresh: .zero)
        #expect(source.token() == "token-1")
        try "token-2".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        #expect(source.token() == "token-2")
        let cached = TokenSource(config.credentials)
        #expect(cached.token() == "token-2")
        try "token-3".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        #expect(cached.token() == "token-2", "within the refresh interval the cached token is used")

        #expect { try ClientConfiguration.inCluster(environment: [:], serviceAccountDirectory: dir.path) } throws: { "\($0)".contains("not running in a pod") }
        #expect {
            try ClientConfiguration.inCluster(environment: env, serviceAccountDirectory: "/nonexistent")
        } throws: { "\($0)".contains("token: cannot read") }
    }
}

@Suite struct ErrorAndThrottleTests {
    @Test func statusBodiesBecomeTypedErrors() {
        let body = Array(#"{"kind":"Status","status":"Failure","reason":"Invalid","code":422,"message":"bad","details":{"name":"x","kind":"LLMDeployment","causes":[{"reason":"FieldValueInvalid","message":"must be > 0","field":"spec.replicas"}]}}"#.utf8)
        let e = KubeAPIError.from(statusCode: 422, body: body, retryAfterHeader: nil)
        guard case .invalid(let d) = e else { Issue.record("\(e)"); return }
        #expect(d.causes == [.init(reason: "FieldValueInvalid", message: "must be > 0", field: "spec.replicas")])
        #expect(d.name == "x" && d.kind == "LLMDeployment")
        #expect(!e.isRetryable)

        let exists = KubeAPIError.from(statusCode: 409, body: Array(#"{"kind":"Status","reason":"AlreadyExists","code":409}"#.utf8), retryAfterHeader: nil)
        #expect(exists.isAlreadyExists && !exists.isConflict)
        let throttled = KubeAPIError.from(statusCode: 429, body: [], retryAfterHeader: "3")
        #expect(throttled.retryAfter == .seconds(3) && throttled.isRetryable)
        let broken = KubeAPIError.from(statusCode: 503, body: Array("<html>".utf8), retryAfterHeader: nil)
        guard case .server(let sd, _) = broken else { Issue.record("\(broken)"); return }
        #expect(sd.reason == "InternalError" && sd.message == "<html>")
        for (code, check) in [(401, { (e: KubeAPIError) in if case .unauthorized = e { true } else { false } }), (403, { if case .forbidden = $0 { true } else { false } }), (410, { $0.isGone }), (404, { $0.isNotFound }), (504, { if case .timeout = $0 { true } else { false } })] {
            #expect(check(KubeAPIError.from(statusCode: code, body: [], retryAfterHeader: nil)), "\(code)")
        }
    }

    @Test func tokenBucketAllowsTheBurstThenPacesAtTheRate() {
        var bucket = TokenBucket(rate: 5, burst: 10)
        let waits = (0..<12).map { _ in bucket.reserve(now: 0) }
        #expect(waits.prefix(10).allSatisfy { $0 == 0 })
        #expect(abs(waits[10] - 0.2) < 1e-9 && abs(waits[11] - 0.4) < 1e-9)
        // After two idle seconds, ten tokens have accrued again (minus the two borrowed).
        #expect(bucket.reserve(now: 2.0) == 0)
        var later = TokenBucket(rate: 5, burst: 10)
        for _ in 0..<10 { _ = later.reserve(now: 0) }
        #expect(later.reserve(now: 100) == 0, "tokens refill up to the burst")
    }
}

@Suite struct DecodingTests {
    @Test func builtInListItemsAndObjectsWithoutTypeMetaDecode() throws {
        // Real API servers omit apiVersion and kind on the items of built-in lists.
        let list = Array(#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":""},"items":[{"metadata":{"name":"a"},"data":{"k":"v"}}]}"#.utf8)
        let decoded = try decodeList(ConfigMap.self, list)
        #expect(decoded.items.map { $0.metadata.name } == ["a"] && decoded.items[0].kind == "ConfigMap" && decoded.items[0].apiVersion == "v1")
        #expect(decoded.resourceVersion == "7" && decoded.continueToken == nil)
        let object = try decodeObject(Lease.self, Array(#"{"metadata":{"name":"l"},"spec":{"renewTime":"2024-05-01T12:00:00.123456Z"}}"#.utf8))
        #expect(object.kind == "Lease" && object.spec?.renewTime?.description == "2024-05-01T12:00:00.123456Z")
        #expect(throws: KubeAPIError.self) { try decodeObject(Lease.self, Array("[1]".utf8)) }
    }
}
