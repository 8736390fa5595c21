import ArgumentParser
import ControlPlane
import Controllers
import Foundation
import KubeClient
import KubeModel
import LLMOpsAPI
import LocalCluster
import Logging
import ServiceLifecycle

/// `llmops up`: runs the embedded Kubernetes-compatible control plane until SIGINT or SIGTERM.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run a local GPU cluster: the embedded Kubernetes-compatible control plane with simulated GPU nodes.",
        discussion: """
            State lives in SQLite under --data-dir and survives restarts. The API is served over \
            HTTPS with a CA and serving certificate generated into --data-dir/pki, and an admin \
            bearer token; the kubeconfig written to --kubeconfig holds both, so \
            `kubectl --kubeconfig FILE get ns` works at once. The admin token may do \
            everything (group system:masters); ServiceAccount tokens (`kubectl create token`) \
            are authorised by RBAC, as on a real cluster.

            Around the API server run simulated GPU nodes (--gpus), their kubelets, a scheduler \
            and the Deployment, ReplicaSet, EndpointSlice and node lifecycle controllers, all as \
            API clients. Pods of a vLLM image serve a simulated vLLM on their own loopback \
            address, port 8000. Pods of the llmops image (the operator as the kustomize base or \
            the Helm chart installs it) run as processes of this binary under their \
            ServiceAccount; their files and logs are in --data-dir/pods. --gpus none runs the \
            API server alone.
            """
    )

    @Option(help: "Directory for the database, certificates and token.")
    var dataDir: String

    @Option(help: "HTTPS port on 127.0.0.1 (0 picks a free port).")
    var port = 6443

    @Option(help: "Where to write the kubeconfig (default: DATA_DIR/kubeconfig).")
    var kubeconfig: String?

    @Option(
        help: ArgumentHelp(
            "GPU nodes as TYPE:NODESxGPUS groups, comma-separated (e.g. h100:2x8,l40s:4x4), @FILE to read them from a file, or none.",
            valueName: "spec"))
    var gpus = ClusterTopology.defaultSpec

    @Option(help: "Divide every modelled delay (model loading, serving) by this factor; 1 is real time.")
    var timeScale = 1.0

    @Option(help: "Append every API request to this file as a Kubernetes audit event (audit.k8s.io/v1, JSON lines).")
    var auditLogPath: String?

    @Flag(inversion: .prefixedNo, help: "Install the llmops CRDs and run the operator in-process, so applied LLMDeployments reconcile at once.")
    var `operator` = true

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard timeScale > 0 && timeScale <= 100_000 && timeScale.isFinite else { throw ValidationError("--time-scale must be a number above 0 and at most 100000") }
        _ = try topology()
    }

    /// The nodes to simulate, or nil for the API server alone.
    func topology() throws -> ClusterTopology? {
        if gpus == "none" { return nil }
        var text = gpus
        if gpus.hasPrefix("@") {
            let path = String(gpus.dropFirst())
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("--gpus: cannot read \(path)") }
            text = contents
        }
        do {
            return try ClusterTopology.parse(text)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let dir = URL(fileURLWithPath: dataDir)
        let plane: LocalControlPlane
        do {
            plane = try await LocalControlPlane.start(dataDirectory: dir, port: port, auditLogPath: auditLogPath)
        } catch {
            printError("up: cannot start the control plane: \(error)")
            throw ExitCode(1)
        }
        let kubeconfigPath = kubeconfig ?? dir.appendingPathComponent("kubeconfig").path
        try plane.kubeconfig.write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: kubeconfigPath)
        // Unbuffered, so scripts and tests reading a pipe see these lines at once.
        FileHandle.standardOutput.write(Data("""
            llmops control plane serving on https://127.0.0.1:\(plane.port)
            kubeconfig: \(kubeconfigPath)   (kubectl --kubeconfig \(kubeconfigPath) get namespaces)

            """.utf8))
        // swift-service-lifecycle turns SIGTERM and SIGINT into a graceful shutdown, as it does
        // for the operator's Manager, so both stop the same way. The cluster stops before the
        // API server it talks to.
        var logger = Logger(label: "llmops.up")
        logger.logLevel = .warning
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: ControlPlaneService(plane: plane))]
        var clients: [KubeClient] = []
        if let topology = try topology() {
            let client = try localClient(plane, kubeconfigPath, agent: "llmops-local-cluster")
            clients.append(client)
            let summary = topology.groups.map { "\($0.nodes)×\($0.gpuType)x\($0.gpusPerNode)" }.joined(separator: ", ")
            let line = "simulated nodes ready: \(summary), \(topology.cpuNodes) CPU node\(topology.cpuNodes == 1 ? "" : "s")\(timeScale == 1 ? "" : " (time ×\(timeScale))")\n"
            var options = LocalCluster.Options(topology: topology, clock: SimulationClock(speedup: timeScale)) { FileHandle.standardOutput.write(Data(line.utf8)) }
            // Pods of the llmops image (the operator installed by kustomize or Helm) run as
            // processes of this binary.
            options.podDirectory = URL(fileURLWithPath: dataDir).appendingPathComponent("pods")
            options.executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let cluster = LocalCluster(client: client, options: options, logger: logger)
            services.append(.init(service: cluster))
        }
        if `operator` {
            let client = try localClient(plane, kubeconfigPath, agent: "llmops-operator")
            clients.append(client)
            var opLogger = Logger(label: "llmops.operator")
            opLogger.logLevel = .warning
            var options = Operator.Options()
            options.healthPort = nil
            options.clock = OperatorClock(speedup: timeScale)
            // Scale from zero: requests to a Service at zero replicas are held on loopback.
            options.activatorAddress = "127.0.0.1"
            services.append(.init(service: InProcessOperator(client: client, operator: Operator(client: client, options: options, logger: opLogger))))
            FileHandle.standardOutput.write(Data("operator: running in-process (LLMDeployment, ScalingPolicy and CanaryRun controllers)\n".utf8))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let result: Result<Void, any Error>
        do {
            try await group.run()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        for c in clients { await c.shutdown() }
        try result.get()
    }
}

/// The running control plane as a lifecycle service: it serves until shutdown is requested,
/// then stops accepting requests and closes the store.
struct ControlPlaneService: ServiceLifecycle.Service {
    let plane: LocalControlPlane

    func run() async throws {
        // Returns at once when shutdown is requested, or with CancellationError when the group
        // is cancelled; the plane is stopped either way.
        try? await gracefulShutdown()
        print("shutting down")
        try await plane.shutdown()
    }
}

extension UpCommand {
    /// A client of the local API server for in-process components. One process stands in for a
    /// scheduler, kubelets and controller managers, so it is not held to client-go's 5 QPS.
    func localClient(_ plane: LocalControlPlane, _ path: String, agent: String) throws -> KubeClient {
        var config = try ClientConfiguration.from(try KubeConfig(yaml: plane.kubeconfig, source: path))
        config.qps = 500
        config.burst = 1000
        config.userAgent = agent
        return try KubeClient(config)
    }

}

/// The operator inside `llmops up`: installs the CRDs it serves, then runs. Both happen under
/// the service group, so a signal during start-up is a graceful stop too.
struct InProcessOperator: ServiceLifecycle.Service {
    let client: KubeClient
    let `operator`: Operator

    func run() async throws {
        try await Self.installCRDs(client)
        try await `operator`.run()
    }

    /// Server-side applies the generated CRDs (kept current across upgrades of the binary).
    static func installCRDs(_ client: KubeClient) async throws {
        for e in ResourceCatalog.entries {
            let name = "\(e.crd.names.plural).\(e.crd.group)"
            _ = try await client.request(
                "PATCH", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/\(name)", query: [("fieldManager", "llmops-up"), ("force", "true")],
                body: e.crd.jsonValue, contentType: "application/apply-patch+yaml")
        }
    }
}
