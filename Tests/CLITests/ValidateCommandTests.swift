import Foundation
import Testing

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A valid LLMDeployment to mutate into bad ones.
let goodDeployment = """
    apiVersion: llmops.io/v1alpha1
    kind: LLMDeployment
    metadata:
      name: chat
      namespace: inference
    spec:
      model:
        name: meta-llama/Llama-3.1-8B-Instruct
        source: hf://meta-llama/Llama-3.1-8B-Instruct
        parameterCount: 8B
      slo:
        ttftP95Ms: 800
        itlP95Ms: 60
      gpu:
        allowedTypes: [L40S]

    """

struct BadInput: CustomTestStringConvertible, Sendable {
    let label: String
    let bytes: Data
    /// Text the report must contain: usually the field path, else the problem.
    let expected: [String]
    var testDescription: String { label }

    init(_ label: String, _ text: String, _ expected: String...) {
        self.label = label
        bytes = Data(text.utf8)
        self.expected = expected
    }

    init(_ label: String, bytes: Data, _ expected: String...) {
        self.label = label
        self.bytes = bytes
        self.expected = expected
    }
}

func replacing(_ old: String, _ new: String) -> String {
    precondition(goodDeployment.contains(old), old)
    return goodDeployment.replacingOccurrences(of: old, with: new)
}

let badInputs: [BadInput] = [
    BadInput("empty file", "", "file is empty"),
    BadInput("whitespace only", "\n\n   \n", "file is empty"),
    BadInput("only separators", "---\n---\n", "only empty YAML documents"),
    BadInput("binary garbage", bytes: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }), "NUL byte"),
    BadInput("invalid UTF-8", bytes: Data([0x61, 0x3A, 0x20, 0xC3, 0x28, 0x0A]), "not valid UTF-8"),
    BadInput("malformed YAML", "apiVersion: llmops.io/v1alpha1\nkind: [LLMDeployment\n", "malformed YAML"),
    BadInput("tab indentation", "spec:\n\tmodel: x\n", "malformed YAML"),
    BadInput("duplicate keys", replacing("  namespace: inference\n", "  namespace: inference\n  name: again\n"), "duplicate key", "\"name\""),
    BadInput(
        "deeply nested", "apiVersion: llmops.io/v1alpha1\nkind: LLMDeployment\nx: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000),
        "deeper"),
    BadInput("scalar document", "just a string\n", "must be a mapping"),
    BadInput("missing apiVersion", "kind: LLMDeployment\nmetadata: {name: a}\n", "apiVersion", "Required"),
    BadInput("missing kind", "apiVersion: llmops.io/v1alpha1\nmetadata: {name: a}\n", "kind", "Required"),
    BadInput("unknown version", replacing("llmops.io/v1alpha1", "llmops.io/v2"), "apiVersion", "v1alpha1"),
    BadInput("unknown kind", replacing("kind: LLMDeployment", "kind: LLMDeploy"), "kind", "Unsupported value"),
    BadInput("missing name", replacing("  name: chat\n", ""), "metadata.name", "Required"),
    BadInput("bad name", replacing("name: chat", "name: Chat_Bot"), "metadata.name", "RFC 1123"),
    BadInput("bad label", replacing("  namespace: inference\n", "  namespace: inference\n  labels: {\"a b\": c}\n"), "metadata.labels"),
    BadInput("missing spec", "apiVersion: llmops.io/v1alpha1\nkind: LLMDeployment\nmetadata: {name: a}\n", "spec", "Required value"),
    BadInput("missing required field", replacing("    ttftP95Ms: 800\n", ""), "spec.slo.ttftP95Ms", "Required value"),
    BadInput("unknown field", replacing("  slo:\n", "  sloo: 1\n  slo:\n"), "spec.sloo", "did you mean \"slo\""),
    BadInput("nested unknown field", replacing("    itlP95Ms: 60\n", "    itlP95Ms: 60\n    p99: 5\n"), "spec.slo.p99", "Unknown field"),
    BadInput("wrong type string for int", replacing("ttftP95Ms: 800", "ttftP95Ms: fast"), "spec.slo.ttftP95Ms", "must be of type integer"),
    BadInput("quoted number", replacing("ttftP95Ms: 800", "ttftP95Ms: \"800\""), "spec.slo.ttftP95Ms", "must be of type integer"),
    BadInput("fractional integer", replacing("ttftP95Ms: 800", "ttftP95Ms: 800.5"), "spec.slo.ttftP95Ms"),
    BadInput("out of range", replacing("itlP95Ms: 60", "itlP95Ms: -5"), "spec.slo.itlP95Ms", "greater than or equal to 1"),
    BadInput("above maximum", replacing("itlP95Ms: 60\n", "itlP95Ms: 60\n    attainment: 1.5\n"), "spec.slo.attainment", "less than or equal to"),
    BadInput("enum", replacing("allowedTypes: [L40S]", "allowedTypes: [L40S, TPUv5]"), "spec.gpu.allowedTypes[1]", "Unsupported value"),
    BadInput("empty list", replacing("allowedTypes: [L40S]", "allowedTypes: []"), "spec.gpu.allowedTypes", "at least 1"),
    BadInput("duplicate set item", replacing("allowedTypes: [L40S]", "allowedTypes: [L40S, L40S]"), "spec.gpu.allowedTypes[1]", "Duplicate"),
    BadInput("pattern", replacing("parameterCount: 8B", "parameterCount: eight billion"), "spec.model.parameterCount", "should match"),
    BadInput("int-or-string", replacing("allowedTypes: [L40S]", "allowedTypes: [L40S]\n    tensorParallel: 3"), "spec.gpu.tensorParallel", "Unsupported value"),
    BadInput("object where list expected", replacing("allowedTypes: [L40S]", "allowedTypes: {a: b}"), "spec.gpu.allowedTypes", "must be of type array"),
    BadInput("null required", replacing("    ttftP95Ms: 800\n", "    ttftP95Ms: null\n"), "spec.slo.ttftP95Ms", "Required"),
    BadInput("non-string key", replacing("  slo:\n", "  ? [a, b]\n  : 1\n  slo:\n"), "mapping keys must be strings"),
    BadInput(
        "cel rule min > max",
        "apiVersion: llmops.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: p}\nspec:\n  targetRef: {name: chat}\n  minReplicas: 9\n  maxReplicas: 3\n",
        "spec.minReplicas", "minReplicas must be less than or equal to maxReplicas"),
    BadInput(
        "empty targets", "apiVersion: llmops.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: p}\nspec:\n  targetRef: {name: chat}\n  maxReplicas: 3\n  targets: {}\n",
        "spec.targets", "at least 1"),
    BadInput(
        "canary without revision", "apiVersion: llmops.io/v1alpha1\nkind: CanaryRun\nmetadata: {name: c}\nspec:\n  targetRef: {name: chat}\n  revision: {}\n",
        "spec.revision", "at least 1"),
    BadInput("second document bad", goodDeployment + "---\n" + replacing("name: chat", "name: chat2").replacingOccurrences(of: "itlP95Ms: 60", with: "itlP95Ms: 0"), "(document 2)", "spec.slo.itlP95Ms"),
    BadInput("alias bomb", (["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + (1..<9).map { i in "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]" }).joined(separator: "\n"), "alias"),
]

@Suite struct ValidateCommandTests {
    @Test func samplesAreValid() throws {
        let samples = root.appendingPathComponent("manifests/samples")
        let files = try FileManager.default.contentsOfDirectory(atPath: samples.path).filter { $0.hasSuffix(".yaml") }.map { samples.appendingPathComponent($0).path }
        let r = try CLIRunner.run(["validate"] + files.flatMap { ["-f", $0] })
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.components(separatedBy: ": valid").count - 1 == files.count)
        // A directory, as with kubectl apply -f DIR.
        let d = try CLIRunner.run(["validate", "-f", samples.path])
        #expect(d.status == 0, "\(d.output)")
        #expect(d.stdout.components(separatedBy: ": valid").count - 1 == files.count)
    }

    @Test func validFromStdinAndOtherGroupsSkipped() throws {
        let other = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n"
        let r = try CLIRunner.run(["validate", "-f", "-"], stdin: Data((goodDeployment + "---\n" + other).utf8))
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("skipped 1 of other API groups"))
    }

    @Test(arguments: badInputs)
    func badInputIsReportedWithItsFieldPath(_ input: BadInput) throws {
        let file = try CLIRunner.tempFile(input.bytes)
        let r = try CLIRunner.run(["validate", "-f", file.path])
        #expect(r.status == 1, "exit \(r.status): \(r.output)")
        for e in input.expected {
            #expect(r.stdout.contains(e), "expected \"\(e)\" in:\n\(r.output)")
        }
        #expect(r.stdout.contains(file.path + ":"), "problems are prefixed with the file name")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func problemsCarryLineNumbers() throws {
        let file = try CLIRunner.tempFile(Data(replacing("itlP95Ms: 60", "itlP95Ms: -5").utf8))
        let r = try CLIRunner.run(["validate", "-f", file.path])
        // itlP95Ms is on line 13 of the manifest, indented by four spaces.
        #expect(r.stdout.contains("\(file.path):13:5:"), "\(r.output)")
    }

    @Test func tenMegabyteFileIsRefusedWithoutReadingIt() throws {
        var big = Data(goodDeployment.utf8)
        big.append(Data(repeating: 0x23, count: 10 * 1024 * 1024))  // '#' comment bytes
        let file = try CLIRunner.tempFile(big)
        let r = try CLIRunner.run(["validate", "-f", file.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("3 MiB"), "\(r.output)")
    }

    @Test func unreadableFilesExitTwo() throws {
        let r = try CLIRunner.run(["validate", "-f", "/nonexistent/manifest.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no such file"))
        let emptyDir = FileManager.default.temporaryDirectory.appendingPathComponent("llmops-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: emptyDir, withIntermediateDirectories: true)
        let dir = try CLIRunner.run(["validate", "-f", emptyDir.path])
        #expect(dir.status == 2)
        #expect(dir.stderr.contains("no .yaml"))
        let none = try CLIRunner.run(["validate"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("-f FILE"))
    }

    @Test func randomBytesNeverCrash() throws {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<25 {
            let bytes: [UInt8]
            if n % 2 == 0 {
                // Mutated manifests: mostly text, occasionally broken.
                var b = Array(goodDeployment.utf8)
                for _ in 0..<Int.random(in: 1...20, using: &rng) {
                    b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0x20...0x7E, using: &rng)
                }
                bytes = b
            } else {
                bytes = (0..<Int.random(in: 1...2048, using: &rng)).map { _ in UInt8.random(in: 1...255, using: &rng) }
            }
            let file = try CLIRunner.tempFile(Data(bytes))
            let r = try CLIRunner.run(["validate", "-f", file.path])
            #expect(r.status == 0 || r.status == 1, "exit \(r.status) for input \(bytes):\n\(r.output)")
        }
    }
}

@Suite struct CRDsCommandTests {
    @Test func checkPassesOnCommittedFilesAndFailsOnStaleOnes() throws {
        let ok = try CLIRunner.run(["crds", "--check", "--output-dir", root.appendingPathComponent("crds").path])
        #expect(ok.status == 0, "\(ok.output)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmops-crds-\(UUID().uuidString)")
        let gen = try CLIRunner.run(["crds", "--output-dir", dir.path])
        #expect(gen.status == 0)
        #expect(try CLIRunner.run(["crds", "--check", "--output-dir", dir.path]).status == 0)

        let file = dir.appendingPathComponent("llmops.io_llmdeployments.yaml")
        try (try String(contentsOf: file, encoding: .utf8) + "# edited\n").write(to: file, atomically: true, encoding: .utf8)
        try "x".write(to: dir.appendingPathComponent("llmops.io_orphans.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("llmops.io_canaryruns.yaml"))
        let stale = try CLIRunner.run(["crds", "--check", "--output-dir", dir.path])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("llmops.io_llmdeployments.yaml: differs"))
        #expect(stale.stderr.contains("llmops.io_canaryruns.yaml: missing"))
        #expect(stale.stderr.contains("llmops.io_orphans.yaml: not generated"))
    }
}
