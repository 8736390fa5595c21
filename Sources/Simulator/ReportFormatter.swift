import Foundation
import KubeModel

/// Renders an evaluation as a table for people and JSON for machines; dollars first.
public enum ReportFormatter {
    static let attribution =
        "Azure LLM inference trace 2023 (CC-BY 4.0), Patel et al., \"Splitwise: Efficient generative LLM inference using phase splitting\", ISCA 2024"

    static let utilizationDefinition =
        "capacity utilisation: requests served / (billed replica-seconds × the SLO capacity per replica for this request mix, measured by the simulator at steady load in a fleet of the policy's mean replicas, at most 32, behind the router); busy = share of billed time the engines executed steps"

    static func isAzure(_ trace: String) -> Bool { trace.contains("azure-llm-inference-2023") }

    public static func table(_ r: Evaluation.Report, trace: String, requests: Int) -> String {
        var lines: [String] = []
        lines.append("trace \(trace): \(requests) requests")
        lines.append(
            "configurations: core's choice \(r.coreChoice) (\(String(format: "%.2f", r.capacityPerReplica)) req/s per replica, cold start \(Int(r.coldStartSeconds)) s); "
                + "users' default \(r.userDefault); best in hindsight \(r.best)")
        // The core's reasons, as the operator writes them to status: what was weighed against what.
        if !r.planExplanation.reasons.isEmpty { lines.append("why the core chose it: " + r.planExplanation.reasons.joined(separator: "; ")) }
        let header = ["policy", "config", "cost $", "GPU-h", "SLO att.", "TTFT p50", "TTFT p95", "TTFT p99", "ITL p95", "util", "busy", "scales", "setting"]
        var rows: [[String]] = [header]
        for x in r.results {
            rows.append([
                x.policy, "\(x.gpuType)×\(x.tensorParallel)", String(format: "%.2f", x.costDollars), String(format: "%.2f", x.gpuHours),
                String(format: "%.2f%%", x.sloAttainment * 100), ms(x.ttftP50Ms), ms(x.ttftP95Ms), ms(x.ttftP99Ms), ms(x.itlP95Ms),
                x.meanUtilization.isNaN ? "-" : String(format: "%.0f%%", x.meanUtilization * 100), String(format: "%.0f%%", x.engineBusyShare * 100),
                String(x.scaleEvents), r.tuning[x.policy] ?? "",
            ])
        }
        lines += align(rows)
        if let l = r.result("llmops") {
            let comparisons = ["hpa", "hpa-default", "oracle"].compactMap { name -> String? in
                guard let other = r.result(name), other.costDollars > 0 else { return nil }
                return String(format: "%.2f× %@ ($%.2f)", l.costDollars / other.costDollars, name, other.costDollars)
            }
            if !comparisons.isEmpty {
                lines.append(String(format: "llmops costs $%.2f at %.2f%% SLO attainment: ", l.costDollars, l.sloAttainment * 100) + comparisons.joined(separator: ", "))
            }
        }
        if !r.configurations.isEmpty {
            lines.append("configurations tried (cheapest tuned HPA run meeting the SLO, and the oracle's):")
            var table = [["config", "hpa $", "oracle $", "note"]]
            for c in r.configurations {
                table.append([
                    c.configuration.description, c.hpaCostDollars.map { String(format: "%.2f", $0) } ?? "-",
                    c.oracleCostDollars.map { String(format: "%.2f", $0) } ?? "-", c.skipped ?? (c.hpaCostDollars == nil ? "SLO not met" : ""),
                ])
            }
            lines += align(table).map { "  " + $0 }
        }
        lines.append("util: " + utilizationDefinition)
        if isAzure(trace) { lines.append("trace: " + attribution) }
        return lines.joined(separator: "\n")
    }

    /// Left-aligns the first and last columns, right-aligns the numbers between.
    static func align(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
        var out: [String] = []
        for (n, row) in rows.enumerated() {
            out.append(
                row.enumerated().map { c, cell in
                    c <= 1 || c == row.count - 1
                        ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - cell.count) + cell
                }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            if n == 0 { out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return out
    }

    static func ms(_ v: Double) -> String { v.isNaN ? "-" : String(format: "%.0f ms", v) }

    static func num(_ d: Double) -> JSONValue { d.isFinite ? .double((d * 1e4).rounded() / 1e4) : .null }

    static func configuration(_ c: Evaluation.Configuration) -> JSONValue {
        .object(JSONObject([("gpuType", .string(c.gpuType)), ("tensorParallel", .int(Int64(c.tensorParallel)))]))
    }

    public static func calibrationTable(_ rows: [Calibration.Row]) -> String {
        var table = [["config", "model req/s", "simulator req/s", "error"]]
        for row in rows {
            table.append([
                row.configuration.description, String(format: "%.2f", row.modelRate), String(format: "%.2f", row.simulatedRate),
                row.error.isFinite ? String(format: "%+.0f%%", row.error * 100) : "-",
            ])
        }
        let errors = rows.map(\.error).filter(\.isFinite).map(abs)
        let mean = errors.isEmpty ? 0 : errors.reduce(0, +) / Double(errors.count)
        let fleet = rows.first?.fleet ?? 1
        let whose = fleet == 1 ? "of one replica" : "per replica of a fleet of \(fleet) behind the router"
        let groups = rows.first?.groupMean ?? 1
        let arrivals = groups > 1 ? String(format: "Poisson arrivals of groups of %.3g requests on average", groups) : "Poisson load"
        return (["capacity model vs simulator (SLO capacity \(whose) at steady \(arrivals), this trace's lengths):"]
            + align(table).map { "  " + $0 } + [String(format: "  mean absolute error %.0f%%", mean * 100)]).joined(separator: "\n")
    }

    public static func json(_ r: Evaluation.Report, trace: String, requests: Int? = nil, calibration: [Calibration.Row] = []) -> String {
        let policies: [JSONValue] = r.results.map { x in
            .object(
                JSONObject([
                    ("policy", .string(x.policy)), ("gpuType", .string(x.gpuType)), ("tensorParallel", .int(Int64(x.tensorParallel))),
                    ("costDollars", num(x.costDollars)), ("gpuHours", num(x.gpuHours)),
                    ("sloAttainment", num(x.sloAttainment)), ("ttftP50Ms", num(x.ttftP50Ms)), ("ttftP95Ms", num(x.ttftP95Ms)),
                    ("ttftP99Ms", num(x.ttftP99Ms)), ("itlP95Ms", num(x.itlP95Ms)), ("ttftMissShare", num(x.ttftMissShare)), ("itlMissShare", num(x.itlMissShare)),
                    ("meanUtilization", num(x.meanUtilization)), ("engineBusyShare", num(x.engineBusyShare)),
                    ("scaleEvents", .int(Int64(x.scaleEvents))), ("rejectedRequests", .int(Int64(x.rejected))),
                    ("setting", .string(r.tuning[x.policy] ?? "")),
                ]))
        }
        let configurations: [JSONValue] = r.configurations.map { c in
            var o = JSONObject([
                ("gpuType", .string(c.configuration.gpuType)), ("tensorParallel", .int(Int64(c.configuration.tensorParallel))),
                ("hpaCostDollars", c.hpaCostDollars.map(num) ?? .null), ("oracleCostDollars", c.oracleCostDollars.map(num) ?? .null),
            ])
            if let s = c.skipped { o["note"] = .string(s) }
            return .object(o)
        }
        var top = JSONObject([
            ("trace", .string(trace)), ("coreChoice", configuration(r.coreChoice)), ("userDefault", configuration(r.userDefault)),
            ("bestConfiguration", configuration(r.best)), ("gpuType", .string(r.gpuType)), ("tensorParallel", .int(Int64(r.tensorParallel))),
            ("capacityPerReplica", num(r.capacityPerReplica)), ("coldStartSeconds", num(r.coldStartSeconds)),
            ("utilizationDefinition", .string(utilizationDefinition)), ("policies", .array(policies)), ("configurations", .array(configurations)),
        ])
        let e = r.planExplanation
        top["coreDecision"] = .object(
            JSONObject([
                ("summary", .string(e.summary)), ("reasons", .array(e.reasons.map(JSONValue.string))),
                ("candidates", .array(e.candidates.map { c in
                    var o = JSONObject([("name", .string(c.name)), ("chosen", .bool(c.chosen)), ("note", .string(c.note))])
                    if let score = c.score, score.isFinite { o["costPerHour"] = num(score) }
                    return .object(o)
                })),
            ]))
        if let requests { top["requests"] = .int(Int64(requests)) }
        if !calibration.isEmpty {
            top["calibration"] = .array(
                calibration.map { c in
                    .object(
                        JSONObject([
                            ("gpuType", .string(c.configuration.gpuType)), ("tensorParallel", .int(Int64(c.configuration.tensorParallel))),
                            ("modelRequestsPerSecond", num(c.modelRate)), ("simulatorRequestsPerSecond", num(c.simulatedRate)), ("error", num(c.error)),
                            ("fleet", .int(Int64(c.fleet))),
                        ]))
                })
        }
        if isAzure(trace) { top["attribution"] = .string(attribution) }
        return JSONText.serialize(.object(top), pretty: true) + "\n"
    }
}
