import ArgumentParser
import Foundation
import LLMOpsAPI
import LLMOpsCore
import Simulator

/// `llmops simulate`: replays a request trace against several scaling policies side by side.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a request trace against scaling policies and compare cost and SLO attainment.",
        discussion: """
            Everything is compared in dollars at the SLO, in a discrete-event simulation of \
            vLLM-like replicas. llmops runs untuned on the configuration (GPU type and \
            tensor-parallel degree) the optimization core picks for the trace's load. hpa-default \
            is a tuned HPA on the configuration users pick without llmops (the largest allowed \
            GPU, smallest TP that fits). Every allowed configuration is tried with a tuned HPA; \
            hpa, kpa and static-peak run tuned on the cheapest one. The oracle knows the next \
            minute's arrivals, starts replicas in the physical minimum time and runs on every \
            configuration: it is a lower bound.
            """
    )

    @Option(help: "Trace file: Azure CSV (TIMESTAMP,ContextTokens,GeneratedTokens) or JSON lines (timestamp ms, input_length, output_length).")
    var trace: String

    @Option(help: "Comma-separated policies: static-peak, hpa-default, hpa, kpa, llmops, oracle.")
    var policies = Evaluation.allPolicies.joined(separator: ",")

    @Option(name: .customLong("gpu-types"), help: "GPU types the core may choose from.")
    var gpuTypes = "H100,A100-80GB,L40S,L4"

    @Option(help: "Model size: parameters with an M, B or T suffix (shape estimated from the Llama family).")
    var model = "8B"

    @Option(help: "Bytes per weight: 2 (BF16), 1 (FP8), 0.5 (INT4).")
    var bytesPerParameter = 2.0

    @Option(name: .customLong("ttft-ms"), help: "TTFT objective in milliseconds.")
    var ttftMs = 2000.0

    @Option(name: .customLong("itl-ms"), help: "Inter-token latency objective (per request) in milliseconds.")
    var itlMs = 100.0

    @Option(name: .customLong("rate-scale"), help: "Multiply the load by superposing this many time-shifted copies of the trace (fractions keep a random share of one more copy).")
    var rateScale = 1.0

    @Option(name: .customLong("max-model-len"), help: "Context length the engine serves (vLLM's --max-model-len); default: the trace's longest request rounded up to a power of two, at least 8192.")
    var maxModelLen: Int?

    @Option(help: "Fraction of requests that must meet both objectives.")
    var attainment = 0.99

    @Option(name: .customLong("max-replicas"), help: "Upper bound on replicas for every policy.")
    var maxReplicas = 64

    @Option(help: "Seconds at the start of the trace that every policy runs but none is judged on (cost and SLO count from then on; at most half the trace). With ten minutes or more, llmops designs from the warm-up's traffic only, as an operator designs from yesterday's.")
    var warmup = 0.0

    @Flag(name: .customLong("online-reserve"), help: "llmops measures its burst reserve online over the last hour it has seen, as the operator does, instead of being given the one measured on the design traffic.")
    var onlineReserve = false

    @Flag(help: "Also compare the capacity model's SLO capacity per replica with the simulator's, for every allowed configuration.")
    var calibrate = false

    @Option(name: .customLong("calibrate-fleet"), help: "Replicas behind the router in the calibration (--calibrate): capacities are per replica of a fleet this size.")
    var calibrateFleet = 1

    @Option(name: .customLong("calibrate-group-mean"), help: "Mean size of the groups of requests that arrive together in the calibration (--calibrate; geometric sizes, 1: one at a time).")
    var calibrateGroupMean = 1.0

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Write a chart of load and replicas over time (SVG) to this file.")
    var svg: String?

    func validate() throws {
        guard ttftMs > 0, itlMs > 0 else { throw ValidationError("--ttft-ms and --itl-ms must be positive") }
        guard attainment > 0, attainment < 1 else { throw ValidationError("--attainment must be between 0 and 1, e.g. 0.99") }
        guard parameters != nil else { throw ValidationError("--model must be a number with an M, B or T suffix, e.g. 8B") }
        guard [0.5, 1, 2, 4].contains(bytesPerParameter) else { throw ValidationError("--bytes-per-parameter must be 0.5, 1, 2 or 4") }
        guard warmup.isFinite, warmup >= 0 else { throw ValidationError("--warmup must be a non-negative number of seconds, e.g. 600") }
        guard (1...1000).contains(calibrateFleet) else { throw ValidationError("--calibrate-fleet must be between 1 and 1000 replicas") }
        guard calibrateGroupMean.isFinite, (1...1000).contains(calibrateGroupMean) else {
            throw ValidationError("--calibrate-group-mean must be between 1 and 1000 requests")
        }
        guard maxReplicas >= 1 else { throw ValidationError("--max-replicas must be at least 1") }
        guard rateScale.isFinite, rateScale > 0, rateScale <= 1000 else { throw ValidationError("--rate-scale must be a number in (0, 1000], e.g. 20") }
        if let maxModelLen, !(256...1_048_576).contains(maxModelLen) { throw ValidationError("--max-model-len must be between 256 and 1048576 tokens") }
        for g in gpuTypeList where GPUCatalog.standard[g] == nil {
            throw ValidationError("unknown GPU type \(g); known: \(GPUCatalog.standard.names.joined(separator: ", "))")
        }
    }

    var gpuTypeList: [String] { gpuTypes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    var parameters: Double? { ModelSpec.parseParameterCount(model) }

    static func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    func run() async throws {
        var requests: [TraceRequest]
        do {
            requests = try TraceReader.read(path: trace)
        } catch {
            printError("simulate: \(trace): \(error)")
            throw ExitCode(2)
        }
        requests = RateScaling.superpose(requests, factor: rateScale)
        let longest = requests.map { $0.inputTokens + $0.outputTokens }.max() ?? 0
        let context = maxModelLen ?? max(8192, 1 << Int(log2(Double(max(longest, 1)) - 1e-9).rounded(.up)))
        let options = Evaluation.Options(
            model: ModelProfile.estimated(parameters: parameters!, bytesPerParameter: bytesPerParameter, contextLength: context),
            slo: LatencySLO(ttftSeconds: ttftMs / 1000, itlSeconds: itlMs / 1000, attainment: attainment), gpuTypes: gpuTypeList,
            policies: policies.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, maxReplicas: maxReplicas,
            warmupSeconds: warmup, onlineReserve: onlineReserve)
        let progress = Progress()
        let report: Evaluation.Report
        do {
            report = try await Evaluation.run(requests: requests, options: options) { progress.update($0) }
        } catch {
            progress.finish()
            printError("simulate: \(error)")
            throw ExitCode(1)
        }
        progress.finish()
        var calibration: [Calibration.Row] = []
        if calibrate {
            calibration = await Calibration.table(Evaluation.configurations(options), lengths: requests, slo: options.slo, fleet: calibrateFleet, groupMean: calibrateGroupMean)
        }
        let label = rateScale == 1 ? trace : "\(trace) ×\(Self.format(rateScale))"
        print(ReportFormatter.table(report, trace: label, requests: requests.count))
        if calibrate { print(ReportFormatter.calibrationTable(calibration)) }
        if let json {
            try ReportFormatter.json(report, trace: label, requests: requests.count, calibration: calibration).write(toFile: json, atomically: true, encoding: .utf8)
            print("wrote \(json)")
        }
        if let svg {
            try SVGChart.render(report, title: (trace as NSString).lastPathComponent).write(toFile: svg, atomically: true, encoding: .utf8)
            print("wrote \(svg)")
        }
    }
}

/// A one-line progress indicator on stderr, shown only for runs longer than a second.
final class Progress: @unchecked Sendable {
    private let start = Date()
    private let lock = NSLock()
    private var shown = false
    private var lastDraw = 0.0

    func update(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = Date().timeIntervalSince(start)
        // Quiet for short runs, and at most five redraws a second.
        guard elapsed > 1, elapsed - lastDraw >= 0.2 else { return }
        lastDraw = elapsed
        shown = true
        FileHandle.standardError.write(Data(String(format: "\r  simulating: %@ (%.0f s)   ", message, elapsed).utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
