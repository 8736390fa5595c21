import KubeClient
import KubeModel
import Logging

/// Declares a controller as controller-runtime's builder does: `For` the primary kind,
/// `Owns` children (mapped to their controlling owner), `Watches` anything else with a
/// mapping, then `complete` with the reconcile function.
public struct ControllerBuilder: Sendable {
    let manager: Manager
    let name: String
    var concurrency = 1
    var rateLimiter = RateLimiter<ReconcileRequest>()
    var syncChecks: [@Sendable () async -> Void] = []
    var sources: [@Sendable (WorkQueue<ReconcileRequest>) -> Void] = []
    var primaryKind: ResourceType?

    init(manager: Manager, name: String) {
        self.manager = manager
        self.name = name
    }

    /// The primary kind: each of its objects is a reconcile request.
    public func `for`<T: KubeResource>(_ type: T.Type, options: Informer<T>.Options = .init()) -> ControllerBuilder {
        watches(type, options: options) { [ReconcileRequest($0.metadata)] }.primary(T.resourceType)
    }

    /// A child kind: an event on a child reconciles the primary object that controls it
    /// (the ownerReference with `controller: true` whose kind is the primary kind).
    public func owns<T: KubeResource>(_ type: T.Type, options: Informer<T>.Options = .init()) -> ControllerBuilder {
        precondition(primaryKind != nil, "call for(_:) before owns(_:)")
        let owner = primaryKind!
        return watches(type, options: options) { child in
            guard let ref = child.metadata.ownerReferences?.first(where: { $0.controller == true }),
                ref.kind == owner.kind, ref.apiVersion.split(separator: "/").first.map(String.init) == (owner.group.isEmpty ? owner.version : owner.group)
            else { return [] }
            // Owners live in the child's namespace, or in none when cluster-scoped.
            return [ReconcileRequest(namespace: owner.namespaced ? child.metadata.namespace : nil, name: ref.name)]
        }
    }

    /// Any kind, mapped to the requests its events should cause.
    public func watches<T: KubeResource>(
        _ type: T.Type, options: Informer<T>.Options = .init(), map: @escaping @Sendable (T) -> [ReconcileRequest]
    ) -> ControllerBuilder {
        var b = self
        let informer = manager.informer(T.self, options: options)
        b.syncChecks.append { await informer.waitForSync() }
        b.sources.append { queue in
            informer.addHandler { event in
                var requests = map(event.object)
                if case .updated(let old, let new) = event, old.metadata.resourceVersion != new.metadata.resourceVersion {
                    // e.g. a child moved to another owner: both hear of it. A key both versions
                    // map to is added once: a worker could take it between two adds and the
                    // second would cost a second reconcile for one change.
                    for r in map(old) where !requests.contains(r) { requests.append(r) }
                }
                for r in requests { queue.add(r) }
            }
        }
        return b
    }

    /// How many keys are reconciled in parallel (never the same key twice).
    public func concurrency(_ n: Int) -> ControllerBuilder {
        var b = self
        b.concurrency = n
        return b
    }

    public func rateLimiter(_ limiter: RateLimiter<ReconcileRequest>) -> ControllerBuilder {
        var b = self
        b.rateLimiter = limiter
        return b
    }

    /// Builds the controller and registers it with the manager.
    @discardableResult
    public func complete(_ reconcile: @escaping Controller.Reconcile) -> Controller {
        let queue = WorkQueue(rateLimiter: rateLimiter, metrics: manager.metrics.queue(name: name))
        let controller = Controller(
            name: name, concurrency: concurrency, reconcile: reconcile, runtime: manager.metrics, logger: manager.logger,
            queue: queue, syncChecks: syncChecks, sources: sources.map { source in { @Sendable in source(queue) } })
        manager.add(controller)
        return controller
    }

    private func primary(_ kind: ResourceType) -> ControllerBuilder {
        var b = self
        b.primaryKind = kind
        return b
    }
}
