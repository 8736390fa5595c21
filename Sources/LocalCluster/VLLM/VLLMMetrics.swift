import Foundation

/// The Prometheus metrics a vLLM server exposes on `/metrics`, with vLLM's names, labels and
/// histogram buckets (vLLM 0.8, `vllm/engine/metrics.py`), so dashboards, Prometheus rules and
/// the operator read a simulated Pod as they read a real one.
struct VLLMMetrics: Sendable {
    struct Histogram: Sendable {
        let name: String
        let help: String
        let buckets: [Double]
        var counts: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0

        init(_ name: String, _ help: String, _ buckets: [Double]) {
            self.name = name
            self.help = help
            self.buckets = buckets
            counts = Array(repeating: 0, count: buckets.count)
        }

        mutating func observe(_ v: Double) {
            for (i, b) in buckets.enumerated() where v <= b { counts[i] += 1 }
            sum += v
            count += 1
        }

        func render(_ labels: String, into out: inout String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for (i, b) in buckets.enumerated() { out += "\(name)_bucket{\(labels),le=\"\(format(b))\"} \(counts[i])\n" }
            out += "\(name)_bucket{\(labels),le=\"+Inf\"} \(count)\n\(name)_count{\(labels)} \(count)\n\(name)_sum{\(labels)} \(sum)\n"
        }
    }

    let modelName: String
    var ttft = Histogram(
        "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0])
    var tpot = Histogram(
        "vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.",
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0])
    var e2e = Histogram(
        "vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.",
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0])
    var promptTokens: UInt64 = 0
    var generationTokens: UInt64 = 0
    var success: [String: UInt64] = [:]

    init(modelName: String) { self.modelName = modelName }

    mutating func finished(ttft t: Double, tpot: Double?, e2e total: Double, prompt: Int, output: Int, reason: String) {
        ttft.observe(t)
        if let tpot { self.tpot.observe(tpot) }
        e2e.observe(total)
        promptTokens += UInt64(prompt)
        generationTokens += UInt64(output)
        success[reason, default: 0] += 1
    }

    mutating func aborted() { success["abort", default: 0] += 1 }

    func render(running: Int, waiting: Int, kvUsage: Double) -> String {
        let labels = "model_name=\"\(escape(modelName))\""
        var out = ""
        func gauge(_ name: String, _ help: String, _ v: Double) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name){\(labels)} \(format(v))\n"
        }
        gauge("vllm:num_requests_running", "Number of requests currently running on GPU.", Double(running))
        gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", Double(waiting))
        gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.", 0)
        gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.", kvUsage)
        out += "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n# TYPE vllm:prompt_tokens_total counter\n"
        out += "vllm:prompt_tokens_total{\(labels)} \(promptTokens)\n"
        out += "# HELP vllm:generation_tokens_total Number of generation tokens processed.\n# TYPE vllm:generation_tokens_total counter\n"
        out += "vllm:generation_tokens_total{\(labels)} \(generationTokens)\n"
        out += "# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n"
        for reason in ["length", "stop"] + success.keys.filter({ $0 != "length" && $0 != "stop" }).sorted() {
            out += "vllm:request_success_total{finished_reason=\"\(reason)\",\(labels)} \(success[reason] ?? 0)\n"
        }
        ttft.render(labels, into: &out)
        tpot.render(labels, into: &out)
        e2e.render(labels, into: &out)
        return out
    }
}

private func format(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(format: "%.1f", v) : String(v)
}

private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
}
