import Foundation
import KubeModel

/// A kubeconfig file (`clusters`, `users`, `contexts`, `current-context`) as kubectl reads it.
/// Only what selecting a context and connecting needs is interpreted; exec and auth-provider
/// plugins are reported as unsupported rather than ignored.
public struct KubeConfig: Sendable, Equatable {
    public struct Cluster: Sendable, Equatable {
        public var server: String
        public var certificateAuthority: String?
        public var certificateAuthorityData: [UInt8]?
        public var insecureSkipTLSVerify: Bool
        public var tlsServerName: String?
    }

    public struct User: Sendable, Equatable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: [UInt8]?
        public var clientKey: String?
        public var clientKeyData: [UInt8]?
        /// Set when the user authenticates through a plugin this client does not run.
        public var unsupportedMechanism: String?
    }

    public struct Context: Sendable, Equatable {
        public var cluster: String
        public var user: String
        public var namespace: String?
    }

    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    public var currentContext: String?
    /// The file the config came from; relative certificate and token paths resolve against its folder.
    public var sourceDirectory: String?

    public init() {}

    /// Parses kubeconfig YAML. `source` names the file in errors and anchors relative paths.
    public init(yaml text: String, source: String = "kubeconfig") throws(KubeConfigError) {
        let root: JSONValue
        do {
            let documents = try YAMLDocuments.read(text)
            root = documents.first { $0.value != .null }?.value ?? .object(JSONObject())
        } catch {
            throw KubeConfigError(source: source, field: "", message: "not valid YAML: \(error)")
        }
        guard case .object(let object) = root else {
            throw KubeConfigError(source: source, field: "", message: "must be a mapping with clusters, users and contexts, not a \(root.typeName)")
        }
        if source != "kubeconfig" { sourceDirectory = (source as NSString).deletingLastPathComponent }
        currentContext = object["current-context"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }

        func entries(_ key: String, _ inner: String) throws(KubeConfigError) -> [(String, JSONObject, String)] {
            guard let value = object[key], value != .null else { return [] }
            guard case .array(let items) = value else { throw KubeConfigError(source: source, field: key, message: "must be a list") }
            var out: [(String, JSONObject, String)] = []
            for (i, item) in items.enumerated() {
                let path = "\(key)[\(i)]"
                guard case .string(let name)? = item["name"], !name.isEmpty else {
                    throw KubeConfigError(source: source, field: "\(path).name", message: "Required value: every entry needs a name")
                }
                guard case .object(let body)? = item[inner] else {
                    throw KubeConfigError(source: source, field: "\(path).\(inner)", message: "Required value: must be a mapping")
                }
                out.append((name, body, "\(path).\(inner)"))
            }
            return out
        }
        func string(_ o: JSONObject, _ key: String, _ path: String) throws(KubeConfigError) -> String? {
            guard let v = o[key], v != .null else { return nil }
            guard case .string(let s) = v else { throw KubeConfigError(source: source, field: "\(path).\(key)", message: "must be a string") }
            return s.isEmpty ? nil : s
        }
        func base64(_ o: JSONObject, _ key: String, _ path: String) throws(KubeConfigError) -> [UInt8]? {
            guard let text = try string(o, key, path) else { return nil }
            guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else {
                throw KubeConfigError(source: source, field: "\(path).\(key)", message: "is not valid base64")
            }
            return Array(data)
        }

        for (name, body, path) in try entries("clusters", "cluster") {
            guard let server = try string(body, "server", path) else {
                throw KubeConfigError(source: source, field: "\(path).server", message: "Required value: the API server URL, e.g. https://127.0.0.1:6443")
            }
            clusters[name] = Cluster(
                server: server, certificateAuthority: try string(body, "certificate-authority", path),
                certificateAuthorityData: try base64(body, "certificate-authority-data", path),
                insecureSkipTLSVerify: body["insecure-skip-tls-verify"]?.boolValue ?? false,
                tlsServerName: try string(body, "tls-server-name", path))
        }
        for (name, body, path) in try entries("users", "user") {
            var user = User(
                token: try string(body, "token", path), tokenFile: try string(body, "tokenFile", path),
                clientCertificate: try string(body, "client-certificate", path),
                clientCertificateData: try base64(body, "client-certificate-data", path),
                clientKey: try string(body, "client-key", path), clientKeyData: try base64(body, "client-key-data", path))
            for plugin in ["exec", "auth-provider"] where body[plugin] != nil && body[plugin] != .null {
                user.unsupportedMechanism = plugin
            }
            users[name] = user
        }
        for (name, body, path) in try entries("contexts", "context") {
            guard let cluster = try string(body, "cluster", path) else {
                throw KubeConfigError(source: source, field: "\(path).cluster", message: "Required value: the cluster this context uses")
            }
            contexts[name] = Context(cluster: cluster, user: try string(body, "user", path) ?? "", namespace: try string(body, "namespace", path))
        }
    }

    /// Reads and parses a kubeconfig file.
    public static func load(path: String) throws(KubeConfigError) -> KubeConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeConfigError(source: path, field: "", message: "cannot read the file: \(error.localizedDescription)")
        }
        return try KubeConfig(yaml: text, source: path)
    }

    /// Merges several files the way `KUBECONFIG=a:b` does: the first file to define a name
    /// (or the current context) wins.
    public static func merging(_ configs: [KubeConfig]) -> KubeConfig {
        var merged = KubeConfig()
        for c in configs {
            merged.clusters.merge(c.clusters.mapValues { $0.resolvingPaths(c.sourceDirectory) }) { first, _ in first }
            merged.users.merge(c.users.mapValues { $0.resolvingPaths(c.sourceDirectory) }) { first, _ in first }
            merged.contexts.merge(c.contexts) { first, _ in first }
            if merged.currentContext == nil { merged.currentContext = c.currentContext }
        }
        return merged
    }
}

extension KubeConfig.Cluster {
    func resolvingPaths(_ dir: String?) -> Self {
        var c = self
        c.certificateAuthority = c.certificateAuthority.map { resolve($0, dir) }
        return c
    }
}

extension KubeConfig.User {
    func resolvingPaths(_ dir: String?) -> Self {
        var u = self
        u.tokenFile = u.tokenFile.map { resolve($0, dir) }
        u.clientCertificate = u.clientCertificate.map { resolve($0, dir) }
        u.clientKey = u.clientKey.map { resolve($0, dir) }
        return u
    }
}

private func resolve(_ path: String, _ dir: String?) -> String {
    guard !path.hasPrefix("/"), let dir, !dir.isEmpty else { return path }
    return (dir as NSString).appendingPathComponent(path)
}

/// A kubeconfig that cannot be used: which file, which field, and what is wrong.
public struct KubeConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var field: String
    public var message: String

    public init(source: String, field: String, message: String) {
        self.source = source
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? "\(source): \(message)" : "\(source): \(field): \(message)" }
}
