import ArgumentParser
import Controllers
import Foundation
import KubeClient
import KubeRuntime
import LLMOpsCore
import Logging
import ServiceLifecycle

/// `llmops operator`: the controllers, against any Kubernetes API server.
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Run the llmops operator (LLMDeployment, ScalingPolicy and CanaryRun controllers).",
        discussion: """
            Connects with --kubeconfig, else $KUBECONFIG, else the in-cluster service account, \
            else ~/.kube/config, as controller-runtime does. Serves /metrics, /healthz and /readyz \
            on --health-probe-bind-address. SIGTERM drains in-flight reconciles and releases the \
            leader lease.
            """)

    @OptionGroup var settings: OperatorSettings

    func run() async throws {
        let logger = settings.makeLogger()
        let options = try settings.operatorOptions()
        let client: KubeClient
        do {
            var config = try ClientConfiguration.load(kubeconfig: settings.kubeconfig)
            config.qps = settings.kubeApiQps
            config.burst = settings.kubeApiBurst
            config.userAgent = "llmops-operator"
            config.requestObserver = options.metrics.restClientObserver(host: URL(string: config.server).flatMap { u in u.host.map { "\($0):\(u.port ?? 443)" } } ?? config.server)
            client = try KubeClient(config)
        } catch {
            printError("operator: \(error)")
            throw ExitCode(1)
        }
        let op = Operator(client: client, options: options, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [op], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}

/// Every setting an admin can change, shared by `llmops operator` and `llmops up --operator`.
struct OperatorSettings: ParsableArguments {
    @Option(help: "Path to a kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config).")
    var kubeconfig: String?

    @Flag(help: "Elect a leader on a Lease so only one replica acts.")
    var leaderElect = false

    @Option(help: "Namespace of the leader-election Lease.")
    var leaderElectionNamespace = "llmops-system"

    @Option(help: "Where to serve /metrics alone (HOST:PORT, or 0 for none; it is also served with the probes).")
    var metricsBindAddress = ":8080"

    @Option(help: "Where to serve /healthz and /readyz (HOST:PORT).")
    var healthProbeBindAddress = ":8081"

    @Option(help: "Watch only this namespace (repeatable; default: all namespaces).")
    var watchNamespace: [String] = []

    @Option(help: "Prometheus base URL for serving metrics (default: scrape the serving Pods' /metrics).")
    var prometheusURL: String?

    @Option(help: "YAML or JSON map of GPU type to dollars per GPU-hour, overriding the built-in prices.")
    var gpuPrices: String?

    @Option(help: "Minimum log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text or json.")
    var logFormat: String = "text"

    // Above client-go's 5/10 and controller-runtime's 20/30, as kubectl raised its own to
    // 50/300 (Kubernetes 1.27): the API server's Priority and Fairness protects it, and at 20
    // requests per second bringing up 500 LLMDeployments waited four minutes on this limit.
    @Option(help: "Client-side limit on API requests per second.")
    var kubeApiQps: Double = 50

    @Option(help: "Client-side burst of API requests above --kube-api-qps.")
    var kubeApiBurst: Int = 100

    @Option(help: "Scale from zero: this Pod's IP, where the activator holds requests for LLMDeployments at zero replicas (EndpointSlices point there); empty turns it off.")
    var activatorAddress: String = ""

    @Option(help: "Ports the activator may listen on, one per LLMDeployment at zero (FIRST-LAST; allow them in a NetworkPolicy).")
    var activatorPorts: String = "9100-9199"

    @Option(help: .hidden)
    var timeScale: Double = 1

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
        _ = try Self.parseAddress(healthProbeBindAddress, flag: "--health-probe-bind-address")
        _ = try Self.parseAddress(metricsBindAddress, flag: "--metrics-bind-address")
        guard kubeApiQps > 0, kubeApiBurst > 0 else { throw ValidationError("--kube-api-qps and --kube-api-burst must be positive") }
        if let url = prometheusURL, URL(string: url)?.scheme == nil { throw ValidationError("--prometheus-url must be an http(s) URL, not \"\(url)\"") }
        _ = try Self.parsePorts(activatorPorts)
    }

    static func parsePorts(_ text: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let first = parts[0], let last = parts[1], 1 <= first, first <= last, last <= 65535 else {
            throw ValidationError("--activator-ports must be FIRST-LAST with 1 ≤ FIRST ≤ LAST ≤ 65535, not \"\(text)\"")
        }
        return first...last
    }

    static func parseAddress(_ text: String, flag: String) throws -> (host: String, port: Int)? {
        if text == "0" { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(flag) must be HOST:PORT or :PORT, not \"\(text)\"")
        }
        let host = String(text[..<colon])
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    func makeLogger() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        var logger = Logger(label: "llmops.operator") { label in
            json ? JSONLogHandler(label: label) as any LogHandler : StreamLogHandler.standardError(label: label)
        }
        logger.logLevel = level
        return logger
    }

    func operatorOptions() throws -> Operator.Options {
        var o = Operator.Options()
        o.watchNamespaces = watchNamespace
        o.prometheusURL = prometheusURL
        o.clock = OperatorClock(speedup: timeScale)
        if let probe = try Self.parseAddress(healthProbeBindAddress, flag: "--health-probe-bind-address") {
            o.healthHost = probe.host
            o.healthPort = probe.port
        }
        if let metrics = try Self.parseAddress(metricsBindAddress, flag: "--metrics-bind-address") {
            o.metricsHost = metrics.host
            o.metricsPort = metrics.port
        }
        if leaderElect {
            let host = ProcessInfo.processInfo.environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
            o.leaderElection = .init(leaseName: "llmops-operator", namespace: leaderElectionNamespace, identity: "\(host)_\(UUID().uuidString.prefix(8).lowercased())")
        }
        if let path = gpuPrices {
            o.catalog = try Self.loadPrices(path)
        }
        if !activatorAddress.isEmpty {
            o.activatorAddress = activatorAddress
            o.activatorPorts = try Self.parsePorts(activatorPorts)
        }
        return o
    }

    static func loadPrices(_ path: String) throws -> GPUCatalog {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("--gpu-prices: cannot read \(path)") }
        var prices: [String: Double] = [:]
        for (n, raw) in text.split(separator: "\n").enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty || line == "{" || line == "}" { continue }
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \",")) }
            guard parts.count == 2, let price = Double(parts[1]) else {
                throw ValidationError("--gpu-prices: \(path):\(n + 1): expected \"TYPE: DOLLARS_PER_GPU_HOUR\", got \"\(line)\"")
            }
            prices[parts[0]] = price
        }
        switch GPUCatalog.standard.overridingPrices(prices) {
        case .success(let c): return c
        case .failure(let e): throw ValidationError("--gpu-prices: \(path): \(e)")
        }
    }
}
