import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import LLMOpsAPI
import LLMOpsCore
import Logging
import ServiceLifecycle

/// The llmops operator: the LLMDeployment, ScalingPolicy and CanaryRun controllers on one
/// `KubeRuntime` manager. It sees only the API server and the serving Pods' metrics (or
/// Prometheus), so it runs the same on a real cluster and on `llmops up`.
public final class Operator: ServiceLifecycle.Service, Sendable {
    public struct Options: Sendable {
        /// Namespaces to watch; empty watches all.
        public var watchNamespaces: [String] = []
        public var catalog: GPUCatalog = .standard
        public var leaderElection: LeaderElector.Configuration?
        public var healthPort: Int?
        public var healthHost = "127.0.0.1"
        public var metricsPort: Int?
        public var metricsHost = "127.0.0.1"
        /// Prometheus' base URL; nil scrapes the serving Pods' `/metrics` directly.
        public var prometheusURL: String?
        /// The operator's clock (fast-forwarded only against a time-scaled simulation).
        public var clock = OperatorClock()
        /// The registry behind `/metrics`; pass the one whose `restClientObserver` the client
        /// reports to, so API requests are counted beside the reconciles.
        public var metrics = RuntimeMetrics()
        /// The address the activator listens on and EndpointSlices name (this Pod's IP);
        /// nil turns scale from zero off: a Service at zero replicas has no endpoint.
        public var activatorAddress: String?
        /// Ports the activator may listen on, one per LLMDeployment at zero (a NetworkPolicy
        /// can allow the range); nil picks free ports.
        public var activatorPorts: ClosedRange<Int>?
        public init() {}
    }

    public let manager: Manager
    let options: Options
    let metrics: any ServingMetricsSource
    let scraper: PodMetricsScraper
    let activator: Activator?

    public init(client: KubeClient, options: Options, logger: Logger) {
        self.options = options
        var managerOptions = Manager.Options(leaderElection: options.leaderElection, healthPort: options.healthPort)
        managerOptions.healthHost = options.healthHost
        managerOptions.metricsHost = options.metricsHost
        managerOptions.metricsPort = options.metricsPort
        let manager = Manager(client: client, options: managerOptions, metrics: options.metrics, logger: logger)
        self.manager = manager
        let namespaces = Set(options.watchNamespaces)
        // One namespace narrows the informers; several are filtered per event.
        let informerNamespace = namespaces.count == 1 ? namespaces.first : nil
        let watched: @Sendable (String?) -> Bool = { ns in namespaces.isEmpty || namespaces.contains(ns ?? "") }
        let events = EventRecorder(client: client, component: "llmops-operator", logger: logger)
        let decisions = ServingDecisions(catalog: options.catalog)
        let llmds = manager.informer(LLMDeployment.self, options: .init(namespace: informerNamespace))
        let children = manager.informer(Deployment.self, options: .init(namespace: informerNamespace, labelSelector: "app.kubernetes.io/managed-by=llmops"))
        let services = manager.informer(KubeModel.Service.self, options: .init(namespace: informerNamespace, labelSelector: "app.kubernetes.io/managed-by=llmops"))
        let podOptions = Informer<Pod>.Options(namespace: informerNamespace, labelSelector: "app.kubernetes.io/managed-by=llmops")
        let pods = manager.informer(Pod.self, options: podOptions)

        let activator = options.activatorAddress.map { address in
            Activator(
                bindHost: address, advertiseAddress: address, ports: options.activatorPorts, podPort: Int(ServingWorkload.port), timeout: .seconds(600),
                now: { [clock = options.clock] in clock.now() }, logger: logger)
        }
        self.activator = activator
        let sliceOptions = Informer<EndpointSlice>.Options(
            namespace: informerNamespace, labelSelector: "endpointslice.kubernetes.io/managed-by=\(LLMDeploymentController.activatorManager)")
        let activatorSlices = activator.map { _ in manager.informer(EndpointSlice.self, options: sliceOptions) }
        let llmdController = LLMDeploymentController(
            client: client, deployments: llmds.cache, children: children.cache, services: services.cache, pods: pods.cache, decisions: decisions, events: events,
            logger: logger, activator: activator, activatorSlices: activatorSlices?.cache)
        var llmdBuilder = manager.controller("llmdeployment")
            .for(LLMDeployment.self, options: .init(namespace: informerNamespace))
            .owns(Deployment.self, options: .init(namespace: informerNamespace, labelSelector: "app.kubernetes.io/managed-by=llmops"))
            .watches(Pod.self, options: podOptions) { pod in
                guard let owner = pod.metadata.labels?[ServingWorkload.nameLabel] else { return [] }
                return [ReconcileRequest(namespace: pod.metadata.namespace, name: owner)]
            }
        if activator != nil {
            // A deleted or edited activator slice is put back.
            llmdBuilder = llmdBuilder.watches(EndpointSlice.self, options: sliceOptions) { slice in
                guard let service = slice.metadata.labels?["kubernetes.io/service-name"] else { return [] }
                return [ReconcileRequest(namespace: slice.metadata.namespace, name: service)]
            }
        }
        llmdBuilder
            .concurrency(4)
            .complete { request, _ in
                guard watched(request.namespace) else { return .done }
                return try await llmdController.reconcile(request)
            }

        let policies = manager.informer(ScalingPolicy.self, options: .init(namespace: informerNamespace))
        let metrics: any ServingMetricsSource = options.prometheusURL.map { PrometheusMetricsSource(baseURL: $0, speedup: options.clock.speedup) } ?? PodMetricsScraper()
        self.metrics = metrics
        let scaler = ScalingPolicyController(
            client: client, policies: policies.cache, deployments: llmds.cache, pods: pods.cache, metrics: metrics, decisions: decisions, clock: options.clock,
            events: events, logger: logger, activator: activator)
        let runs = manager.informer(CanaryRun.self, options: .init(namespace: informerNamespace))
        let scraper = PodMetricsScraper()
        self.scraper = scraper
        let canary = CanaryRunController(
            client: client, runs: runs.cache, deployments: llmds.cache, children: children.cache, pods: pods.cache, scraper: scraper, decisions: decisions,
            clock: options.clock, events: events, logger: logger)
        manager.controller("canaryrun")
            .for(CanaryRun.self, options: .init(namespace: informerNamespace))
            .owns(Deployment.self, options: .init(namespace: informerNamespace, labelSelector: "app.kubernetes.io/managed-by=llmops"))
            .watches(LLMDeployment.self, options: .init(namespace: informerNamespace)) { canary.runsFor($0) }
            .concurrency(4)
            .complete { request, _ in
                guard watched(request.namespace) else { return .done }
                return try await canary.reconcile(request)
            }

        let scaling = manager.controller("scalingpolicy")
            .for(ScalingPolicy.self, options: .init(namespace: informerNamespace))
            .watches(LLMDeployment.self, options: .init(namespace: informerNamespace)) { scaler.policiesFor($0) }
            .concurrency(4)
            .complete { request, _ in
                guard watched(request.namespace) else { return .done }
                return try await scaler.reconcile(request)
            }
        // A held request wakes the policies of its target at once, not at their next period.
        activator?.connect(
            readyAddresses: { target in
                ServingWorkload.livePods(of: target.name, in: pods.cache.list(namespace: target.namespace)).filter(\.isReady).compactMap { $0.status?.podIP }
            },
            onDemand: { target in
                for sp in policies.cache.list(namespace: target.namespace) where sp.spec.targetRef.name == target.name {
                    scaling.queue.add(ReconcileRequest(namespace: target.namespace, name: sp.metadata.name ?? ""))
                }
            })
    }

    public func run() async throws {
        do {
            try await manager.run()
        } catch {
            await metrics.shutdown()
            await scraper.shutdown()
            throw error
        }
        await metrics.shutdown()
        await scraper.shutdown()
        await activator?.shutdown()
    }
}
