import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The Prometheus registry of one manager and the metric families it exposes, named as
/// controller-runtime and client-go name them so existing dashboards and alerts apply.
public final class RuntimeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // controller-runtime's reconcile_time_seconds buckets (5 ms to 60 s).
        let buckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60]
            .map { Duration.milliseconds(Int64($0 * 1000)) }
        factory.defaultDurationHistogramBuckets = buckets
        self.factory = factory
    }

    /// The text exposition format served at `/metrics`.
    public func exposition() -> String { registry.emitToString() }

    func queue(name: String) -> QueueMetrics { QueueMetrics(name: name, factory: factory) }

    func controller(name: String) -> ControllerMetrics { ControllerMetrics(name: name, factory: factory) }

    func gauge(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Gauge { CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory) }

    /// A `ClientConfiguration.requestObserver` counting every API request in client-go's
    /// `rest_client_requests_total{code, host, method}` (code `<error>` when no answer came).
    public func restClientObserver(host: String) -> @Sendable (String, Int) -> Void {
        let counters = Mutex<[String: CoreMetrics.Counter]>([:])
        let factory = self.factory
        return { method, code in
            let codeLabel = code == 0 ? "<error>" : String(code)
            let counter = counters.withLock { cache in
                let key = method + " " + codeLabel
                if let c = cache[key] { return c }
                let c = CoreMetrics.Counter(
                    label: "rest_client_requests_total", dimensions: [("code", codeLabel), ("host", host), ("method", method)], factory: factory)
                cache[key] = c
                return c
            }
            counter.increment()
        }
    }
}

/// client-go's workqueue metrics for one queue.
public struct QueueMetrics: Sendable {
    let depth: CoreMetrics.Gauge
    let adds: CoreMetrics.Counter
    let retries: CoreMetrics.Counter
    let queueLatency: CoreMetrics.Timer
    let workDuration: CoreMetrics.Timer
    let unfinishedWork: CoreMetrics.Gauge
    let longestRunning: CoreMetrics.Gauge

    init(name: String, factory: PrometheusMetricsFactory) {
        let d = [("name", name), ("controller", name)]
        depth = CoreMetrics.Gauge(label: "workqueue_depth", dimensions: d, factory: factory)
        adds = CoreMetrics.Counter(label: "workqueue_adds_total", dimensions: d, factory: factory)
        retries = CoreMetrics.Counter(label: "workqueue_retries_total", dimensions: d, factory: factory)
        queueLatency = CoreMetrics.Timer(label: "workqueue_queue_duration_seconds", dimensions: d, factory: factory)
        workDuration = CoreMetrics.Timer(label: "workqueue_work_duration_seconds", dimensions: d, factory: factory)
        unfinishedWork = CoreMetrics.Gauge(label: "workqueue_unfinished_work_seconds", dimensions: d, factory: factory)
        longestRunning = CoreMetrics.Gauge(label: "workqueue_longest_running_processor_seconds", dimensions: d, factory: factory)
    }
}

/// controller-runtime's per-controller metrics.
struct ControllerMetrics: Sendable {
    let success: CoreMetrics.Counter
    let error: CoreMetrics.Counter
    let requeue: CoreMetrics.Counter
    let requeueAfter: CoreMetrics.Counter
    let errors: CoreMetrics.Counter
    let terminalErrors: CoreMetrics.Counter
    let duration: CoreMetrics.Timer
    let activeWorkers: CoreMetrics.Meter
    let maxConcurrent: CoreMetrics.Gauge

    init(name: String, factory: PrometheusMetricsFactory) {
        func total(_ result: String) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: "controller_runtime_reconcile_total", dimensions: [("controller", name), ("result", result)], factory: factory)
        }
        success = total("success")
        error = total("error")
        requeue = total("requeue")
        requeueAfter = total("requeue_after")
        errors = CoreMetrics.Counter(label: "controller_runtime_reconcile_errors_total", dimensions: [("controller", name)], factory: factory)
        terminalErrors = CoreMetrics.Counter(label: "controller_runtime_terminal_reconcile_errors_total", dimensions: [("controller", name)], factory: factory)
        duration = CoreMetrics.Timer(label: "controller_runtime_reconcile_time_seconds", dimensions: [("controller", name)], factory: factory)
        activeWorkers = CoreMetrics.Meter(label: "controller_runtime_active_workers", dimensions: [("controller", name)], factory: factory)
        maxConcurrent = CoreMetrics.Gauge(label: "controller_runtime_max_concurrent_reconciles", dimensions: [("controller", name)], factory: factory)
    }
}

extension CoreMetrics.Timer {
    func recordInterval(_ d: Duration) {
        let (s, atto) = d.components
        recordNanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
