import KubeModel

/// Offline validation of manifest files against the generated schemas, as `kubectl apply`
/// with strict field validation would report it, plus the source line of each problem.
public enum ManifestValidator {
    /// The API server's default request body limit (3 MiB); a larger manifest could not be applied.
    public static let maxBytes = 3 * 1024 * 1024

    public struct Problem: Sendable, CustomStringConvertible, Equatable {
        public var documentIndex: Int?
        /// `Kind/name` of the document, when known.
        public var object: String?
        public var position: SourcePosition?
        public var path: String
        public var message: String

        public var description: String {
            var s = ""
            if let object { s += object + ": " }
            if !path.isEmpty { s += path + ": " }
            return s + message
        }
    }

    public struct Report: Sendable {
        public var problems: [Problem] = []
        /// Documents checked against an llmops.io schema.
        public var validated: [String] = []
        /// Documents of other API groups, left to the API server.
        public var skipped: [String] = []
        public var isValid: Bool { problems.isEmpty }
    }

    public static func validate(bytes: [UInt8]) -> Report {
        var report = Report()
        func fail(_ message: String, position: SourcePosition? = nil, document: Int? = nil) -> Report {
            report.problems.append(Problem(documentIndex: document, object: nil, position: position, path: "", message: message))
            return report
        }
        if let tooLarge = oversized(bytes.count) { return tooLarge }
        if let nul = bytes.firstIndex(of: 0) {
            return fail("file contains a NUL byte at offset \(nul): this looks like a binary file, not YAML or JSON")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let offset = firstInvalidUTF8(bytes)
            return fail("file is not valid UTF-8 text (first bad byte at offset \(offset)): YAML and JSON manifests must be UTF-8")
        }
        if text.allSatisfy({ $0.isWhitespace }) {
            return fail("file is empty: expected at least one manifest (apiVersion, kind, metadata, spec)")
        }
        let documents: [LocatedDocument]
        do {
            documents = try YAMLDocuments.read(text)
        } catch {
            return fail(error.message, position: error.position, document: error.documentIndex)
        }
        var sawDocument = false
        for doc in documents {
            if doc.value == .null { continue }  // an empty document between `---` separators
            sawDocument = true
            validate(doc, into: &report)
        }
        if !sawDocument {
            return fail("file holds only empty YAML documents: expected at least one manifest")
        }
        return report
    }

    /// The report for a file of `size` bytes when that alone makes it invalid; lets callers
    /// refuse a huge file before reading it.
    public static func oversized(_ size: Int) -> Report? {
        guard size > maxBytes else { return nil }
        var report = Report()
        report.problems.append(
            Problem(
                path: "",
                message: "file is \(size) bytes; the API server accepts at most \(maxBytes) bytes (3 MiB) per request: split it into smaller files"))
        return report
    }

    static func validate(_ doc: LocatedDocument, into report: inout Report) {
        func problem(_ path: String, _ message: String, object: String? = nil) {
            report.problems.append(
                Problem(documentIndex: doc.index, object: object, position: doc.position(of: path), path: path, message: message))
        }
        guard case .object(let object) = doc.value else {
            problem("", "each document must be a mapping with apiVersion, kind, metadata and spec, not a \(doc.value.typeName)")
            return
        }
        guard case .string(let apiVersion)? = object["apiVersion"] else {
            problem("apiVersion", object["apiVersion"] == nil ? "Required value: every manifest needs an apiVersion" : "must be a string")
            return
        }
        guard case .string(let kind)? = object["kind"] else {
            problem("kind", object["kind"] == nil ? "Required value: every manifest needs a kind" : "must be a string")
            return
        }
        let group = apiVersion.split(separator: "/").count == 2 ? String(apiVersion.split(separator: "/")[0]) : ""
        guard group == LLMOpsGroup.group else {
            report.skipped.append("\(kind) (\(apiVersion))")
            return
        }
        guard apiVersion == LLMOpsGroup.apiVersion else {
            problem("apiVersion", "Unsupported value: \"\(apiVersion)\": this release serves \(LLMOpsGroup.apiVersion) only")
            return
        }
        guard let entry = ResourceCatalog.entry(kind: kind) else {
            let known = ResourceCatalog.entries.map(\.kind).joined(separator: ", ")
            problem("kind", "Unsupported value: \"\(kind)\": \(LLMOpsGroup.apiVersion) serves \(known)")
            return
        }
        let name = object["metadata"]?["name"]?.stringValue
        let label = "\(kind)/\(name ?? "<unnamed>")"
        var errors = ObjectMetaValidation.validate(object["metadata"], namespaced: true)
        let defaulted = SchemaDefaulter.apply(doc.value, entry.schema)
        errors += SchemaValidator(schema: entry.schema).validateResource(defaulted)
        for e in errors {
            problem(e.path, e.message, object: label)
        }
        guard errors.isEmpty else { return }
        do {
            _ = try entry.decode(defaulted)
            report.validated.append(label)
        } catch {
            // The schema accepted what the Swift type cannot hold: a bug in the schema, not the manifest.
            problem("", "passes the schema but does not decode (please report this bug): \(error)", object: label)
        }
    }

    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let len = b < 0x80 ? 1 : b >> 5 == 0b110 ? 2 : b >> 4 == 0b1110 ? 3 : b >> 3 == 0b11110 ? 4 : 0
            if len == 0 || i + len > bytes.count || String(validating: bytes[i..<(i + len)], as: UTF8.self) == nil {
                return i
            }
            i += len
        }
        return bytes.count
    }
}
