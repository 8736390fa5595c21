import ArgumentParser
import Controllers
import Foundation
import KubeModel
import LLMOpsAPI
import LLMOpsCore
import Simulator
import Yams

/// `llmops plan -f FILE`: what the operator would decide for an LLMDeployment, without a
/// cluster, as `terraform plan` shows a change before it is made.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what the operator would decide for an LLMDeployment, without a cluster.",
        discussion: """
            Reads an LLMDeployment (and its ScalingPolicy, if the file holds one) and prints the GPU \
            type and tensor-parallel degree the LLMDeployment controller would choose, the replicas \
            and dollars per hour at the expected load (--rps and token lengths), the candidates the \
            core weighed and why the others lost, and what the configuration users usually pick \
            (the largest allowed GPU at the smallest TP that fits) would cost. Exit status 1 when \
            the manifest is invalid or no configuration can serve it.
            """)

    @Option(name: [.customShort("f"), .long], help: "A YAML or JSON file with one LLMDeployment and optionally its ScalingPolicy ('-' reads standard input).")
    var filename: String

    @Option(help: "Expected requests per second (default: spec.expectedLoad, else 20).")
    var rps: Double?

    @Option(help: "Mean prompt length in tokens (default: spec.expectedLoad, else 1024).")
    var inputTokens: Double?

    @Option(help: "Mean output length in tokens (default: spec.expectedLoad, else 256).")
    var outputTokens: Double?

    @Option(help: "A trace (Azure CSV or JSON lines, as `llmops simulate` reads) whose rate, how it moves and bursts, and its prompt and output length distributions set the load (as `llmops simulate` sees it), instead of --rps and the token options.")
    var trace: String?

    @Option(name: [.customShort("o"), .long], help: "Output format: table, json or yaml.")
    var output = "table"

    @Option(help: "YAML or JSON map of GPU type to dollars per GPU-hour, overriding the built-in prices.")
    var gpuPrices: String?

    func validate() throws {
        guard ["table", "json", "yaml"].contains(output) else { throw ValidationError("-o must be table, json or yaml, not \"\(output)\"") }
        if trace != nil, rps != nil || inputTokens != nil || outputTokens != nil {
            throw ValidationError("--trace sets the load: give it or --rps/--input-tokens/--output-tokens, not both")
        }
        if let rps { guard rps > 0, rps.isFinite else { throw ValidationError("--rps must be a positive number") } }
        guard (inputTokens ?? 1) >= 1, (outputTokens ?? 1) >= 1 else { throw ValidationError("--input-tokens and --output-tokens must be at least 1") }
    }

    func run() throws {
        let bytes: [UInt8]
        if filename == "-" {
            bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: filename) else { throw fail("\(filename): cannot read the file") }
            bytes = [UInt8](data)
        }
        let report = ManifestValidator.validate(bytes: bytes)
        if !report.isValid {
            for p in report.problems { printError("\(filename)\(p.position.map { ":\($0.line):\($0.column)" } ?? ""): \(p)") }
            throw ExitCode(1)
        }
        let docs = try YAMLDocuments.read(String(decoding: bytes, as: UTF8.self)).map(\.value).filter { $0 != .null }
        let decoder = JSONValueDecoder()
        let deployments = try docs.filter { $0["kind"]?.stringValue == "LLMDeployment" }.map { try decoder.decode(LLMDeployment.self, from: $0) }
        guard deployments.count == 1, let llmd = deployments.first else {
            throw fail("\(filename): expected one LLMDeployment, found \(deployments.count)")
        }
        let policy = try docs.filter { $0["kind"]?.stringValue == "ScalingPolicy" }.map { try decoder.decode(ScalingPolicy.self, from: $0) }
            .first { $0.spec.targetRef.name == llmd.metadata.name }
        let catalog = try gpuPrices.map { try OperatorSettings.loadPrices($0) } ?? .standard
        // Without --rps or --trace, the load the spec expects (as the operator designs for it).
        let expected = llmd.spec.expectedLoad
        var given = LoadProfile(
            requestsPerSecond: rps ?? expected?.requestsPerSecond ?? 20, meanInputTokens: inputTokens ?? expected.map { Double($0.meanInputTokens) } ?? 1024,
            meanOutputTokens: outputTokens ?? expected.map { Double($0.meanOutputTokens) } ?? 256)
        // Groups the spec declares hold at any rate (a trace measures its own).
        given.arrivalDispersion = DeploymentPlan.designLoad(llmd.spec).arrivalDispersion
        let load = try trace.map { try Self.load(trace: $0, slo: llmd.spec.slo) } ?? given
        let bounds = policy.map { Int($0.spec.minReplicas)...Int(max($0.spec.minReplicas, $0.spec.maxReplicas)) }
        let plan: DeploymentPlan
        switch DeploymentPlan.make(llmd.spec, load: load, bounds: bounds, catalog: catalog) {
        case .success(let p): plan = p
        case .failure(let e): throw fail("\(llmd.metadata.name ?? "LLMDeployment"): no configuration can serve it: \(e)")
        }
        let value = Self.json(plan, llmd, policy)
        switch output {
        case "json": print(JSONText.serialize(value, pretty: true))
        case "yaml": print(try Yams.dump(object: Self.foundation(value), sortKeys: false), terminator: "")
        default: print(Self.table(plan, llmd, policy), terminator: "")
        }
    }

    /// The trace's mean rate over its span, its length distributions (long-prompt tails and
    /// short answers cost more than their means say), how its rate moves, and its bursts.
    static func load(trace path: String, slo: SLOSpec) throws -> LoadProfile {
        let requests: [TraceRequest]
        do {
            requests = try TraceReader.read(path: path)
        } catch {
            printError("plan: --trace \(path): \(error)")
            throw ExitCode(1)
        }
        guard requests.count >= 2, (requests.last?.arrival ?? 0) > 0 else {
            printError("plan: --trace \(path): needs at least two requests spread over time to give a rate")
            throw ExitCode(1)
        }
        // The same statistics `llmops simulate` gives the core, so plan and simulate agree:
        // length strata, per-minute rate strata, and the burst reserve over a cold start plus
        // a scaling period (about a minute for models that load in under 30 s), for the spec's
        // attainment and with its TTFT objective as the time a request may queue.
        return Evaluation.loadProfile(requests, attainment: slo.attainment, lead: 60, wait: Double(slo.ttftP95Ms) / 1000)
    }

    private func fail(_ message: String) -> ExitCode {
        printError("plan: \(message)")
        return ExitCode(1)
    }

    static func money(_ x: Double) -> Double { (x * 100).rounded() / 100 }

    static func fleetJSON(_ f: DeploymentPlan.Fleet) -> JSONValue {
        .object(JSONObject([
            ("gpuType", .string(f.gpuType)), ("tensorParallel", .int(Int64(f.tensorParallel))), ("replicas", .int(Int64(f.replicas))),
            ("requestsPerSecondPerReplica", .double(money(f.ratePerReplica))), ("costPerHour", .double(money(f.costPerHour))),
        ]))
    }

    static func json(_ plan: DeploymentPlan, _ llmd: LLMDeployment, _ policy: ScalingPolicy?) -> JSONValue {
        var o = JSONObject()
        o["llmDeployment"] = .string("\(llmd.metadata.namespace.map { "\($0)/" } ?? "")\(llmd.metadata.name ?? "")")
        if let p = policy { o["scalingPolicy"] = .string(p.metadata.name ?? "") }
        var load = JSONObject([
            ("requestsPerSecond", .double(plan.load.requestsPerSecond)), ("meanInputTokens", .double(plan.load.meanInputTokens)),
            ("meanOutputTokens", .double(plan.load.meanOutputTokens)),
        ])
        // A trace's arrivals measured per window: how much they clump, which the sizing reads.
        if !plan.load.dispersionByWindow.isEmpty {
            load["arrivalDispersion"] = .array(zip(LoadProfile.dispersionWindows, plan.load.dispersionByWindow).map { w, d in
                .object(JSONObject([("windowSeconds", .double(w)), ("indexOfDispersion", .double(money(d)))]))
            })
        }
        o["load"] = .object(load)
        // The load the GPU type was chosen for, and where it came from.
        o["designLoad"] = .object(JSONObject([
            ("requestsPerSecond", .double(plan.designLoad.requestsPerSecond)), ("meanInputTokens", .double(plan.designLoad.meanInputTokens)),
            ("meanOutputTokens", .double(plan.designLoad.meanOutputTokens)),
            ("requestsPerGroup", .double(money(LoadProfile.groupMean(dispersion: plan.designLoad.arrivalDispersion)))),
            ("source", .string(llmd.spec.expectedLoad == nil ? "default" : "spec.expectedLoad")),
        ]))
        o["llmops"] = fleetJSON(plan.chosen)
        if let u = plan.unboundedReplicas { o["replicasBeforeScalingPolicyBounds"] = .int(Int64(u)) }
        if let b = plan.baseline {
            o["usualChoice"] = fleetJSON(b)
            o["savingPerHour"] = .double(money(b.costPerHour - plan.chosen.costPerHour))
        } else if let why = plan.baselineProblem {
            o["usualChoiceProblem"] = .string(why)
        }
        o["candidates"] = .array(plan.candidates.map { c in
            var x = JSONObject([("name", .string(c.name)), ("chosen", .bool(c.chosen)), ("note", .string(c.note))])
            if let s = c.score, s.isFinite { x["costPerHourAtDesignLoad"] = .double(money(s)) }
            return .object(x)
        })
        o["reasons"] = .array(plan.reasons.map(JSONValue.string))
        if let review = plan.review { o["review"] = .string(review) }
        return .object(o)
    }

    static func foundation(_ v: JSONValue) -> Any {
        switch v {
        case .object(let o): return Dictionary(uniqueKeysWithValues: o.map { ($0.key, foundation($0.value)) })
        case .array(let a): return a.map(foundation)
        case .string(let s): return s
        case .int(let i): return Int(i)
        case .double(let d): return d
        case .bool(let b): return b
        case .null: return NSNull()
        }
    }

    /// How a trace's arrivals clump, for the load line: the index of dispersion over the
    /// shortest and longest windows measured; nil for arrivals no burstier than Poisson.
    static func clumping(_ load: LoadProfile) -> String? {
        let d = load.dispersionByWindow, w = LoadProfile.dispersionWindows
        guard d.count == w.count, let first = d.first, let last = d.last, d.max()! > 1.1 else { return nil }
        return String(format: "arrivals clump: index of dispersion %.2g over %g s, %.3g over %g s", first, w.first!, last, w.last!)
    }

    static func table(_ plan: DeploymentPlan, _ llmd: LLMDeployment, _ policy: ScalingPolicy?) -> String {
        func line(_ f: DeploymentPlan.Fleet) -> String {
            "\(f.gpuType) x\(f.tensorParallel) × \(f.replicas) replica\(f.replicas == 1 ? "" : "s")  $\(String(format: "%.2f", f.costPerHour))/h  (\(String(format: "%.1f", f.ratePerReplica)) req/s per replica)"
        }
        var out = "LLMDeployment \(llmd.metadata.name ?? "")  \(llmd.spec.model.name) (\(llmd.spec.model.parameterCount))\n"
        out += "load          \(String(format: "%.2f", plan.load.requestsPerSecond)) req/s of \(Int(plan.load.meanInputTokens)) in / \(Int(plan.load.meanOutputTokens)) out tokens"
        if let clumps = Self.clumping(plan.load) { out += "; " + clumps }
        out += policy.map { "; ScalingPolicy \($0.metadata.name ?? "") bounds \($0.spec.minReplicas)-\($0.spec.maxReplicas)" } ?? ""
        out += "\nllmops        " + line(plan.chosen) + (plan.unboundedReplicas.map { "  [load needs \($0); held by the policy's bounds]" } ?? "") + "\n"
        if let b = plan.baseline {
            let saving = b.costPerHour > 0 ? (b.costPerHour - plan.chosen.costPerHour) / b.costPerHour * 100 : 0
            out += "usual choice  " + line(b) + "\n"
            out += "              (the largest allowed GPU at the smallest TP that holds the weights and a full-context KV cache)\n"
            out += "difference    $\(String(format: "%.2f", b.costPerHour - plan.chosen.costPerHour))/h (\(String(format: "%.0f", saving)) % of the usual choice)\n"
        } else if let why = plan.baselineProblem {
            out += "usual choice  none: \(why)\n"
        }
        let source = llmd.spec.expectedLoad == nil ? "the default design load (set spec.expectedLoad to change it)" : "spec.expectedLoad"
        out += "\ncandidates at \(source): \(DeploymentPlan.describe(plan.designLoad)) (how the GPU type is chosen):\n"
        for c in plan.candidates {
            let cost = c.score.flatMap { $0.isFinite ? String(format: "$%.2f/h", $0) : nil } ?? "-"
            out += "  \(c.chosen ? "✓" : "✗") \(c.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(cost.padding(toLength: 11, withPad: " ", startingAt: 0)) \(c.note)\n"
        }
        out += "\nwhy: " + plan.reasons.joined(separator: "; ") + "\n"
        if let review = plan.review { out += "\nreview: " + review + "\n" }
        return out
    }
}
