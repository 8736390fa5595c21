import Foundation
import KubeModel

/// `llmops up`: the store, the REST semantics and the HTTPS server over one data directory,
/// plus the admin credentials and the kubeconfig that lets kubectl in.
public final class LocalControlPlane: Sendable {
    public let server: APIServer
    public let kubeconfig: String
    public let port: Int

    /// Opens (or initialises) `dataDirectory` and starts serving on `port` (0 picks a free one).
    public static func start(dataDirectory: URL, port: Int, auditLogPath: String? = nil) async throws -> LocalControlPlane {
        let fm = FileManager.default
        try fm.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let store = try ObjectStore(path: dataDirectory.appendingPathComponent("state.db").path)
        let handler = try await APIHandler(store: store)
        // The namespaces every cluster starts with; kept if they already exist.
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let body = Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(ns)"}}"#.utf8)
            let response = await handler.handle(APIRequest(method: "POST", path: "/api/v1/namespaces", body: body, contentType: "application/json"))
            guard response.status == 201 || response.status == 409 else { throw BootstrapError(message: "cannot create namespace \(ns): \(response.body)") }
        }
        let certificates = try ServingCertificates.loadOrCreate(in: dataDirectory.appendingPathComponent("pki"))
        try await BootstrapPolicy.install(handler)
        let token = try loadOrCreateToken(dataDirectory.appendingPathComponent("admin.token"))
        let tokens = try ServiceAccountTokens.loadOrCreate(dataDirectory.appendingPathComponent("pki/service-account.key"))
        let authenticator = Authenticator(adminToken: token, tokens: tokens, store: store)
        await handler.use(authenticator)
        // The local cluster's kubelet writes process Pods' output here (LocalCluster.Options.podDirectory).
        await handler.usePodLogs(dataDirectory.appendingPathComponent("pods"))
        var options = APIServer.Options(port: port, authenticator: authenticator)
        options.auditLog = try auditLogPath.map { try AuditLog(path: $0) }
        let server = try APIServer(handler: handler, store: store, certificates: certificates, options: options)
        let bound = try await server.start()
        let collector = GarbageCollector(store: store, handler: handler)
        let background = [
            Task { await collector.run() },
            Task { await Self.housekeeping(store) },
        ]
        return LocalControlPlane(server: server, port: bound, kubeconfig: kubeconfigYAML(port: bound, caPEM: certificates.caPEM, token: token), background: background)
    }

    private let background: [Task<Void, Never>]

    private init(server: APIServer, port: Int, kubeconfig: String, background: [Task<Void, Never>]) {
        self.server = server
        self.port = port
        self.kubeconfig = kubeconfig
        self.background = background
    }

    /// How often watchers get a bookmark, and how long the change log is kept for watches
    /// resuming from an older resourceVersion (the API server's defaults are about a minute
    /// and five minutes).
    static let bookmarkInterval: UInt64 = 15
    static let historySeconds = 300

    /// Bookmarks for watchers and compaction of the change log, until cancelled.
    static func housekeeping(_ store: ObjectStore) async {
        var marks: [Int64] = []  // the revision at each tick; compaction trails by `historySeconds`
        let keep = historySeconds / Int(bookmarkInterval)
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: bookmarkInterval * 1_000_000_000)
            await store.publishBookmark()
            marks.append(await store.revision)
            if marks.count > keep {
                try? await store.compact(upTo: marks.removeFirst())
            }
        }
    }

    static func loadOrCreateToken(_ file: URL) throws -> String {
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        var rng = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        try token.write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return token
    }

    static func kubeconfigYAML(port: Int, caPEM: String, token: String) -> String {
        let config: JSONValue = [
            "apiVersion": "v1", "kind": "Config", "current-context": "llmops",
            "clusters": [["name": "llmops", "cluster": ["server": .string("https://127.0.0.1:\(port)"), "certificate-authority-data": .string(Data(caPEM.utf8).base64EncodedString())]]],
            "users": [["name": "llmops-admin", "user": ["token": .string(token)]]],
            "contexts": [["name": "llmops", "context": ["cluster": "llmops", "user": "llmops-admin", "namespace": "default"]]],
        ]
        return YAMLDocuments.serialize(config)
    }

    public func shutdown() async throws {
        for t in background { t.cancel() }
        try await server.shutdown()
    }

    struct BootstrapError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
