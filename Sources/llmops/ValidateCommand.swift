import ArgumentParser
import Foundation
import KubeModel
import LLMOpsAPI

/// `llmops validate -f FILE`: checks manifests offline against the generated schemas.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check llmops.io manifests against the CRD schemas without a cluster.",
        discussion: """
            Each problem is printed as FILE:LINE:COLUMN: Kind/name: field.path: message. Documents of \
            other API groups are skipped. Exit status: 0 when every file is valid, 1 when any \
            problem was found, 2 when a file cannot be read.
            """
    )

    @Option(
        name: [.customShort("f"), .long],
        help: "Manifest file (YAML or JSON, multi-document), or a directory of .yaml/.yml/.json files as with kubectl -f; '-' reads standard input. Repeatable."
    )
    var filename: [String] = []

    @Flag(name: .shortAndLong, help: "Print only problems.")
    var quiet = false

    func validate() throws {
        if filename.isEmpty { throw ValidationError("give at least one file with -f FILE") }
    }

    func run() throws {
        var invalid = false
        var unreadable = false
        var files: [String] = []
        for name in filename {
            switch expand(name) {
            case .success(let list): files += list
            case .failure(let error):
                printError("\(name): \(error.message)")
                unreadable = true
            }
        }
        for file in files {
            let report: ManifestValidator.Report
            switch read(file) {
            case .success(let bytes): report = ManifestValidator.validate(bytes: bytes)
            case .tooLarge(let size): report = ManifestValidator.oversized(size)!
            case .failure(let message):
                printError("\(file): \(message)")
                unreadable = true
                continue
            }
            for p in report.problems {
                let at = p.position.map { ":\($0.line):\($0.column)" } ?? ""
                let doc = p.documentIndex.map { $0 > 0 ? " (document \($0 + 1))" : "" } ?? ""
                print("\(file)\(at):\(doc) \(p)")
            }
            if !report.isValid {
                invalid = true
                print("\(file): \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
            } else if !quiet {
                let skipped = report.skipped.isEmpty ? "" : "; skipped \(report.skipped.count) of other API groups"
                print("\(file): valid (\(report.validated.joined(separator: ", ")))\(skipped)")
            }
        }
        if unreadable { throw ExitCode(2) }
        if invalid { throw ExitCode(1) }
    }

    enum ReadResult {
        case success([UInt8])
        case tooLarge(Int)
        case failure(String)
    }

    /// A directory stands for the manifest files directly inside it, in name order.
    private func expand(_ name: String) -> Swift.Result<[String], ExpandError> {
        var isDirectory: ObjCBool = false
        guard name != "-", FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .success([name])
        }
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: name)) ?? []).sorted()
        let manifests = entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
        if manifests.isEmpty { return .failure(ExpandError(message: "directory holds no .yaml, .yml or .json files")) }
        return .success(manifests.map { (name as NSString).appendingPathComponent($0) })
    }

    struct ExpandError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private func read(_ file: String) -> ReadResult {
        if file == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            return .success([UInt8](data))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            return .failure("no such file")
        }
        if isDirectory.boolValue { return .failure("is a directory; give the manifest files themselves") }
        // Check the size before reading, so a huge file is refused without loading it.
        if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int, size > ManifestValidator.maxBytes {
            return .tooLarge(size)
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            return .failure("cannot be read (permissions?)")
        }
        return .success([UInt8](data))
    }
}
