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

    func query(_ promql: String) async -> Double? {
        var components = URLComponents(string: baseURL + "/api/v1/query")
        components?.queryItems = [URLQueryItem(name: "query", value: promql)]
        guard let url = components?.url?.absoluteString else { return nil }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        guard let response = try? await http.execute(request, timeout: .seconds(5)), response.status == .ok,
            let body = try? await response.body.collect(upTo: 4 << 20), let doc = try? JSONText.parse(Array(buffer: body))
        else { return nil }
        // {"status":"success","data":{"resultType":"vector","result":[{"value":[ts,"1.5"]}]}}
        guard doc["status"]?.stringValue == "success", let first = doc["data"]?["result"]?.arrayValue?.first,
            let text = first["value"]?.arrayValue?.last?.stringValue, let v = Double(text), v.isFinite
        else { return nil }
        return v
    }

    public func snapshot(namespace: String, deployment: String, pods: [Pod], now: Double) async -> ServingSnapshot? {
        let names = pods.compactMap(\.metadata.name).map { NSRegularExpression.escapedPattern(for: $0) }
        guard !names.isEmpty else { return nil }
        let selector = "namespace=\"\(namespace)\",pod=~\"\(names.joined(separator: "|"))\""
        async let rps = query("sum(rate(vllm:request_success_total{\(selector)}[1m]))")
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
            podsScraped: scrapedCount, podsAsked: pods.count, observedAt: now, rateWindowSeconds: 60 * speedup)
    }
}
