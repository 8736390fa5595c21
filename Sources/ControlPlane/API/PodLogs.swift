import Foundation
import KubeModel

/// `GET pods/NAME/log` (`kubectl logs`): a container's output, for the Pods the local cluster
/// runs as processes (the operator installed by kustomize or Helm), from the files its kubelet
/// writes; other Pods have none. `container`, `tailLines` and `limitBytes` are honoured;
/// `follow` returns what has been written so far.
extension APIHandler {
    func podLog(_ path: ResourcePath, _ name: String, _ r: APIRequest) async throws -> APIResponse {
        let namespace = path.namespace ?? "default"
        guard let pod = await store.find(StoreKey(resource: "core/pods", namespace: namespace, name: name)) else {
            throw APIError.notFound("pods", name)
        }
        let containers = (pod["spec"]?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let container = r.query["container"].flatMap { $0.isEmpty ? nil : $0 } ?? containers.first ?? ""
        guard containers.contains(container) else {
            let choices = containers.joined(separator: " ")
            throw APIError.badRequest("container \(container) is not valid for pod \(name); choose one of: [\(choices)]")
        }
        var text = ""
        if let dir = podLogDirectory {
            let file = dir.appendingPathComponent("\(namespace)_\(name)_\(pod["metadata"]?["uid"]?.stringValue ?? "")").appendingPathComponent("\(container).log")
            text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        }
        if let tail = r.query["tailLines"].flatMap(Int.init), tail >= 0 {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            text = lines.suffix(tail).map { $0 + "\n" }.joined()
        }
        var bytes = Array(text.utf8)
        if let limit = r.query["limitBytes"].flatMap(Int.init), limit >= 0, bytes.count > limit { bytes = Array(bytes.prefix(limit)) }
        var response = APIResponse(status: 200, encodedBody: bytes, summary: .string("log of \(namespace)/\(name)/\(container)"))
        response.contentType = "text/plain"
        return response
    }
}
