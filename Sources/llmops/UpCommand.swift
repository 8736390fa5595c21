import ArgumentParser
import ControlPlane
import Foundation
import Logging
import ServiceLifecycle

/// `llmops up`: runs the embedded Kubernetes-compatible control plane until SIGINT or SIGTERM.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the embedded Kubernetes-compatible control plane (no cluster needed).",
        discussion: """
            State lives in SQLite under --data-dir and survives restarts. The API is served over \
            HTTPS with a CA and serving certificate generated into --data-dir/pki, and an admin \
            bearer token; the kubeconfig written to --kubeconfig holds both, so \
            `kubectl --kubeconfig FILE get ns` works at once.
            """
    )

    @Option(help: "Directory for the database, certificates and token.")
    var dataDir: String

    @Option(help: "HTTPS port on 127.0.0.1 (0 picks a free port).")
    var port = 6443

    @Option(help: "Where to write the kubeconfig (default: DATA_DIR/kubeconfig).")
    var kubeconfig: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        let dir = URL(fileURLWithPath: dataDir)
        let plane: LocalControlPlane
        do {
            plane = try await LocalControlPlane.start(dataDirectory: dir, port: port)
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
        // for the operator's Manager, so both stop the same way.
        var logger = Logger(label: "llmops.up")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(services: [ControlPlaneService(plane: plane)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The running control plane as a lifecycle service: it serves until shutdown is requested,
/// then stops accepting requests and closes the store.
struct ControlPlaneService: Service {
    let plane: LocalControlPlane

    func run() async throws {
        // Returns at once when shutdown is requested, or with CancellationError when the group
        // is cancelled; the plane is stopped either way.
        try? await gracefulShutdown()
        print("shutting down")
        try await plane.shutdown()
    }
}
