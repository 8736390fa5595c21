import KubeClient
import KubeModel
import Logging
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Runs informers and controllers for one operator process, as controller-runtime's manager
/// does: caches start at once, controllers only while this process leads (if leader election
/// is on), `/metrics` `/healthz` `/readyz` are served, and a graceful shutdown (SIGTERM
/// through swift-service-lifecycle, or `stop()`) lets in-flight reconciles finish within
/// `shutdownTimeout`, then releases the lease.
public final class Manager: ServiceLifecycle.Service, Sendable {
    public struct Options: Sendable {
        /// nil: no leader election (a single replica).
        public var leaderElection: LeaderElector.Configuration?
        /// Where to serve metrics and probes; nil serves none.
        public var healthHost = "127.0.0.1"
        public var healthPort: Int?
        /// A separate address for `/metrics` alone (controller-runtime's metrics server); nil
        /// serves metrics with the probes only.
        public var metricsHost = "127.0.0.1"
        public var metricsPort: Int?
        public var shutdownTimeout: Duration = .seconds(30)
        public init(leaderElection: LeaderElector.Configuration? = nil, healthPort: Int? = nil) {
            self.leaderElection = leaderElection
            self.healthPort = healthPort
        }
    }

    public let client: KubeClient
    public let options: Options
    public let metrics: RuntimeMetrics
    let logger: Logger
    public let leaderElector: LeaderElector?

    private struct Registered {
        var informers: [String: (object: any Sendable, run: @Sendable () async -> Void, synced: @Sendable () -> Bool)] = [:]
        var controllers: [Controller] = []
    }
    private let registered = Mutex(Registered())
    private let shutdownSignal = AsyncStream<Void>.makeStream()
    private let health = Mutex<HealthServer?>(nil)
    private let metricsServer = Mutex<HealthServer?>(nil)
    private let state = Mutex<(running: Bool, stopping: Bool)>((false, false))

    public init(client: KubeClient, options: Options = .init(), metrics: RuntimeMetrics = RuntimeMetrics(), logger: Logger = Logger(label: "llmops.manager")) {
        self.client = client
        self.options = options
        self.metrics = metrics
        self.logger = logger
        if let config = options.leaderElection {
            let gauge = metrics.gauge("leader_election_master_status", [("name", config.leaseName)])
            leaderElector = LeaderElector(client: client, configuration: config, logger: logger, onStatus: { gauge.record($0 ? 1 : 0) })
        } else {
            leaderElector = nil
        }
    }

    /// The shared informer for `T` with these options (one list-watch however many
    /// controllers use it).
    public func informer<T: KubeResource>(_ type: T.Type, options: Informer<T>.Options = .init()) -> Informer<T> {
        let key = "\(T.resourceType)|\(options.namespace ?? "")|\(options.labelSelector ?? "")|\(options.fieldSelector ?? "")"
        return registered.withLock { r in
            if let existing = r.informers[key]?.object as? Informer<T> { return existing }
            let informer = Informer<T>(client: client, options: options, logger: logger)
            r.informers[key] = (informer, { await informer.run() }, { informer.hasSynced })
            return informer
        }
    }

    /// Starts declaring a controller.
    public func controller(_ name: String) -> ControllerBuilder { ControllerBuilder(manager: self, name: name) }

    func add(_ controller: Controller) {
        registered.withLock { $0.controllers.append(controller) }
    }

    /// Every informer has listed once.
    public var isReady: Bool { registered.withLock { $0.informers.values.allSatisfy { $0.synced() } } }

    /// The bound port of the health server, once running.
    public var healthPort: Int? { health.withLock { $0?.port } }

    /// Begins the graceful shutdown: no new work is handed out; in-flight reconciles get
    /// `shutdownTimeout` to finish.
    public func stop() {
        let first = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return !s.stopping
        }
        guard first else { return }
        logger.info("shutting down: draining in-flight reconciles")
        for c in registered.withLock({ $0.controllers }) { c.queue.shutdown() }
        shutdownSignal.continuation.yield()
        shutdownSignal.continuation.finish()
    }

    public enum ManagerError: Error, CustomStringConvertible {
        case leadershipLost
        case alreadyRunning
        public var description: String {
            switch self {
            case .leadershipLost: return "leadership lost: stopping so that only the new leader acts"
            case .alreadyRunning: return "the manager is already running"
            }
        }
    }

    public func run() async throws {
        guard state.withLock({ s in defer { s.running = true }; return !s.running }) else { throw ManagerError.alreadyRunning }
        if let port = options.healthPort {
            let server = try await HealthServer.start(host: options.healthHost, port: port) { [self] path in route(path) }
            health.withLock { $0 = server }
            logger.info("serving /metrics, /healthz and /readyz on \(options.healthHost):\(server.port)")
        }
        if let port = options.metricsPort {
            let server = try await HealthServer.start(host: options.metricsHost, port: port) { [self] path in
                path == "/metrics" ? route(path) : (.notFound, "text/plain", "not found\n")
            }
            metricsServer.withLock { $0 = server }
            logger.info("serving /metrics on \(options.metricsHost):\(server.port)")
        }
        var lost = false
        // A graceful shutdown of the service group and a cancelled task both stop the manager
        // the same way: drain in-flight reconciles, then return.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                lost = await runUntilStopped()
            } onGracefulShutdown: { [self] in
                stop()
            }
        } onCancel: { [self] in
            stop()
        }
        if !lost { await leaderElector?.release() }
        await health.withLock { $0 }?.stop()
        await metricsServer.withLock { $0 }?.stop()
        logger.info("stopped")
        if lost { throw ManagerError.leadershipLost }
    }

    private enum Stop: Sendable {
        case informer, controllers, leadershipLost, deadline
    }

    /// Returns true if leadership was lost.
    private func runUntilStopped() async -> Bool {
        let (informers, controllers) = registered.withLock { r in (r.informers.values.map(\.run), r.controllers) }
        var lostLeadership = false
        await withTaskGroup(of: Stop.self) { group in
            for run in informers { group.addTask { await run(); return .informer } }
            group.addTask { [self] in
                if let elector = leaderElector {
                    // Stop before leading: nothing to drain.
                    let acquired = await withTaskGroup(of: Bool.self) { race in
                        race.addTask { (try? await elector.acquire()) != nil }
                        race.addTask { [self] in
                            for await _ in shutdownSignal.stream {}
                            return false
                        }
                        let first = await race.next()!
                        race.cancelAll()
                        return first
                    }
                    guard acquired else { return .controllers }
                }
                await withTaskGroup(of: Void.self) { inner in
                    for c in controllers { inner.addTask { await c.run() } }
                }
                return .controllers
            }
            if let elector = leaderElector {
                group.addTask {
                    // Leadership must be held before it can be lost.
                    while !elector.isLeader { if (try? await Task.sleep(for: .milliseconds(100))) == nil { return .informer } }
                    return await elector.holdLeadership() ? .leadershipLost : .informer
                }
            }
            group.addTask { [self] in
                for await _ in shutdownSignal.stream {}
                guard (try? await Task.sleep(for: options.shutdownTimeout)) != nil else { return .informer }
                return .deadline
            }
            while let stop = await group.next() {
                switch stop {
                case .controllers:
                    group.cancelAll()
                case .leadershipLost:
                    lostLeadership = true
                    self.stop()
                case .deadline:
                    logger.warning("reconciles still running after \(options.shutdownTimeout); cancelling them")
                    group.cancelAll()
                case .informer:
                    continue
                }
            }
        }
        return lostLeadership
    }

    private func route(_ path: String) -> (status: HTTPResponseStatus, contentType: String, body: String) {
        switch path {
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition())
        case "/healthz", "/livez":
            return (.ok, "text/plain", "ok\n")
        case "/readyz":
            let unsynced = registered.withLock { r in r.informers.filter { !$0.value.synced() }.map { $0.key.split(separator: "|").first.map(String.init) ?? $0.key } }
            if unsynced.isEmpty { return (.ok, "text/plain", "ok\n") }
            return (.serviceUnavailable, "text/plain", "caches not synced: \(unsynced.sorted().joined(separator: ", "))\n")
        default:
            return (.notFound, "text/plain", "not found\n")
        }
    }
}
