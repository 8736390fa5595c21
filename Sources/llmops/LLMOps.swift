import ArgumentParser

/// The `llmops` command: one binary for generating CRDs, validating manifests and, as the
/// project grows, running the embedded control plane, the operator and the simulator.
@main
struct LLMOps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmops",
        abstract: "Run LLM inference fleets on Kubernetes at the lowest cost that meets their latency SLOs.",
        version: "0.1.0",
        subcommands: [UpCommand.self, OperatorCommand.self, LoadCommand.self, CRDsCommand.self, ValidateCommand.self, PlanCommand.self, SimulateCommand.self, TraceCommand.self]
    )
}
