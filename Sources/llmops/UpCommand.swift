import ArgumentParser
import ControlPlane
import Foundation

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
        await waitForTermination()
        print("shutting down")
        try await plane.shutdown()
    }

    /// Suspends until SIGINT or SIGTERM.
    func waitForTermination() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once(continuation)
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { once.fire() }
                source.resume()
                Once.keep(source)
            }
        }
    }
}

/// Resumes a continuation exactly once, from whichever signal arrives first.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    init(_ c: CheckedContinuation<Void, Never>) { continuation = c }

    static func keep(_ s: DispatchSourceSignal) { sources.append(s) }

    func fire() {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume()
    }
}
