import Foundation
import KubeClient
import KubeModel

/// A container's environment as the kubelet assembles it: `envFrom` sources, then `env`
/// (literal values with `$(VAR)` expansion, the downward API's `fieldRef`, ConfigMap and
/// Secret keys), then the service-link variables every Pod gets for the API server.
enum ContainerEnvironment {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func resolve(pod: Pod, container: JSONValue, podIP: String, apiHost: String, apiPort: String, client: KubeClient) async throws -> [String: String] {
        let namespace = pod.metadata.namespace ?? "default"
        var env: [String: String] = [:]
        for source in container["envFrom"]?.arrayValue ?? [] {
            let prefix = source["prefix"]?.stringValue ?? ""
            if let name = source["configMapRef"]?["name"]?.stringValue {
                let data = try await read("configmaps", name, namespace, client, optional: source["configMapRef"]?["optional"]?.boolValue == true)
                for (k, v) in data { env[prefix + k] = v }
            }
            if let name = source["secretRef"]?["name"]?.stringValue {
                let data = try await read("secrets", name, namespace, client, optional: source["secretRef"]?["optional"]?.boolValue == true)
                for (k, v) in data { env[prefix + k] = v }
            }
        }
        for variable in container["env"]?.arrayValue ?? [] {
            guard let name = variable["name"]?.stringValue else { continue }
            if let value = variable["value"]?.stringValue {
                env[name] = ProcessContainer.expand(value, env)
            } else if let from = variable["valueFrom"] {
                if let field = from["fieldRef"]?["fieldPath"]?.stringValue {
                    env[name] = try fieldValue(field, pod: pod, podIP: podIP)
                } else if let ref = from["configMapKeyRef"] ?? from["secretKeyRef"] {
                    let kind = from["configMapKeyRef"] != nil ? "configmaps" : "secrets"
                    let optional = ref["optional"]?.boolValue == true
                    let data = try await read(kind, ref["name"]?.stringValue ?? "", namespace, client, optional: optional)
                    let key = ref["key"]?.stringValue ?? ""
                    if let value = data[key] {
                        env[name] = value
                    } else if !optional {
                        throw Failure(description: "couldn't find key \(key) in \(kind == "secrets" ? "Secret" : "ConfigMap") \(namespace)/\(ref["name"]?.stringValue ?? "")")
                    }
                } else {
                    env[name] = ""
                }
            } else {
                env[name] = ""
            }
        }
        env["KUBERNETES_SERVICE_HOST"] = apiHost
        env["KUBERNETES_SERVICE_PORT"] = apiPort
        env["KUBERNETES_SERVICE_PORT_HTTPS"] = apiPort
        env["HOSTNAME"] = pod.metadata.name ?? ""
        if env["PATH"] == nil { env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
        return env
    }

    /// The downward API fields a `fieldRef` may name.
    static func fieldValue(_ path: String, pod: Pod, podIP: String) throws -> String {
        switch path {
        case "metadata.name": return pod.metadata.name ?? ""
        case "metadata.namespace": return pod.metadata.namespace ?? ""
        case "metadata.uid": return pod.metadata.uid ?? ""
        case "spec.nodeName": return pod.spec?["nodeName"]?.stringValue ?? ""
        case "spec.serviceAccountName": return pod.spec?["serviceAccountName"]?.stringValue ?? "default"
        case "status.podIP", "status.podIPs": return podIP
        case "status.hostIP", "status.hostIPs": return "127.0.0.1"
        default:
            for (prefix, map) in [("metadata.labels['", pod.metadata.labels), ("metadata.annotations['", pod.metadata.annotations)] where path.hasPrefix(prefix) && path.hasSuffix("']") {
                let key = String(path.dropFirst(prefix.count).dropLast(2))
                return map?[key] ?? ""
            }
            throw Failure(description: "unsupported fieldRef fieldPath \"\(path)\"")
        }
    }

    private static func read(_ kind: String, _ name: String, _ namespace: String, _ client: KubeClient, optional: Bool) async throws -> [String: String] {
        let object: JSONValue
        do {
            object = try await client.request("GET", "/api/v1/namespaces/\(namespace)/\(kind)/\(name)")
        } catch let e as KubeAPIError where e.isNotFound {
            if optional { return [:] }
            throw Failure(description: "\(kind == "secrets" ? "secret" : "configmap") \"\(name)\" not found")
        }
        var out: [String: String] = [:]
        for (k, v) in object["data"]?.objectValue ?? JSONObject() {
            guard let s = v.stringValue else { continue }
            out[k] = kind == "secrets" ? (Data(base64Encoded: s).flatMap { String(data: $0, encoding: .utf8) } ?? "") : s
        }
        return out
    }
}
