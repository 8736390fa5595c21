import Foundation
import KubeModel

/// Renders an evaluation as a table for people and JSON for machines.
public enum ReportFormatter {
    static let attribution =
        "Azure LLM inference trace 2023 (CC-BY 4.0), Patel et al., \"Splitwise: Efficient generative LLM inference using phase splitting\", ISCA 2024"

    static func isAzure(_ trace: String) -> Bool { trace.contains("azure-llm-inference-2023") }

    public static func table(_ r: Evaluation.Report, trace: String, requests: Int) -> String {
        var lines: [String] = []
        lines.append("trace \(trace): \(requests) requests; configuration chosen by the core: \(r.gpuType)×\(r.tensorParallel), \(String(format: "%.2f", r.capacityPerReplica)) req/s per replica, cold start \(Int(r.coldStartSeconds)) s")
        let header = ["policy", "GPU-h", "cost $", "SLO att.", "TTFT p50", "TTFT p95", "TTFT p99", "ITL p95", "util", "scales", "setting"]
        var rows: [[String]] = [header]
        for x in r.results {
            rows.append([
                x.policy, String(format: "%.2f", x.gpuHours), String(format: "%.2f", x.costDollars), String(format: "%.2f%%", x.sloAttainment * 100),
                ms(x.ttftP50Ms), ms(x.ttftP95Ms), ms(x.ttftP99Ms), ms(x.itlP95Ms), String(format: "%.0f%%", x.meanUtilization * 100), String(x.scaleEvents),
                r.tuning[x.policy] ?? "",
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        for (n, row) in rows.enumerated() {
            lines.append(row.enumerated().map { c, cell in c == 0 || c == row.count - 1 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  "))
            if n == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        if let l = r.results.first(where: { $0.policy == "llmops" }) {
            if let h = r.results.first(where: { $0.policy == "hpa" }), h.gpuHours > 0 {
                lines.append(String(format: "llmops vs best-tuned hpa: %.1f%% fewer GPU-hours", (1 - l.gpuHours / h.gpuHours) * 100))
            }
            if let o = r.results.first(where: { $0.policy == "oracle" }), o.gpuHours > 0 {
                lines.append(String(format: "llmops vs oracle: %.2f× its GPU-hours", l.gpuHours / o.gpuHours))
            }
        }
        if isAzure(trace) { lines.append("trace: " + attribution) }
        return lines.joined(separator: "\n")
    }

    static func ms(_ v: Double) -> String { v.isNaN ? "-" : String(format: "%.0f ms", v) }

    public static func json(_ r: Evaluation.Report, trace: String) -> String {
        func num(_ d: Double) -> JSONValue { d.isFinite ? .double((d * 1e4).rounded() / 1e4) : .null }
        let policies: [JSONValue] = r.results.map { x in
            .object(
                JSONObject([
                    ("policy", .string(x.policy)), ("gpuHours", num(x.gpuHours)), ("costDollars", num(x.costDollars)),
                    ("sloAttainment", num(x.sloAttainment)), ("ttftP50Ms", num(x.ttftP50Ms)), ("ttftP95Ms", num(x.ttftP95Ms)),
                    ("ttftP99Ms", num(x.ttftP99Ms)), ("itlP95Ms", num(x.itlP95Ms)), ("meanUtilization", num(x.meanUtilization)),
                    ("scaleEvents", .int(Int64(x.scaleEvents))), ("rejectedRequests", .int(Int64(x.rejected))),
                    ("setting", .string(r.tuning[x.policy] ?? "")),
                ]))
        }
        var top = JSONObject([
            ("trace", .string(trace)), ("gpuType", .string(r.gpuType)), ("tensorParallel", .int(Int64(r.tensorParallel))),
            ("capacityPerReplica", num(r.capacityPerReplica)), ("coldStartSeconds", num(r.coldStartSeconds)), ("policies", .array(policies)),
        ])
        if isAzure(trace) { top["attribution"] = .string(attribution) }
        return JSONText.serialize(.object(top), pretty: true) + "\n"
    }
}
