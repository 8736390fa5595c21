import ArgumentParser
import Foundation
import Simulator

/// `llmops trace`: request traces for `simulate`, `load` and `plan`.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Work with request traces.", subcommands: [GenerateTraceCommand.self])
}

/// `llmops trace generate`: synthetic traffic that nobody tuned for, from a seed.
struct GenerateTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic request trace (JSON lines: timestamp ms, input_length, output_length).",
        discussion: """
            Profiles: bursty (chat-like lengths, 4x bursts about a minute long), long-context \
            (prompts with a median of 6,000 tokens and a Pareto tail, clustered arrivals), batch \
            (requests arriving together in groups of eight on average, short answers), steady \
            (Poisson arrivals, moderate lengths). Arrivals are Gamma renewals modulated by a \
            two-state Markov chain and a slow swing; lengths are log-normal with a Pareto tail. \
            The same seed always gives the same trace.
            """)

    @Option(help: "Traffic shape: \(TrafficSpec.presetNames.joined(separator: ", ")).")
    var profile = "bursty"

    @Option(help: "Mean arrival rate, requests per second.")
    var rps = 5.0

    @Option(help: "Length of the trace in seconds.")
    var duration = 3600.0

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(name: [.customShort("o"), .long], help: "Output file (default: standard output).")
    var output: String?

    func validate() throws {
        guard let spec = TrafficSpec.preset(profile, rate: rps, duration: duration) else {
            throw ValidationError("--profile must be one of \(TrafficSpec.presetNames.joined(separator: ", ")), found \(profile)")
        }
        if let why = spec.validate() { throw ValidationError(why) }
        guard rps * duration <= 50_000_000 else { throw ValidationError("--rps × --duration must stay below 50 million requests") }
    }

    func run() throws {
        let spec = TrafficSpec.preset(profile, rate: rps, duration: duration)!
        let requests = TrafficGenerator.generate(spec, seed: seed)
        var text = ""
        text.reserveCapacity(requests.count * 64)
        for r in requests {
            text += "{\"timestamp\": \(Int((r.arrival * 1000).rounded())), \"input_length\": \(r.inputTokens), \"output_length\": \(r.outputTokens)}\n"
        }
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
            FileHandle.standardError.write(Data("wrote \(requests.count) requests to \(output)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
