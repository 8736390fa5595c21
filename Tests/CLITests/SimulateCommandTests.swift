import Foundation
import Testing

@Suite struct SimulateCommandTests {
    /// A small JSON-lines trace: a ramp from 1 to 6 requests per second over ten minutes.
    func rampTrace() throws -> URL {
        var lines: [String] = []
        var t = 0.0
        while t < 600 {
            let rate = 1 + 5 * t / 600
            t += 1 / rate
            lines.append("{\"timestamp\": \(Int(t * 1000)), \"input_length\": 800, \"output_length\": 150, \"note\": \"ignored\"}")
        }
        return try CLIRunner.tempFile(Data(lines.joined(separator: "\n").utf8), name: "ramp.jsonl")
    }

    @Test func writesTableJSONAndSVG() throws {
        let trace = try rampTrace()
        let dir = trace.deletingLastPathComponent()
        let json = dir.appendingPathComponent("out.json"), svg = dir.appendingPathComponent("out.svg")
        let r = try CLIRunner.run(["simulate", "--trace", trace.path, "--policies", "hpa,llmops,oracle", "--gpu-types", "L40S", "--json", json.path, "--svg", svg.path])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("llmops costs $"))
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let policies = doc["policies"] as! [[String: Any]]
        #expect(policies.map { $0["policy"] as! String } == ["hpa", "llmops", "oracle"])
        for p in policies {
            for key in ["gpuHours", "costDollars", "sloAttainment", "ttftP50Ms", "ttftP95Ms", "ttftP99Ms", "itlP95Ms", "meanUtilization", "scaleEvents"] {
                #expect(p[key] != nil, "missing \(key)")
            }
        }
        let chart = try String(contentsOf: svg, encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.contains("time (minutes)") && chart.contains("replicas") && chart.contains("llmops"))
    }

    @Test func badTracesFailClearly() throws {
        let bad = try CLIRunner.tempFile(Data("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:50.5,10,2\n2023-11-16 18:15:51,ten,2\n".utf8), name: "bad.csv")
        let r = try CLIRunner.run(["simulate", "--trace", bad.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("line 3"), "\(r.output)")
        let missing = try CLIRunner.run(["simulate", "--trace", "/nonexistent.csv"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read"))
        let trace = try rampTrace()
        let unknown = try CLIRunner.run(["simulate", "--trace", trace.path, "--gpu-types", "TPU"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown GPU type TPU"))
        let policy = try CLIRunner.run(["simulate", "--trace", trace.path, "--policies", "magic"])
        #expect(policy.status == 1)
        #expect(policy.stderr.contains("unknown policy magic"))
    }
}
