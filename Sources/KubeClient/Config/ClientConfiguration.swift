import Foundation
import KubeModel

/// Everything needed to reach one API server: where, how to trust it, how to authenticate,
/// and how hard the client may push. Built from a kubeconfig context or from in-cluster
/// service-account files.
public struct ClientConfiguration: Sendable {
    /// e.g. `https://127.0.0.1:6443`, without a trailing slash.
    public var server: String
    /// PEM bundle of trusted CAs; nil trusts the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    public var insecureSkipTLSVerify = false
    /// PEM client certificate and key for mutual TLS.
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var credentials: Credentials = .none
    /// The namespace of the context (or the service account); requests that need one and get
    /// none use it.
    public var namespace = "default"
    /// Client-side rate limit, as client-go's `QPS`/`Burst` (defaults 5 and 10).
    public var qps: Double = 5
    public var burst = 10
    /// Per-request timeout; watches use their own `timeoutSeconds` instead.
    public var timeout: Duration = .seconds(30)
    /// How long a token read from a file is used before the file is read again.
    public var tokenRefreshInterval: Duration = .seconds(60)
    /// Sent as `User-Agent`; the API server records it in managedFields and logs.
    public var userAgent = "llmops-kubeclient"
    /// Told the verb and status code of every request as it completes (0 when no answer
    /// came), as client-go's request-result metric hook; the operator counts them in
    /// `rest_client_requests_total`.
    public var requestObserver: (@Sendable (_ method: String, _ code: Int) -> Void)?

    public enum Credentials: Sendable {
        case none
        case bearer(String)
        /// A token file re-read when it changes (projected service-account tokens rotate).
        case tokenFile(String)
    }

    public init(server: String) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
    }

    /// The connection a kubeconfig context describes (`context` nil: the current context).
    public static func from(_ config: KubeConfig, context requested: String? = nil) throws(KubeConfigError) -> ClientConfiguration {
        let source = config.sourceDirectory ?? "kubeconfig"
        guard let contextName = requested ?? config.currentContext else {
            throw KubeConfigError(
                source: source, field: "current-context",
                message: "no context selected: set current-context or pass a context (known: \(config.contexts.keys.sorted().joined(separator: ", ")))")
        }
        guard let context = config.contexts[contextName] else {
            throw KubeConfigError(
                source: source, field: "contexts",
                message: "context \"\(contextName)\" not found (known: \(config.contexts.keys.sorted().joined(separator: ", ")))")
        }
        guard let cluster = config.clusters[context.cluster] else {
            throw KubeConfigError(source: source, field: "contexts[\(contextName)].cluster", message: "cluster \"\(context.cluster)\" not found")
        }
        guard URL(string: cluster.server)?.scheme != nil, let host = URL(string: cluster.server)?.host, !host.isEmpty else {
            throw KubeConfigError(source: source, field: "clusters[\(context.cluster)].server", message: "\"\(cluster.server)\" is not a URL like https://host:port")
        }
        var result = ClientConfiguration(server: cluster.server)
        result.namespace = context.namespace ?? "default"
        result.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify
        if cluster.tlsServerName != nil {
            throw KubeConfigError(
                source: source, field: "clusters[\(context.cluster)].tls-server-name",
                message: "overriding the TLS server name is not supported; use a server address the certificate names")
        }
        result.certificateAuthorityPEM = try either(cluster.certificateAuthorityData, cluster.certificateAuthority, source, "clusters[\(context.cluster)].certificate-authority")
        if !context.user.isEmpty {
            guard let user = config.users[context.user] else {
                throw KubeConfigError(source: source, field: "contexts[\(contextName)].user", message: "user \"\(context.user)\" not found")
            }
            if let mechanism = user.unsupportedMechanism, user.token == nil, user.tokenFile == nil, user.clientCertificateData == nil, user.clientCertificate == nil {
                throw KubeConfigError(
                    source: source, field: "users[\(context.user)].\(mechanism)",
                    message: "\(mechanism) credential plugins are not supported; use a token, token file or client certificate")
            }
            let field = "users[\(context.user)]"
            result.clientCertificatePEM = try either(user.clientCertificateData, user.clientCertificate, source, "\(field).client-certificate")
            result.clientKeyPEM = try either(user.clientKeyData, user.clientKey, source, "\(field).client-key")
            if (result.clientCertificatePEM == nil) != (result.clientKeyPEM == nil) {
                throw KubeConfigError(source: source, field: field, message: "a client certificate needs its key and a key its certificate")
            }
            if let token = user.token {
                result.credentials = .bearer(token)
            } else if let file = user.tokenFile {
                _ = try readFile(file, source, "\(field).tokenFile")
                result.credentials = .tokenFile(file)
            }
        }
        return result
    }

    /// Where the API server is from inside a pod: the service-account token (re-read as it
    /// rotates), its CA and namespace, and `KUBERNETES_SERVICE_HOST`/`_PORT`. The files are
    /// read from the standard mount path unless `LLMOPS_SERVICEACCOUNT_DIR` names another:
    /// `llmops up`'s simulated kubelet runs Pods as plain processes and cannot mount there.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String? = nil
    ) throws(KubeConfigError) -> ClientConfiguration {
        let serviceAccountDirectory = serviceAccountDirectory ?? environment[serviceAccountDirectoryVariable] ?? "/var/run/secrets/kubernetes.io/serviceaccount"
        let source = "in-cluster configuration"
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty, let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw KubeConfigError(source: source, field: "KUBERNETES_SERVICE_HOST", message: "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host  // IPv6 literal
        var result = ClientConfiguration(server: "https://\(hostPart):\(port)")
        let token = "\(serviceAccountDirectory)/token"
        _ = try readFile(token, source, "token")
        result.credentials = .tokenFile(token)
        result.certificateAuthorityPEM = try readFile("\(serviceAccountDirectory)/ca.crt", source, "ca.crt")
        if let ns = try? String(contentsOfFile: "\(serviceAccountDirectory)/namespace", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !ns.isEmpty {
            result.namespace = ns
        }
        return result
    }

    /// The environment variable that moves the in-cluster token directory (see `inCluster`).
    public static let serviceAccountDirectoryVariable = "LLMOPS_SERVICEACCOUNT_DIR"

    /// controller-runtime's order: an explicit kubeconfig path, then `$KUBECONFIG` (a
    /// colon-separated list, merged), then in-cluster, then `~/.kube/config`.
    public static func load(
        kubeconfig: String? = nil, context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KubeConfigError) -> ClientConfiguration {
        if let kubeconfig { return try from(KubeConfig.load(path: kubeconfig), context: context) }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            var configs: [KubeConfig] = []
            for path in list.split(separator: ":").map(String.init) where FileManager.default.fileExists(atPath: path) {
                configs.append(try KubeConfig.load(path: path))
            }
            guard !configs.isEmpty else {
                throw KubeConfigError(source: "KUBECONFIG", field: "", message: "none of the files in \"\(list)\" exists")
            }
            return try from(KubeConfig.merging(configs), context: context)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil { return try inCluster(environment: environment) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let fallback = "\(home)/.kube/config"
        guard FileManager.default.fileExists(atPath: fallback) else {
            throw KubeConfigError(source: fallback, field: "", message: "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or run in a pod")
        }
        return try from(KubeConfig.load(path: fallback), context: context)
    }
}

/// Inline data if given, else the file's contents, else nil.
private func either(_ inline: [UInt8]?, _ path: String?, _ source: String, _ field: String) throws(KubeConfigError) -> [UInt8]? {
    if let inline { return inline }
    guard let path else { return nil }
    return try readFile(path, source, field) as [UInt8]
}

private func readFile(_ path: String, _ source: String, _ field: String) throws(KubeConfigError) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw KubeConfigError(source: source, field: field, message: "cannot read \(path)")
    }
    return Array(data)
}

/// The bearer token for each request. A token file is re-read at most once a minute (as
/// client-go does), so a rotated projected token is picked up without a restart.
final class TokenSource: Sendable {
    private let credentials: ClientConfiguration.Credentials
    private let refresh: Duration
    private let cache = LockedValue<(token: String, readAt: ContinuousClock.Instant)?>(nil)

    init(_ credentials: ClientConfiguration.Credentials, refresh: Duration = .seconds(60)) {
        self.credentials = credentials
        self.refresh = refresh
    }

    func token() -> String? {
        switch credentials {
        case .none: return nil
        case .bearer(let token): return token
        case .tokenFile(let path):
            let now = ContinuousClock.now
            if let cached = cache.value, now - cached.readAt < refresh { return cached.token }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return cache.value?.token }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            cache.value = (token, now)
            return token
        }
    }
}
