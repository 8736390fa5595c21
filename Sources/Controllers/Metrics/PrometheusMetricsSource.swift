import AsyncHTTPClient
import Foundation
import KubeModel
import NIOCore

/// Serving metrics from Prometheus' HTTP API (`/api/v1/query`), for clusters where Prometheus
/// already scrapes vLLM (ServiceMonitor, PodMonitor or `kubernetes_sd_configs`) with the usual
/// `namespace` and `pod` target labels. Rates use a one-minute window.
public final class PrometheusMetricsSource: ServingMetricsSource {
    let baseURL: String
    let http: HTTPClient
    /// Rates Prometheus computes are per real second; against a time-scaled simulation they are
    /// converted to the operator's (modelled) seconds.
    let speedup: Double

    public init(baseURL: String, speedup: Double = 1) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.speedup = speedup
        http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    public func shutdown() async { try? await http.shutdown() }

    func get(_ path: String, _ items: [URLQueryItem]) async -> JSONValue? {
        var components = URLComponents(string: baseURL + path)
        components?.queryItems = items
        // URLComponents leaves '+' as it is, and Prometheus (like every form decoder) reads it
        // as a space: a regex's `[a-z0-9]+` then matched nothing.
        let query = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = query
        guard let url = components?.url?.absoluteString else { return nil }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        guard let response = try? await http.execute(request, timeout: .seconds(5)), response.status == .ok,
            let body = try? await response.body.collect(upTo: 4 << 20), let doc = try? JSONText.parse(Array(buffer: body)),
            doc["status"]?.stringValue == "success"
        else { return nil }
        return doc["data"]
    }

    func query(_ promql: String) async -> Double? {
        // {"status":"success","data":{"resultType":"vector","result":[{"value":[ts,"1.5"]}]}}
        guard let first = await get("/api/v1/query", [URLQueryItem(name: "query", value: promql)])?["result"]?.arrayValue?.first,
            let text = first["value"]?.arrayValue?.last?.stringValue, let v = Double(text), v.isFinite
        else { return nil }
        return v
    }

    /// A literal inside a PromQL regex in a double-quoted string: regex metacharacters
    /// escaped, and the escaping backslash doubled for the string.
    static func literal(_ text: String) -> String {
        NSRegularExpression.escapedPattern(for: text).replacingOccurrences(of: "\\", with: "\\\\")
    }

    /// Every Pod the LLMDeployment has had, gone ones included: its Deployments are named
    /// `<name>-<gpu type>` and their Pods `<deployment>-<template hash>-<suffix>`, so the
    /// pattern does not take in another LLMDeployment whose name extends this one's.
    static func podPattern(deployment: String, gpuTypes: [String]) -> String {
        let types = gpuTypes.map { literal($0.lowercased()) }.joined(separator: "|")
        return "\(literal(deployment))-(\(types))-[a-z0-9]+-[a-z0-9]+"
    }

    /// The request rate over the Pods `selector` names, as the snapshot and the rebuilt
    /// history both read it: one query, so the history holds what the snapshots would have.
    static func requestRate(_ selector: String) -> String { "sum(rate(vllm:request_success_total{\(selector)}[1m]))" }

    /// The (modelled) seconds `requestRate` counts over: its one-minute window of real time.
    var rateWindowSeconds: Double { 60 * speedup }

    /// The last hour's request rate from `query_range`, as the live snapshot reads it
    /// (`requestRate`), one point per step; steps with no series (no Pods) count as 0.
    public func rateHistory(namespace: String, deployment: String, gpuTypes: [String], seconds: Double, stepSeconds: Double) async -> RateHistory? {
        guard !gpuTypes.isEmpty, seconds > 0, stepSeconds > 0 else { return nil }
        let selector = "namespace=\"\(namespace)\",pod=~\"\(Self.podPattern(deployment: deployment, gpuTypes: gpuTypes))\""
        // Prometheus runs on real time; the operator's seconds are modelled ones.
        let step = max(stepSeconds / speedup, 0.001)
        let end = (Date().timeIntervalSince1970 - step).rounded(.down)
        let start = end - seconds / speedup
        guard let data = await get("/api/v1/query_range", [
            URLQueryItem(name: "query", value: Self.requestRate(selector)),
            URLQueryItem(name: "start", value: String(format: "%.3f", start)), URLQueryItem(name: "end", value: String(format: "%.3f", end)),
            URLQueryItem(name: "step", value: String(format: "%.3f", step)),
        ]) else { return nil }
        // {"resultType":"matrix","result":[{"metric":{},"values":[[ts,"1.5"],...]}]}
        var points: [Int: Double] = [:]
        for pair in data["result"]?.arrayValue?.first?["values"]?.arrayValue ?? [] {
            guard let values = pair.arrayValue, values.count == 2, let ts = values[0].numberValue, let text = values[1].stringValue,
                let v = Double(text), v.isFinite, v >= 0
            else { continue }
            points[Int(((ts - start) / step).rounded())] = v / speedup
        }
        // The history starts where the deployment first served; gaps after that (scaled to
        // zero, or a scrape outage) are no traffic.
        var rates: [Double] = []
        if let first = points.keys.min(), let last = points.keys.max() { rates = (first...last).map { points[$0] ?? 0 } }
        return RateHistory(rates: rates, stepSeconds: step * speedup, countSeconds: rateWindowSeconds)
    }

    public func snapshot(namespace: String, deployment: String, pods: [Pod], now: Double) async -> ServingSnapshot? {
        let names = pods.compactMap(\.metadata.name).map(Self.literal)
        guard !names.isEmpty else { return nil }
        let selector = "namespace=\"\(namespace)\",pod=~\"\(names.joined(separator: "|"))\""
        async let rps = query(Self.requestRate(selector))
        async let input = query("sum(rate(vllm:prompt_tokens_total{\(selector)}[1m]))")
        async let output = query("sum(rate(vllm:generation_tokens_total{\(selector)}[1m]))")
        async let waiting = query("sum(vllm:num_requests_waiting{\(selector)})")
        async let running = query("sum(vllm:num_requests_running{\(selector)})")
        async let kv = query("avg(vllm:gpu_cache_usage_perc{\(selector)})")
        async let ttft = query("histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{\(selector)}[1m])))")
        guard let r = await rps else { return nil }
        let scrapedCount = await running.map { _ in pods.count } ?? 0
        return ServingSnapshot(
            requestsPerSecond: r / speedup, inputTokensPerSecond: (await input ?? 0) / speedup, outputTokensPerSecond: (await output ?? 0) / speedup,
            queueDepth: await waiting ?? 0, running: await running ?? 0, kvCacheUtilization: min(1, await kv ?? 0), ttftP95Seconds: await ttft,
            podsScraped: scrapedCount, podsAsked: pods.count, observedAt: now, rateWindowSeconds: rateWindowSeconds)
    }
}
