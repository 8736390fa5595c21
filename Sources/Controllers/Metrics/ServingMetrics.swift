import AsyncHTTPClient
import Foundation
import KubeModel
import NIOCore

/// Load on one LLMDeployment, aggregated over its serving Pods, from vLLM's metrics.
public struct ServingSnapshot: Sendable, Equatable {
    public var requestsPerSecond: Double
    public var inputTokensPerSecond: Double
    public var outputTokensPerSecond: Double
    public var queueDepth: Double
    public var running: Double
    public var kvCacheUtilization: Double
    public var ttftP95Seconds: Double?
    /// Pods that answered, of those asked.
    public var podsScraped: Int
    public var podsAsked: Int
    public var observedAt: Double
    /// The (modelled) seconds the rates were counted over: the time since the previous scrape,
    /// or the query's window. Counts over a short window are noisy, and the burst reserve takes
    /// that noise out before reading the rates as bursts (`BurstHistory.countSeconds`).
    public var rateWindowSeconds: Double? = nil
}

/// Request rates of the past, one per step, for a burst history that survives a restart.
public struct RateHistory: Sendable, Equatable {
    /// Requests per (modelled) second, oldest first, one per `stepSeconds`.
    public var rates: [Double]
    public var stepSeconds: Double
    /// The window each rate was counted over (`ServingSnapshot.rateWindowSeconds`).
    public var countSeconds: Double
}

/// Where serving metrics come from: the Pods' own `/metrics` or Prometheus.
public protocol ServingMetricsSource: Sendable {
    /// nil when nothing could be measured (no Pod answered, or no earlier sample to take a
    /// rate against yet).
    func snapshot(namespace: String, deployment: String, pods: [Pod], now: Double) async -> ServingSnapshot?
    /// The deployment's request rate over the last `seconds`, one per `stepSeconds` (modelled
    /// seconds), over every Pod it has had on any of `gpuTypes`, gone ones included; nil
    /// where the source keeps no history (a Pod's counters say nothing about the hour before
    /// the operator started) or the history could not be read.
    func rateHistory(namespace: String, deployment: String, gpuTypes: [String], seconds: Double, stepSeconds: Double) async -> RateHistory?
    /// Releases connections; called once when the operator stops.
    func shutdown() async
}

extension ServingMetricsSource {
    public func rateHistory(namespace: String, deployment: String, gpuTypes: [String], seconds: Double, stepSeconds: Double) async -> RateHistory? { nil }
}

/// Scrapes every ready serving Pod's `/metrics` (vLLM's names) and turns counters into rates
/// between consecutive scrapes, per Pod, as Prometheus' `rate()` would. A Pod seen for the
/// first time or after a counter reset contributes gauges but no rate until its next scrape.
public actor PodMetricsScraper: ServingMetricsSource {
    struct Sample {
        var time: Double
        var success: Double
        var prompt: Double
        var generation: Double
        var ttft: CumulativeHistogram?
    }

    private let http: HTTPClient
    /// The last sample of every Pod, by deployment ("namespace/name") and Pod uid. Kept per
    /// deployment: pruning one deployment's gone Pods must not forget another's.
    private var previous: [String: [String: Sample]] = [:]
    let timeout: TimeAmount

    public init(timeout: TimeAmount = .seconds(2)) {
        http = HTTPClient(eventLoopGroupProvider: .singleton)
        self.timeout = timeout
    }

    public func shutdown() async { try? await http.shutdown() }

    /// The `/metrics` text of every ready Pod that answered, by Pod uid.
    func fetch(_ pods: [Pod]) async -> [(String, String)] {
        let targets = Self.targets(pods)
        let http = self.http
        let timeout = self.timeout
        return await withTaskGroup(of: (String, String?).self) { group in
            for (uid, url) in targets {
                group.addTask {
                    var request = HTTPClientRequest(url: url)
                    request.method = .GET
                    guard let response = try? await http.execute(request, timeout: timeout), response.status == .ok,
                        let body = try? await response.body.collect(upTo: 8 << 20)
                    else { return (uid, nil) }
                    return (uid, String(buffer: body))
                }
            }
            var out: [(String, String)] = []
            for await r in group { if let text = r.1 { out.append((r.0, text)) } }
            return out
        }
    }

    static func targets(_ pods: [Pod]) -> [(String, String)] {
        pods.compactMap { p -> (String, String)? in
            guard let ip = p.status?.podIP, !ip.isEmpty, let uid = p.metadata.uid, p.metadata.deletionTimestamp == nil else { return nil }
            return p.isReady ? (uid, "http://\(ip):\(Self.port(p))/metrics") : nil
        }
    }

    public func snapshot(namespace: String, deployment: String, pods: [Pod], now: Double) async -> ServingSnapshot? {
        let texts = await fetch(pods)
        return record("\(namespace)/\(deployment)", texts: texts, asked: Self.targets(pods).map(\.0), now: now)
    }

    /// Folds one round of scraped texts (by Pod uid) into the deployment's rates.
    func record(_ key: String, texts: [(String, String)], asked: [String], now: Double) -> ServingSnapshot? {
        var previous = self.previous[key] ?? [:]
        var rps = 0.0, inTok = 0.0, outTok = 0.0, waiting = 0.0, running = 0.0, kv = 0.0
        var answered = 0
        var rated = 0
        var window = 0.0
        var ttft: CumulativeHistogram?
        for (uid, text) in texts {
            let samples = PrometheusText.parse(text)
            func sum(_ name: String) -> Double { samples.filter { $0.name == name && !$0.value.isNaN }.reduce(0) { $0 + $1.value } }
            answered += 1
            waiting += sum("vllm:num_requests_waiting")
            running += sum("vllm:num_requests_running")
            kv += sum("vllm:gpu_cache_usage_perc")
            let current = Sample(
                time: now, success: sum("vllm:request_success_total"), prompt: sum("vllm:prompt_tokens_total"),
                generation: sum("vllm:generation_tokens_total"), ttft: CumulativeHistogram.from(samples, name: "vllm:time_to_first_token_seconds"))
            if let before = previous[uid], now > before.time, current.success >= before.success {
                let dt = now - before.time
                rps += (current.success - before.success) / dt
                inTok += max(0, current.prompt - before.prompt) / dt
                outTok += max(0, current.generation - before.generation) / dt
                if let a = current.ttft, let b = before.ttft, let d = a.minus(b) { ttft = ttft.map { $0.plus(d) } ?? d }
                rated += 1
                window = max(window, dt)
            }
            previous[uid] = current
        }
        // Forget Pods that are gone, and deployments not asked about for an hour (deleted).
        let live = Set(asked)
        self.previous[key] = previous.filter { live.contains($0.key) }
        self.previous = self.previous.filter { _, pods in pods.values.contains { now - $0.time < 3600 } }
        guard answered > 0, rated > 0 || asked.isEmpty else { return nil }
        return ServingSnapshot(
            requestsPerSecond: rps, inputTokensPerSecond: inTok, outputTokensPerSecond: outTok, queueDepth: waiting, running: running,
            kvCacheUtilization: answered > 0 ? min(1, kv / Double(answered)) : 0, ttftP95Seconds: ttft?.quantile(0.95), podsScraped: answered,
            podsAsked: asked.count, observedAt: now, rateWindowSeconds: rated > 0 ? window : nil)
    }

    static func port(_ pod: Pod) -> Int {
        for c in pod.spec?["containers"]?.arrayValue ?? [] {
            for p in c["ports"]?.arrayValue ?? [] where p["name"]?.stringValue == "http" {
                if let n = p["containerPort"]?.intValue { return Int(n) }
            }
        }
        return 8000
    }
}
