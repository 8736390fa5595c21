import KubeClient
import KubeModel
import Logging
import Synchronization

/// Workers that take keys from a work queue and reconcile them. One key is never reconciled
/// by two workers at once (the queue guarantees it); results and errors decide requeues.
public final class Controller: Sendable {
    public typealias Reconcile = @Sendable (ReconcileRequest, Logger) async throws -> ReconcileResult

    public let name: String
    public let queue: WorkQueue<ReconcileRequest>
    let concurrency: Int
    private let reconcile: Reconcile
    private let metrics: ControllerMetrics
    private let logger: Logger
    /// What each informer this controller listens to must have synced before workers start.
    let syncChecks: [@Sendable () async -> Void]
    let sources: [@Sendable () -> Void]

    init(
        name: String, concurrency: Int, reconcile: @escaping Reconcile, runtime: RuntimeMetrics, logger: Logger,
        queue: WorkQueue<ReconcileRequest>, syncChecks: [@Sendable () async -> Void], sources: [@Sendable () -> Void]
    ) {
        self.name = name
        self.concurrency = max(1, concurrency)
        self.reconcile = reconcile
        self.metrics = runtime.controller(name: name)
        self.queue = queue
        var logger = logger
        logger[metadataKey: "controller"] = "\(name)"
        self.logger = logger
        self.syncChecks = syncChecks
        self.sources = sources
    }

    /// Registers event sources, waits for their caches, then runs the workers until the queue
    /// is shut down.
    func run() async {
        for register in sources { register() }
        for wait in syncChecks { await wait() }
        logger.info("caches synced; starting \(concurrency) workers")
        metrics.maxConcurrent.record(concurrency)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency { group.addTask { await self.work() } }
            group.addTask { await self.reportUnfinishedWork() }
            await group.waitForAll()
        }
    }

    private func work() async {
        while let request = await queue.get() {
            await process(request)
            queue.done(request)
        }
    }

    private func process(_ request: ReconcileRequest) async {
        // namespace and name, as controller-runtime logs them; each key set copies the
        // handler's metadata, so no redundant combined key.
        var log = logger
        if let ns = request.namespace { log[metadataKey: "namespace"] = "\(ns)" }
        log[metadataKey: "name"] = "\(request.name)"
        metrics.activeWorkers.increment(by: 1.0)
        let start = ContinuousClock.now
        defer {
            metrics.duration.recordInterval(ContinuousClock.now - start)
            metrics.activeWorkers.decrement(by: 1.0)
        }
        do {
            switch try await reconcile(request, log) {
            case .done:
                metrics.success.increment()
                queue.forget(request)
            case .requeue:
                metrics.requeue.increment()
                queue.addRateLimited(request)
            case .requeueAfter(let delay):
                metrics.requeueAfter.increment()
                queue.forget(request)
                queue.add(request, after: delay)
            }
        } catch is CancellationError {
            queue.addRateLimited(request)
        } catch {
            metrics.error.increment()
            metrics.errors.increment()
            if shouldRetry(error) {
                log.warning("reconcile failed, retrying (attempt \(queue.retries(request) + 1)): \(error)")
                queue.addRateLimited(request)
            } else {
                metrics.terminalErrors.increment()
                log.error("reconcile failed and will not be retried until the object changes: \(error)")
                queue.forget(request)
            }
        }
    }

    private func reportUnfinishedWork() async {
        while !queue.isShuttingDown {
            let work = queue.unfinishedWork
            queue.metrics?.unfinishedWork.record(work.total)
            queue.metrics?.longestRunning.record(work.longest)
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
