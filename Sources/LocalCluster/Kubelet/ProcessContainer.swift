import Foundation
import KubeModel

/// A container of the llmops image, run for real as a process of this same binary, the way a
/// container runtime would run the image's entrypoint: the Pod's command and args (with
/// `$(VAR)` expanded), its environment, `KUBERNETES_SERVICE_HOST`/`_PORT`, and its
/// ServiceAccount token, CA and namespace in a directory in-cluster configuration reads.
/// Two things stand in for what a container runtime does with namespaces: the process
/// cannot mount the token at `/var/run/secrets/...`, so `LLMOPS_SERVICEACCOUNT_DIR` names the
/// directory; and it shares the host's network, so a listen address on all interfaces
/// (`:8080`, `0.0.0.0:8080`) is narrowed to the Pod's own IP, as a Pod network namespace would.
final class ProcessContainer: @unchecked Sendable {
    /// Images whose repository is named `llmops` (`ghcr.io/llmops/llmops:0.1.0`, `llmops:dev`).
    static func isLLMOps(image: String) -> Bool {
        var repository = image
        if let at = repository.firstIndex(of: "@") { repository = String(repository[..<at]) }
        let last = repository.split(separator: "/").last.map(String.init) ?? repository
        return last.split(separator: ":").first == "llmops"
    }

    /// The image's entrypoint and default arguments (see the Dockerfile).
    static let entrypoint = "/usr/local/bin/llmops"
    static let defaultArguments = ["operator", "--leader-elect"]

    struct LaunchError: Error, CustomStringConvertible {
        var reason: String
        var description: String
    }

    /// The arguments after the binary: the Pod's command (its first word must be the llmops
    /// binary, the only program in the image) and args, with `$(VAR)` expanded from `env`
    /// and all-interface listen addresses narrowed to `podIP`.
    static func arguments(_ container: JSONValue, env: [String: String], podIP: String) throws -> [String] {
        let command = container["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? (command.isEmpty ? defaultArguments : [])
        if let program = command.first {
            guard (program as NSString).lastPathComponent == "llmops" else {
                throw LaunchError(
                    reason: "RunContainerError",
                    description: "the llmops image holds only \(entrypoint); \"\(program)\" cannot be run (llmops up runs the llmops binary itself)")
            }
            args = Array(command.dropFirst()) + (container["args"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        return args.map { narrow(expand($0, env), podIP: podIP) }
    }

    /// Kubernetes' `$(VAR)` expansion: known variables are replaced, `$$` escapes, unknown
    /// references stay as written.
    static func expand(_ text: String, _ env: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            let next = text.index(after: i)
            if c == "$", next < text.endIndex {
                if text[next] == "$" {
                    out.append("$")
                    i = text.index(after: next)
                    continue
                }
                if text[next] == "(", let close = text[next...].firstIndex(of: ")") {
                    let name = String(text[text.index(after: next)..<close])
                    if let value = env[name] {
                        out += value
                        i = text.index(after: close)
                        continue
                    }
                }
            }
            out.append(c)
            i = next
        }
        return out
    }

    /// `:8080`, `0.0.0.0:8080`, `[::]:8080` (alone or after `--flag=`) become `podIP:8080`.
    static func narrow(_ arg: String, podIP: String) -> String {
        var prefix = ""
        var value = Substring(arg)
        if arg.hasPrefix("-"), let eq = arg.firstIndex(of: "=") {
            prefix = String(arg[...eq])
            value = arg[arg.index(after: eq)...]
        }
        for any in [":", "0.0.0.0:", "[::]:"] where value.hasPrefix(any) {
            let port = value.dropFirst(any.count)
            if !port.isEmpty, port.allSatisfy(\.isNumber) { return prefix + podIP + ":" + port }
        }
        return arg
    }

    let process = Process()
    let startedAt = Date()
    private let log: FileHandle

    /// Starts `executable` with `arguments` and exactly `environment` (nothing inherited, as in
    /// a container); stdout and stderr go to `logFile`.
    init(executable: String, arguments: [String], environment: [String: String], logFile: URL, workingDirectory: URL) throws {
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        log = try FileHandle(forWritingTo: logFile)
        _ = try log.seekToEnd()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = workingDirectory
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }
    /// The exit code, or 128 + the signal that ended it (as container runtimes report it).
    var exitCode: Int32 {
        process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// SIGTERM, then SIGKILL once `grace` has passed.
    func terminate(grace: Duration) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? log.close()
    }
}
