import KubeClient
import KubeModel
import KubeRuntime

/// kube-controller-manager's ServiceAccount controller: every active namespace has a
/// `default` ServiceAccount (Pods that name none run as it), recreated if deleted.
struct ServiceAccountController: Sendable {
    let client: KubeClient
    let namespaces: ObjectCache<Namespace>
    let accounts: ObjectCache<ServiceAccount>

    func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult {
        guard let ns = namespaces.get(namespace: nil, name: request.name), ns.metadata.deletionTimestamp == nil else { return .done }
        if accounts.get(namespace: request.name, name: "default") != nil { return .done }
        do {
            _ = try await client.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: request.name)), fieldManager: "serviceaccount-controller")
        } catch let e as KubeAPIError where e.isAlreadyExists {
        } catch let e as KubeAPIError {
            // A namespace being deleted refuses new objects: nothing to create.
            if case .forbidden = e { return .done }
            if e.isNotFound { return .done }
            throw e
        }
        return .done
    }
}
