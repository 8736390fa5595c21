import AsyncHTTPClient
import Foundation
import KubeClient
import KubeModel
import KubeRuntime

/// Pods of the llmops image run as real processes (see `ProcessContainer`): the kubelet
/// provisions the ServiceAccount token, starts the process, probes readiness over HTTP,
/// restarts it with back-off when it exits, and stops it with SIGTERM and the grace period.
extension Kubelet {
    /// Where process Pods keep their files, and the binary the llmops image stands for.
    struct ProcessSettings: Sendable {
        var podDirectory: URL
        var executable: String
    }

    /// ServiceAccount tokens live about an hour; the kubelet renews them at 80 % of that.
    static let tokenSeconds: Int64 = 3607

    func directory(_ pod: Pod, _ settings: ProcessSettings) -> URL {
        settings.podDirectory.appendingPathComponent("\(pod.metadata.namespace ?? "default")_\(pod.metadata.name ?? "")_\(pod.metadata.uid ?? "")")
    }

    /// Kills the processes a previous `llmops up` left behind (one killed with SIGKILL cannot
    /// stop its Pods), so their addresses are free and nothing acts twice; their Pods are
    /// started again from the API's state.
    static func reapLeftovers(_ settings: ProcessSettings) {
        let fm = FileManager.default
        for dir in (try? fm.contentsOfDirectory(at: settings.podDirectory, includingPropertiesForKeys: nil)) ?? [] {
            let pidFile = dir.appendingPathComponent("pid")
            guard let text = try? String(contentsOf: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            // Only a process of our binary: the pid may have been reused since.
            if let cmdline = fm.contents(atPath: "/proc/\(pid)/cmdline"), let first = cmdline.split(separator: 0).first,
                String(decoding: first, as: UTF8.self) == settings.executable
            {
                kill(pid, SIGKILL)
            }
            try? fm.removeItem(at: pidFile)
        }
    }

    /// Starts the container's process, or records why it cannot start (as the container's
    /// waiting reason) and when to try again.
    func launch(_ pod: Pod, _ rt: inout Runtime, _ settings: ProcessSettings) async {
        let container = pod.spec?["containers"]?.arrayValue?.first ?? .object(JSONObject())
        let name = container["name"]?.stringValue ?? "main"
        let dir = directory(pod, settings)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let server = URL(string: client.configuration.server)
            let host = server?.host ?? "127.0.0.1"
            let port = server?.port.map(String.init) ?? "443"
            var env = try await ContainerEnvironment.resolve(pod: pod, container: container, podIP: rt.ip, apiHost: host, apiPort: port, client: client)
            if pod.spec?["automountServiceAccountToken"]?.boolValue != false {
                let tokenDir = dir.appendingPathComponent("serviceaccount")
                rt.tokenRefreshAt = try await writeServiceAccountVolume(pod, tokenDir)
                env[ClientConfiguration.serviceAccountDirectoryVariable] = tokenDir.path
            }
            env["HOME"] = dir.path
            let args = try ProcessContainer.arguments(container, env: env, podIP: rt.ip)
            rt.process = try ProcessContainer(
                executable: settings.executable, arguments: args, environment: env, logFile: dir.appendingPathComponent("\(name).log"), workingDirectory: dir)
            try? "\(rt.process?.pid ?? 0)\n".write(to: dir.appendingPathComponent("pid"), atomically: true, encoding: .utf8)
            rt.startedAt = Date()
            rt.problem = nil
            rt.ready = false
        } catch let e as ProcessContainer.LaunchError {
            rt.problem = (e.reason, e.description)
        } catch let e as ContainerEnvironment.Failure {
            rt.problem = ("CreateContainerConfigError", e.description)
        } catch {
            rt.problem = ("CreateContainerConfigError", "\(error)")
        }
    }

    /// The projected ServiceAccount volume: a token bound to the Pod, the cluster CA and the
    /// namespace; returns when the token should be renewed.
    func writeServiceAccountVolume(_ pod: Pod, _ dir: URL) async throws -> Date {
        let ns = pod.metadata.namespace ?? "default"
        let sa = pod.spec?["serviceAccountName"]?.stringValue ?? "default"
        let body: JSONValue = [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": [
                "expirationSeconds": .int(Self.tokenSeconds),
                "boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": .string(pod.metadata.name ?? ""), "uid": .string(pod.metadata.uid ?? "")],
            ],
        ]
        let answer: JSONValue
        do {
            answer = try await client.request("POST", "/api/v1/namespaces/\(ns)/serviceaccounts/\(sa)/token", body: body)
        } catch let e as KubeAPIError where e.isNotFound {
            throw ContainerEnvironment.Failure(description: "serviceaccount \"\(sa)\" not found in namespace \(ns)")
        }
        guard let token = answer["status"]?["token"]?.stringValue else { throw ContainerEnvironment.Failure(description: "the TokenRequest answer holds no token") }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try token.write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try Data(client.configuration.certificateAuthorityPEM ?? []).write(to: dir.appendingPathComponent("ca.crt"), options: .atomic)
        try ns.write(to: dir.appendingPathComponent("namespace"), atomically: true, encoding: .utf8)
        return Date().addingTimeInterval(Double(Self.tokenSeconds) * 0.8)
    }

    /// One supervision step of a process Pod: restart after an exit (with back-off), renew
    /// the token, probe readiness, and report any change in the Pod's status.
    func supervise(_ pod: Pod, _ key: ObjectKey, _ node: SimulatedNode, _ settings: ProcessSettings) async throws -> ReconcileResult {
        guard var rt = runtimes.withLock({ $0[key] }) else { return .done }
        let container = pod.spec?["containers"]?.arrayValue?.first ?? .object(JSONObject())
        let name = container["name"]?.stringValue ?? "main"
        let period = clock.scaled(seconds: Double(container["readinessProbe"]?["periodSeconds"]?.intValue ?? 10), minimum: 0.2)
        let poll = min(period, .seconds(1))
        if let p = rt.process, !p.isRunning {
            let code = p.exitCode
            let finished = Timestamp.now().rfc3339
            rt.lastTerminated = [
                "terminated": [
                    "exitCode": .int(Int64(code)), "reason": .string(code == 0 ? "Completed" : "Error"),
                    "startedAt": .string(Timestamp(secondsSinceEpoch: Int64(p.startedAt.timeIntervalSince1970)).rfc3339), "finishedAt": .string(finished),
                ]
            ]
            rt.process = nil
            rt.ready = false
            rt.restarts += 1
            // The kubelet's back-off: 10 s doubling to 5 minutes, in modelled time.
            let backoff = min(300.0, 10.0 * pow(2, Double(rt.restarts - 1)))
            rt.backoffUntil = Date().addingTimeInterval(max(backoff / clock.speedup, 0.5))
            rt.problem = ("CrashLoopBackOff", "back-off \(Int(backoff))s restarting failed container=\(name) pod=\(key.name): exited with code \(code)")
            runtimes.withLock { $0[key] = rt }
            try await writeStatus(pod, rt, node: node)
            await events.record(pod, type: .warning, reason: "BackOff", message: rt.problem?.message ?? "")
            return .requeueAfter(clock.scaled(seconds: backoff, minimum: 0.5))
        }
        if rt.process == nil {
            if let until = rt.backoffUntil, Date() < until { return .requeueAfter(.milliseconds(Int64(until.timeIntervalSinceNow * 1000) + 1)) }
            await launch(pod, &rt, settings)
            runtimes.withLock { $0[key] = rt }
            try await writeStatus(pod, rt, node: node)
            if let problem = rt.problem {
                await events.record(pod, type: .warning, reason: "Failed", message: problem.message)
                return .requeueAfter(clock.scaled(seconds: 10, minimum: 0.5))
            }
            await events.record(pod, reason: "Started", message: "Started container \(name) (process \(rt.process?.pid ?? 0)) on \(node.name) (\(rt.ip))")
            return .requeueAfter(poll)
        }
        if let refresh = rt.tokenRefreshAt, Date() >= refresh {
            rt.tokenRefreshAt = try? await writeServiceAccountVolume(pod, directory(pod, settings).appendingPathComponent("serviceaccount"))
        }
        let ready = await probe(container, ip: rt.ip)
        if ready != rt.ready || pod.status?.podIP == nil {
            rt.ready = ready
            runtimes.withLock { $0[key] = rt }
            try await writeStatus(pod, rt, node: node)
        } else {
            runtimes.withLock { $0[key] = rt }
        }
        return .requeueAfter(poll)
    }

    /// The readiness probe's HTTP GET (a 2xx or 3xx answer within a second); without a
    /// probe, a running process is ready.
    func probe(_ container: JSONValue, ip: String) async -> Bool {
        guard let get = container["readinessProbe"]?["httpGet"] else { return true }
        var port = get["port"]?.intValue.map(Int.init)
        if port == nil, let named = get["port"]?.stringValue {
            port = (container["ports"]?.arrayValue ?? []).first { $0["name"]?.stringValue == named }?["containerPort"]?.intValue.map(Int.init) ?? Int(named)
        }
        guard let port else { return false }
        let path = get["path"]?.stringValue ?? "/"
        do {
            let request = HTTPClientRequest(url: "http://\(ip):\(port)\(path.hasPrefix("/") ? path : "/" + path)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(1))
            return (200..<400).contains(Int(response.status.code))
        } catch {
            return false
        }
    }
}
