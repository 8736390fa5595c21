import Foundation
import Testing

/// `llmops up` driven by the real kubectl, as a user would.
final class RunningControlPlane {
    let process = Process()
    let dataDir: URL
    let kubeconfig: String
    let port: Int

    /// The API server alone by default: these tests check what is stored, which the simulated
    /// cluster's and the operator's controllers would change under them.
    init(dataDir: URL? = nil, extraArguments: [String] = ["--gpus", "none", "--no-operator"]) throws {
        self.dataDir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("llmops-up-\(UUID().uuidString)")
        kubeconfig = self.dataDir.appendingPathComponent("kubeconfig").path
        try? FileManager.default.removeItem(atPath: kubeconfig)
        process.executableURL = CLIRunner.binary
        process.arguments = ["up", "--data-dir", self.dataDir.path, "--port", "0"] + extraArguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("kubeconfig:") && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
            let p = Int(text[range].split(separator: ":").last!)
        else { throw CocoaError(.fileReadCorruptFile) }
        port = p
    }

    func kubectl(_ args: [String], stdin: String? = nil) throws -> CLIRunner.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        p.arguments = ["--kubeconfig", kubeconfig] + args
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIRunner.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func stop(signal: Int32 = SIGTERM) {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct UpCommandTests {
    @Test func kubectlDrivesTheEmbeddedControlPlane() throws {
        let cp = try RunningControlPlane()
        defer { cp.stop() }
        let version = try cp.kubectl(["version"])
        #expect(version.stdout.contains("Server Version: v1.32.0-llmops"), "\(version.output)")
        let ns = try cp.kubectl(["get", "namespaces", "-o", "name"])
        #expect(ns.stdout.contains("namespace/default") && ns.stdout.contains("namespace/kube-system"), "\(ns.output)")

        // Typed commands send protobuf bodies.
        #expect(try cp.kubectl(["create", "namespace", "team-a"]).status == 0)
        #expect(try cp.kubectl(["create", "configmap", "prices", "-n", "team-a", "--from-literal=H100=6.5", "--from-literal=L4=0.8"]).status == 0)
        #expect(try cp.kubectl(["create", "secret", "generic", "hf-token", "-n", "team-a", "--from-literal=token=abc"]).status == 0)
        #expect(try cp.kubectl(["create", "serviceaccount", "operator", "-n", "team-a"]).status == 0)
        #expect(try cp.kubectl(["get", "configmap", "prices", "-n", "team-a", "-o", "jsonpath={.data.L4}"]).stdout == "0.8")
        #expect(try cp.kubectl(["get", "secret", "hf-token", "-n", "team-a", "-o", "jsonpath={.data.token}"]).stdout == Data("abc".utf8).base64EncodedString())

        let crds = try cp.kubectl(["create", "-f", root.appendingPathComponent("crds").path, "--validate=false"])
        #expect(crds.status == 0, "\(crds.output)")
        #expect(try cp.kubectl(["create", "-f", "-", "--validate=false"], stdin: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: inference\n").status == 0)
        let samples = try cp.kubectl(["create", "-f", root.appendingPathComponent("manifests/samples").path, "--validate=false"])
        #expect(samples.status == 0, "\(samples.output)")
        #expect(samples.stdout.contains("llmdeployment.llmops.io/llama-3-1-8b-chat created"))

        let resources = try cp.kubectl(["api-resources", "--api-group=llmops.io"])
        #expect(resources.stdout.contains("llmd") && resources.stdout.contains("CanaryRun"), "\(resources.output)")
        // Server-side defaulting, visible through kubectl.
        let kind = try cp.kubectl(["get", "llmd", "llama-3-1-8b-chat", "-n", "inference", "-o", "jsonpath={.spec.engine.kind}/{.spec.gpu.allowMixed}/{.metadata.generation}"])
        #expect(kind.stdout == "vllm/false/1", "\(kind.output)")
        // A spec change bumps generation.
        let patched = try cp.kubectl(["patch", "llmd", "llama-3-1-8b-chat", "-n", "inference", "--type=merge", "-p", #"{"spec":{"replicas":3}}"#])
        #expect(patched.status == 0, "\(patched.output)")
        #expect(try cp.kubectl(["get", "llmd", "llama-3-1-8b-chat", "-n", "inference", "-o", "jsonpath={.metadata.generation}"]).stdout == "2")
        // Status through the status subresource, and printer columns through server-side Tables.
        let status = try cp.kubectl([
            "patch", "llmd", "llama-3-1-8b-chat", "-n", "inference", "--subresource=status", "--type=merge", "-p",
            #"{"status":{"readyReplicas":2,"gpuType":"L40S","tensorParallel":1,"costPerHour":3.72}}"#,
        ])
        #expect(status.status == 0, "\(status.output)")
        let table = try cp.kubectl(["get", "llmd", "-n", "inference"])
        let header = table.stdout.split(separator: "\n").first.map { $0.split(separator: " ").map(String.init) } ?? []
        #expect(header == ["NAME", "READY", "DESIRED", "GPU", "TP", "COST/H", "AGE"], "\(table.output)")
        #expect(table.stdout.contains("L40S") && table.stdout.contains("3.72"), "\(table.output)")
        #expect(try cp.kubectl(["get", "llmd", "-n", "inference", "-o", "wide"]).stdout.contains("meta-llama/Llama-3.1-8B-Instruct"))
        // Schema validation with field paths, from the API server.
        let bad = try cp.kubectl(
            ["create", "-f", "-", "--validate=false"],
            stdin: "apiVersion: llmops.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: bad, namespace: inference}\nspec: {targetRef: {name: x}, minReplicas: 9, maxReplicas: 2}\n")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("minReplicas must be less than or equal to maxReplicas"), "\(bad.output)")
        // Wrong credentials are refused.
        let denied = try cp.kubectl(["get", "namespaces", "--token", "not-the-token"])
        #expect(denied.status != 0 && denied.stderr.contains("Unauthorized"), "\(denied.output)")
        // Delete, then it is gone.
        #expect(try cp.kubectl(["delete", "canaryrun", "llama-3-1-8b-chat-rev-5f0b02c", "-n", "inference"]).status == 0)
        let gone = try cp.kubectl(["get", "canaryrun", "llama-3-1-8b-chat-rev-5f0b02c", "-n", "inference"])
        #expect(gone.status != 0 && gone.stderr.contains("NotFound"), "\(gone.output)")
    }

    /// Malformed and hostile requests over the real HTTPS socket: each gets its status and a
    /// Status body, and the server keeps serving.
    @Test func hostileRequestsGetStatusErrors() throws {
        let cp = try RunningControlPlane()
        defer { cp.stop() }
        let token = try String(contentsOf: cp.dataDir.appendingPathComponent("admin.token"), encoding: .utf8)
        let ca = cp.dataDir.appendingPathComponent("pki/ca.crt").path
        let big = cp.dataDir.appendingPathComponent("big.json")
        try Data(repeating: 0x20, count: 4 * 1024 * 1024).write(to: big)
        func curl(_ method: String, _ path: String, body: String? = nil, file: String? = nil, auth: Bool = true, type: String = "application/json") throws -> (Int, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "--cacert", ca, "-X", method, "-H", "Content-Type: \(type)"]
            if auth { args += ["-H", "Authorization: Bearer \(token)"] }
            if let body { args += ["--data-binary", body] }
            if let file { args += ["--data-binary", "@" + file] }
            p.arguments = args + ["--path-as-is", "https://127.0.0.1:\(cp.port)\(path)"]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
        }
        let cm = "/api/v1/namespaces/default/configmaps"
        let cases: [(String, String, String?, String?, Bool, String, Int)] = [
            ("GET", "/api/v1/namespaces", nil, nil, false, "application/json", 401),
            ("GET", "/api/v1/namespaces/default/configmaps/../../secrets", nil, nil, true, "application/json", 404),
            ("GET", "/api/v1/namespaces/default/configmaps/%2e%2e", nil, nil, true, "application/json", 404),
            ("POST", cm, "{\"metadata\":", nil, true, "application/json", 400),
            ("POST", cm, "- just: yaml\n- list", nil, true, "application/yaml", 400),
            ("POST", cm, nil, big.path, true, "application/json", 413),
            ("POST", cm, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}"#, nil, true, "application/json", 400),
            ("POST", cm, #"{"metadata":{"name":"x"}}"#, nil, true, "application/vnd.kubernetes.protobuf", 415),
            ("PUT", cm + "/x", #"{"metadata":{"name":"y"}}"#, nil, true, "application/json", 400),
            ("GET", cm, nil, nil, true, "application/json", 200),
            ("GET", cm + "?labelSelector=a%3D%3D%3D", nil, nil, true, "application/json", 400),
            ("GET", cm + "?watch=true&resourceVersion=abc", nil, nil, true, "application/json", 400),
            ("DELETE", "/apis/llmops.io/v1alpha1/namespaces/default/llmdeployments/x", nil, nil, true, "application/json", 404),
            ("PATCH", cm + "/nope", "{}", nil, true, "application/merge-patch+json", 404),
        ]
        for (method, path, body, file, auth, type, expected) in cases {
            let (code, text) = try curl(method, path, body: body, file: file, auth: auth, type: type)
            #expect(code == expected, "\(method) \(path): \(code) \(text.prefix(200))")
            if expected != 200 { #expect(text.contains("\"kind\":\"Status\""), "\(method) \(path): \(text.prefix(200))") }
        }
        #expect(try cp.kubectl(["get", "namespaces", "-o", "name"]).status == 0)
    }

    @Test func kubectlWatchSeesChangesInOrder() throws {
        let cp = try RunningControlPlane()
        defer { cp.stop() }
        #expect(try cp.kubectl(["create", "-f", root.appendingPathComponent("crds").path, "--validate=false"]).status == 0)
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        watcher.arguments = ["--kubeconfig", cp.kubeconfig, "get", "scalingpolicies", "-n", "default", "-w", "--output-watch-events", "--request-timeout=8s"]
        let out = Pipe()
        watcher.standardOutput = out
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        Thread.sleep(forTimeInterval: 1.5)
        let policy = "apiVersion: llmops.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: w1, namespace: default}\nspec: {targetRef: {name: x}, maxReplicas: 3}\n"
        #expect(try cp.kubectl(["create", "-f", "-", "--validate=false"], stdin: policy).status == 0)
        #expect(try cp.kubectl(["patch", "sp", "w1", "--type=merge", "-p", #"{"spec":{"maxReplicas":5}}"#]).status == 0)
        #expect(try cp.kubectl(["delete", "sp", "w1"]).status == 0)
        Thread.sleep(forTimeInterval: 1)
        kill(watcher.processIdentifier, SIGTERM)
        watcher.waitUntilExit()
        let events = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0 != "EVENT" }
        #expect(events == ["ADDED", "MODIFIED", "DELETED"], "\(events)")
    }

    @Test func stateSurvivesKillNineAndRestart() throws {
        let first = try RunningControlPlane()
        #expect(try first.kubectl(["create", "-f", root.appendingPathComponent("crds").path, "--validate=false"]).status == 0)
        let created = try first.kubectl(["create", "-f", "-", "--validate=false"], stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prices, namespace: default}\ndata: {H100: \"6.5\"}\n")
        #expect(created.status == 0, "\(created.output)")
        let before = try first.kubectl(["get", "configmap", "prices", "-o", "jsonpath={.metadata.resourceVersion}/{.metadata.uid}"]).stdout
        first.stop(signal: SIGKILL)

        let second = try RunningControlPlane(dataDir: first.dataDir)
        defer { second.stop() }
        let after = try second.kubectl(["get", "configmap", "prices", "-o", "jsonpath={.metadata.resourceVersion}/{.metadata.uid}"]).stdout
        #expect(after == before && !before.isEmpty)
        #expect(try second.kubectl(["get", "crd", "llmdeployments.llmops.io", "-o", "name"]).status == 0)
        #expect(try second.kubectl(["get", "llmd", "-A"]).status == 0)
    }

    /// SIGTERM and SIGINT are graceful: exit status 0, and the next start serves the data.
    @Test(arguments: [SIGTERM, SIGINT])
    func signalsStopGracefully(_ sig: Int32) throws {
        // The whole product: API server, simulated cluster and operator stop in order.
        let first = try RunningControlPlane(extraArguments: ["--time-scale", "50"])
        #expect(try first.kubectl(["create", "namespace", "kept"]).status == 0)
        first.stop(signal: sig)
        #expect(first.process.terminationReason == .exit && first.process.terminationStatus == 0)
        let second = try RunningControlPlane(dataDir: first.dataDir)
        defer { second.stop() }
        #expect(try second.kubectl(["get", "namespace", "kept", "-o", "name"]).stdout == "namespace/kept\n")
    }
}
