import Foundation
import Testing

/// `llmops plan` through the real binary: the operator's GPU choice, replicas and dollars at a
/// given load, the ScalingPolicy's bounds, the usual configuration for comparison, and clear
/// errors for bad input.
@Suite struct PlanCommandTests {
    static let manifest = """
        apiVersion: llmops.io/v1alpha1
        kind: LLMDeployment
        metadata: {name: chat, namespace: inference}
        spec:
          model: {name: meta-llama/Llama-3.1-8B-Instruct, source: hf://meta-llama/Llama-3.1-8B-Instruct, parameterCount: 8B, contextLength: 8192}
          slo: {ttftP95Ms: 800, itlP95Ms: 60}
          gpu: {allowedTypes: [L40S, H100]}
        ---
        apiVersion: llmops.io/v1alpha1
        kind: ScalingPolicy
        metadata: {name: chat, namespace: inference}
        spec: {targetRef: {name: chat}, minReplicas: 2, maxReplicas: 5}
        """

    func plan(_ args: [String], manifest: String = Self.manifest) throws -> (CLIRunner.Result, [String: Any]?) {
        let r = try CLIRunner.run(["plan", "-f", "-"] + args, stdin: Data(manifest.utf8))
        let json = args.contains("json") ? (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] : nil
        return (r, json)
    }

    @Test func replicasAndCostFollowTheLoadWithinThePolicyBounds() throws {
        let (low, a) = try plan(["--rps", "1", "-o", "json"])
        let (high, b) = try plan(["--rps", "400", "-o", "json"])
        #expect(low.status == 0 && high.status == 0, "\(low.stderr)\(high.stderr)")
        let la = try #require(a?["llmops"] as? [String: Any]), lb = try #require(b?["llmops"] as? [String: Any])
        // The GPU choice is the operator's (sized at the design load), whatever the load.
        #expect(la["gpuType"] as? String == lb["gpuType"] as? String && la["tensorParallel"] as? Int == lb["tensorParallel"] as? Int)
        #expect(la["replicas"] as? Int == 2, "held at the policy's minimum")
        #expect(lb["replicas"] as? Int == 5, "held at the policy's maximum")
        #expect((b?["replicasBeforeScalingPolicyBounds"] as? Int ?? 0) > 5)
        let costLow = try #require(la["costPerHour"] as? Double), costHigh = try #require(lb["costPerHour"] as? Double)
        #expect(abs(costHigh / costLow - 2.5) < 0.01, "cost scales with replicas: \(costLow) → \(costHigh)")
        let usual = try #require(b?["usualChoice"] as? [String: Any])
        #expect(usual["gpuType"] as? String == "H100", "the largest allowed GPU")
        let candidates = try #require(b?["candidates"] as? [[String: Any]])
        #expect(candidates.filter { $0["chosen"] as? Bool == true }.count == 1 && candidates.count > 1)
    }

    @Test func tableAndYAMLSayTheSame() throws {
        let (table, _) = try plan(["--rps", "10"])
        #expect(table.status == 0)
        for text in ["llmops ", "usual choice", "candidates at the default design load", "✓", "why:"] { #expect(table.stdout.contains(text), "\(text)") }
        let (yaml, _) = try plan(["--rps", "10", "-o", "yaml"])
        #expect(yaml.status == 0 && yaml.stdout.contains("usualChoice:") && yaml.stdout.contains("costPerHour:"))
    }

    @Test func badInputGetsTheFieldAndAnExitStatus() throws {
        let (invalid, _) = try plan([], manifest: Self.manifest.replacingOccurrences(of: "ttftP95Ms: 800", with: "ttftP95Ms: fast"))
        #expect(invalid.status == 1 && invalid.stderr.contains("spec.slo.ttftP95Ms"), "\(invalid.stderr)")
        let (none, _) = try plan([], manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        #expect(none.status == 1 && none.stderr.contains("expected one LLMDeployment"), "\(none.stderr)")
        let (format, _) = try plan(["-o", "xml"])
        #expect(format.status != 0 && format.stderr.contains("-o must be table, json or yaml"))
        let (rate, _) = try plan(["--rps", "-3"])
        #expect(rate.status != 0 && rate.stderr.contains("--rps"))
        let (tooBig, _) = try plan([], manifest: Self.manifest.replacingOccurrences(of: "parameterCount: 8B", with: "parameterCount: 2T"))
        #expect(tooBig.status == 1 && tooBig.stderr.contains("no configuration can serve it"), "\(tooBig.stderr)")
    }

    /// spec.expectedLoad decides the GPU type, as the operator decides it, and is the load
    /// plan sizes for when no --rps is given: a small chat load goes to the cheapest GPU that
    /// serves it, long prompts to more compute.
    @Test func theSpecsExpectedLoadChoosesTheGPU() throws {
        func withLoad(_ rps: Double, _ input: Int, _ output: Int) -> String {
            Self.manifest.replacingOccurrences(
                of: "gpu: {allowedTypes: [L40S, H100]}",
                with: "gpu: {allowedTypes: [L4, L40S, H100]}\n  expectedLoad: {requestsPerSecond: \(rps), meanInputTokens: \(input), meanOutputTokens: \(output)}")
        }
        func choice(_ json: [String: Any]?) -> String {
            let c = json?["llmops"] as? [String: Any]
            return "\(c?["gpuType"] as? String ?? "?")×\(c?["tensorParallel"] as? Int ?? 0)"
        }
        let (small, a) = try plan(["-o", "json"], manifest: withLoad(0.5, 300, 100))
        let (long, b) = try plan(["-o", "json"], manifest: withLoad(3, 6000, 200))
        #expect(small.status == 0 && long.status == 0, "\(small.stderr)\(long.stderr)")
        #expect(choice(a).hasPrefix("L4×"), "\(choice(a))")
        #expect(choice(b).hasPrefix("H100"), "\(choice(b))")
        let load = try #require(a?["load"] as? [String: Any])
        #expect(load["requestsPerSecond"] as? Double == 0.5 && load["meanInputTokens"] as? Double == 300)
        let design = try #require(a?["designLoad"] as? [String: Any])
        #expect(design["source"] as? String == "spec.expectedLoad" && design["meanOutputTokens"] as? Double == 100)
        // --rps overrides the load it is sized for, not the choice.
        let (_, c) = try plan(["--rps", "40", "-o", "json"], manifest: withLoad(0.5, 300, 100))
        #expect(choice(c) == choice(a))
        let (_, d) = try plan(["-o", "json"])
        #expect((d?["designLoad"] as? [String: Any])?["source"] as? String == "default")
        #expect((d?["designLoad"] as? [String: Any])?["requestsPerSecond"] as? Double == 20)
        let (table, _) = try plan([], manifest: withLoad(0.5, 300, 100))
        #expect(table.stdout.contains("candidates at spec.expectedLoad: 0.5 req/s of 300 in / 100 out tokens"), "\(table.stdout)")
        let (bad, _) = try plan([], manifest: withLoad(0, 300, 100))
        #expect(bad.status == 1 && bad.stderr.contains("spec.expectedLoad.requestsPerSecond"), "\(bad.stderr)")
    }

    /// A trace whose requests arrive together: the plan shows how they clump per window (JSON
    /// and table), and a review suggests the group size the configuration it reports sees.
    @Test func aClumpedTraceShowsItsDispersion() throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: trace) }
        // Groups of 1..11 requests (mean 6) at the same instant every 2 s for ten minutes.
        var lines: [String] = []
        for g in 0..<300 {
            for _ in 0...(g * 7 % 11) { lines.append(#"{"timestamp": \#(g * 2000), "input_length": 2000, "output_length": 30}"#) }
        }
        try (lines.joined(separator: "\n") + "\n").write(to: trace, atomically: true, encoding: .utf8)
        let (r, json) = try plan(["--trace", trace.path, "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let load = try #require(json?["load"] as? [String: Any])
        let curve = try #require(load["arrivalDispersion"] as? [[String: Any]], "\(load)")
        #expect(curve.count == 8 && curve.first?["windowSeconds"] as? Double == 0.0625)
        // Over a short window the count is one group or none: E[X²]/E[X] of sizes 1..11 is
        // 46/6 ≈ 7.67. Over 8 s four groups arrive like clockwork, less dispersed than Poisson.
        let index = curve.map { $0["indexOfDispersion"] as? Double ?? 0 }
        #expect(abs(index[0] - 46.0 / 6) < 0.1 && index[7] < 1, "\(curve)")
        if let review = json?["review"] as? String {
            #expect(review.contains("requestsPerGroup: "), "\(review)")
        }
        let (table, _) = try plan(["--trace", trace.path])
        #expect(table.stdout.contains("arrivals clump: index of dispersion"), "\(table.stdout)")
    }

    @Test func aTraceSetsTheLoad() throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: trace) }
        // 11 requests over 10 s: 1.1 req/s; prompts 100..1100 tokens (mean 600), outputs 50.
        let lines = (0...10).map { i in #"{"timestamp": \#(i * 1000), "input_length": \#(100 + i * 100), "output_length": 50}"# }
        try (lines.joined(separator: "\n") + "\n").write(to: trace, atomically: true, encoding: .utf8)
        let (r, json) = try plan(["--trace", trace.path, "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let load = try #require(json?["load"] as? [String: Any])
        #expect(abs((load["requestsPerSecond"] as? Double ?? 0) - 1.1) < 1e-9)
        #expect(load["meanInputTokens"] as? Double == 600 && load["meanOutputTokens"] as? Double == 50)
        // A small chat load would choose a smaller configuration than the design load's: the
        // review the operator would report, with the spec.expectedLoad that adopts it.
        let review = try #require(json?["review"] as? String, "\(r.stdout)")
        #expect(review.hasPrefix("at the observed 1.1 req/s of 600 in / 50 out tokens, L40S×1 would cost"), "\(review)")
        #expect(review.contains("set spec.expectedLoad to {requestsPerSecond: 1.1, meanInputTokens: 600, meanOutputTokens: 50}"), "\(review)")
        let (table, _) = try plan(["--trace", trace.path])
        #expect(table.stdout.contains("\nreview: at the observed"), "\(table.stdout)")
        #expect(!table.stdout.contains("arrivals clump"), "evenly spaced arrivals do not clump: \(table.stdout)")
        // At the design load itself there is nothing to review.
        let (design, same) = try plan(["-o", "json"])
        #expect(design.status == 0 && same?["review"] == nil)
        let (both, _) = try plan(["--trace", trace.path, "--rps", "3"])
        #expect(both.status != 0 && both.stderr.contains("--trace sets the load"))
        let (missing, _) = try plan(["--trace", "/nonexistent/trace.csv"])
        #expect(missing.status == 1 && missing.stderr.contains("--trace /nonexistent/trace.csv"))
    }
}
