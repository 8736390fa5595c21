import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import ServiceLifecycle

/// What `llmops up --gpus` adds around the API server: simulated GPU nodes with their
/// kubelets, the scheduler, and the workload controllers of kube-controller-manager
/// (Deployment, ReplicaSet, EndpointSlice, node lifecycle). Every part is a client of the API
/// server through `KubeClient` and `KubeRuntime`, as the real components are; none reaches
/// into the store. On a real cluster none of this runs.
public final class LocalCluster: ServiceLifecycle.Service, Sendable {
    public struct Options: Sendable {
        public var topology: ClusterTopology
        public var clock: SimulationClock
        /// Called once every node is registered.
        public var onRegistered: @Sendable () -> Void
        /// Where Pods of the llmops image run as processes of `executable` keep their files
        /// (logs, ServiceAccount token); nil simulates them like any other container.
        public var podDirectory: URL?
        public var executable: String?
        public init(topology: ClusterTopology, clock: SimulationClock = .init(), onRegistered: @escaping @Sendable () -> Void = {}) {
            self.topology = topology
            self.clock = clock
            self.onRegistered = onRegistered
        }
    }

    let client: KubeClient
    let options: Options
    let logger: Logger
    let manager: Manager
    let kubelet: Kubelet
    let nodeAgent: NodeAgent

    public init(client: KubeClient, options: Options, logger: Logger = Logger(label: "llmops.cluster")) {
        self.client = client
        self.options = options
        self.logger = logger
        let manager = Manager(client: client, options: .init(), logger: logger)
        self.manager = manager
        let clock = options.clock
        let nodes = options.topology.nodes
        let podInformer = manager.informer(Pod.self)
        let nodeInformer = manager.informer(Node.self)
        let leaseInformer = manager.informer(Lease.self, options: .init(namespace: "kube-node-lease"))
        let rsInformer = manager.informer(ReplicaSet.self)
        let deployInformer = manager.informer(Deployment.self)
        let serviceInformer = manager.informer(KubeModel.Service.self)
        func recorder(_ component: String) -> EventRecorder { EventRecorder(client: client, component: component, instance: "llmops-up", logger: logger) }

        nodeAgent = NodeAgent(client: client, nodes: nodes, clock: clock, nodeCache: nodeInformer.cache, logger: logger)
        let scheduler = Scheduler(
            client: client, pods: podInformer.cache, nodes: nodeInformer.cache, events: recorder(Scheduler.name),
            retry: clock.scaled(seconds: 10, minimum: 1), logger: logger)
        manager.controller("scheduler").for(Pod.self)
            .watches(Node.self) { _ in podInformer.cache.list().filter(Scheduler.isOurs).map { ReconcileRequest($0.metadata) } }
            .concurrency(4)
            .complete { request, _ in try await scheduler.reconcile(request) }

        var processes: Kubelet.ProcessSettings?
        if let dir = options.podDirectory, let executable = options.executable { processes = .init(podDirectory: dir, executable: executable) }
        let kubelet = Kubelet(
            client: client, nodes: nodes, pods: podInformer.cache, nodeCache: nodeInformer.cache, clock: clock, events: recorder("kubelet"), logger: logger,
            processes: processes)
        self.kubelet = kubelet
        manager.controller("kubelet").for(Pod.self)
            .watches(Node.self) { node in kubelet.podsOn(node.metadata.name ?? "") }
            .concurrency(8)
            .complete { request, _ in try await kubelet.reconcile(request) }

        let lifecycle = NodeLifecycleController(
            client: client, nodes: nodeInformer.cache, leases: leaseInformer.cache, pods: podInformer.cache, clock: clock,
            heartbeat: NodeAgent.heartbeatInterval(nodes: nodes.count, clock: clock), events: recorder("node-controller"), logger: logger)
        manager.controller("node-lifecycle").for(Node.self)
            .watches(Lease.self, options: .init(namespace: "kube-node-lease")) { lease in [ReconcileRequest(namespace: nil, name: lease.metadata.name ?? "")] }
            .complete { request, _ in try await lifecycle.reconcile(request) }

        let replicaSets = ReplicaSetController(client: client, replicaSets: rsInformer.cache, pods: podInformer.cache, events: recorder("replicaset-controller"), logger: logger)
        manager.controller("replicaset").for(ReplicaSet.self).owns(Pod.self).concurrency(4)
            .complete { request, _ in try await replicaSets.reconcile(request) }

        let deployments = DeploymentController(
            client: client, deployments: deployInformer.cache, replicaSets: rsInformer.cache, events: recorder("deployment-controller"), logger: logger)
        manager.controller("deployment").for(Deployment.self).owns(ReplicaSet.self).concurrency(4)
            .complete { request, _ in try await deployments.reconcile(request) }

        let namespaceInformer = manager.informer(Namespace.self)
        let accountInformer = manager.informer(ServiceAccount.self)
        let accounts = ServiceAccountController(client: client, namespaces: namespaceInformer.cache, accounts: accountInformer.cache)
        manager.controller("serviceaccount").for(Namespace.self)
            .watches(ServiceAccount.self) { sa in [ReconcileRequest(namespace: nil, name: sa.metadata.namespace ?? "")] }
            .complete { request, _ in try await accounts.reconcile(request) }

        let endpoints = EndpointSliceController(client: client, services: serviceInformer.cache, pods: podInformer.cache, nodes: nodeInformer.cache, logger: logger)
        manager.controller("endpointslice").for(KubeModel.Service.self)
            .watches(Pod.self) { pod in endpoints.servicesFor(pod) }
            .concurrency(2)
            .complete { request, _ in try await endpoints.reconcile(request) }
    }

    /// Registers the nodes, then runs heartbeats and controllers until shutdown.
    public func run() async throws {
        var attempt = 0
        while true {
            do {
                try await nodeAgent.register()
                break
            } catch {
                attempt += 1
                if attempt >= 20 { throw error }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        logger.info("registered \(options.topology.nodes.count) nodes")
        options.onRegistered()
        let heartbeat = Task { await nodeAgent.run() }
        defer { heartbeat.cancel() }
        try await manager.run()
        heartbeat.cancel()
        await kubelet.stopAll()
    }
}
