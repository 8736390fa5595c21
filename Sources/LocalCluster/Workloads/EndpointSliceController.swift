import KubeClient
import KubeModel
import KubeRuntime
import Logging

/// Publishes each selector Service's Pods as an EndpointSlice (`discovery.k8s.io/v1`), as
/// kube-controller-manager's endpointslice controller does: every matching Pod with an IP,
/// with `ready`, `serving` and `terminating` conditions, its node and zone, and the Service's
/// ports resolved against the containers' named ports. The slice is owned by the Service.
final class EndpointSliceController: Sendable {
    static let fieldManager = "endpointslice-controller.k8s.io"
    let client: KubeClient
    let services: ObjectCache<KubeModel.Service>
    let pods: ObjectCache<Pod>
    let nodes: ObjectCache<Node>
    let logger: Logger

    init(client: KubeClient, services: ObjectCache<KubeModel.Service>, pods: ObjectCache<Pod>, nodes: ObjectCache<Node>, logger: Logger) {
        self.client = client
        self.services = services
        self.pods = pods
        self.nodes = nodes
        self.logger = logger
    }

    /// Services whose selector matches the Pod.
    func servicesFor(_ pod: Pod) -> [ReconcileRequest] {
        let labels = pod.metadata.labels ?? [:]
        return services.list(namespace: pod.metadata.namespace).filter { s in
            guard let sel = s.spec?.selector, !sel.isEmpty else { return false }
            return sel.allSatisfy { labels[$0.key] == $0.value }
        }.map { ReconcileRequest($0.metadata) }
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let svc = services.get(key), let selector = svc.spec?.selector, !selector.isEmpty, svc.metadata.deletionTimestamp == nil else { return .done }
        let matching = pods.list(namespace: key.namespace).filter { p in
            let labels = p.metadata.labels ?? [:]
            return selector.allSatisfy { labels[$0.key] == $0.value } && (p.status?.podIP ?? "").isEmpty == false
                && p.status?.phase != "Failed" && p.status?.phase != "Succeeded"
        }.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
        let endpoints = matching.map { p -> EndpointSlice.Endpoint in
            let ready = p.isReady
            let terminating = p.metadata.deletionTimestamp != nil
            let node = p.spec?["nodeName"]?.stringValue
            return EndpointSlice.Endpoint(
                addresses: [p.status?.podIP ?? ""], conditions: .init(ready: ready && !terminating, serving: ready, terminating: terminating), nodeName: node,
                zone: node.flatMap { nodes.get(namespace: nil, name: $0)?.metadata.labels?["topology.kubernetes.io/zone"] },
                targetRef: .init(kind: "Pod", namespace: p.metadata.namespace, name: p.metadata.name ?? "", uid: p.metadata.uid))
        }
        let ports = (svc.spec?.ports ?? []).map { port -> EndpointSlice.Port in
            EndpointSlice.Port(name: port.name ?? "", port: resolve(port, matching.first), protocol: port.protocol ?? "TCP")
        }
        var meta = ObjectMeta(
            name: key.name, namespace: key.namespace,
            labels: ["kubernetes.io/service-name": key.name, "endpointslice.kubernetes.io/managed-by": Self.fieldManager])
        meta.ownerReferences = svc.controllerReference().map { [$0] }
        let slice = EndpointSlice(metadata: meta, addressType: "IPv4", endpoints: endpoints, ports: ports)
        _ = try await client.apply(slice, fieldManager: Self.fieldManager, force: true)
        return .done
    }

    /// The Service port's target on the Pod: a number, or a container port's name.
    private func resolve(_ port: KubeModel.Service.Port, _ pod: Pod?) -> Int32 {
        if let n = port.targetPort?.intValue { return Int32(n) }
        if let name = port.targetPort?.stringValue, let pod {
            for c in pod.spec?["containers"]?.arrayValue ?? [] {
                for p in c["ports"]?.arrayValue ?? [] where p["name"]?.stringValue == name {
                    if let n = p["containerPort"]?.intValue { return Int32(n) }
                }
            }
        }
        return port.port
    }
}
