import Yams

/// A position in a source file, 1-based, for pointing a user at the offending line.
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// One YAML document converted to JSON, remembering where each field came from.
public struct LocatedDocument: Sendable {
    /// Zero-based index of the document in its stream (`---` separated).
    public var index: Int
    public var value: JSONValue
    /// Position of each field, keyed by its field path (`spec.steps[0].weight`); the root is "".
    public var positions: [String: SourcePosition]

    /// The position of `path`, or of its nearest ancestor present in the source: a missing
    /// required field is reported at the object that should have held it.
    public func position(of path: String) -> SourcePosition? {
        var p = path
        while true {
            if let pos = positions[p] { return pos }
            if p.isEmpty { return nil }
            p = FieldPath.parent(of: p)
        }
    }
}

/// Why a YAML stream could not be read.
public struct YAMLReadError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var position: SourcePosition?
    public var documentIndex: Int?
    public var description: String {
        (position.map { "\($0): " } ?? "") + message
    }
}

/// Reads YAML (a JSON document is valid YAML) into `JSONValue`s with the conventions that
/// Kubernetes clients use: scalars are typed by the YAML 1.1 core resolver, timestamps stay
/// strings, keys must be strings and unique, and documents are `---` separated.
public enum YAMLDocuments {
    /// Limits that keep hostile input (alias bombs, huge documents) from exhausting memory.
    public static let maxNodes = 2_000_000
    public static let maxDepth = 256

    public static func read(_ text: String) throws(YAMLReadError) -> [LocatedDocument] {
        let parser: Parser
        do {
            parser = try Parser(yaml: text)
        } catch {
            throw convert(error)
        }
        var documents: [LocatedDocument] = []
        var budget = maxNodes
        while true {
            let node: Yams.Node?
            do {
                node = try parser.nextRoot()
            } catch {
                var e = convert(error)
                e.documentIndex = documents.count
                throw e
            }
            guard let node else { break }
            var positions: [String: SourcePosition] = [:]
            let value = try convert(node, path: "", depth: 0, positions: &positions, budget: &budget)
            documents.append(LocatedDocument(index: documents.count, value: value, positions: positions))
        }
        return documents
    }

    private static func convert(_ error: Error) -> YAMLReadError {
        if let y = error as? YamlError {
            switch y {
            case .duplicatedKeysInMapping(let duplicates, let context):
                return YAMLReadError(
                    message: "duplicate key(s) \(duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")) in mapping",
                    position: SourcePosition(line: context.mark.line, column: context.mark.column))
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
                let message =
                    problem.contains("Maximum nesting level")
                    ? "document nests deeper than libyaml's limit of 1000 levels" : "malformed YAML: \(problem)"
                return YAMLReadError(message: message, position: SourcePosition(line: mark.line, column: mark.column))
            case .composer(_, let problem, let mark, _):
                return YAMLReadError(message: "malformed YAML: \(problem)", position: SourcePosition(line: mark.line, column: mark.column))
            case .reader(let problem, let offset, let value, _):
                return YAMLReadError(message: "unreadable input: \(problem) (byte \(offset.map(String.init) ?? "?"), value \(value))", position: nil)
            default:
                return YAMLReadError(message: "malformed YAML: \(y)", position: nil)
            }
        }
        return YAMLReadError(message: "malformed YAML: \(error)", position: nil)
    }

    private static func position(_ mark: Mark?) -> SourcePosition? {
        mark.map { SourcePosition(line: $0.line, column: $0.column) }
    }

    private static func convert(
        _ node: Yams.Node, path: String, depth: Int, positions: inout [String: SourcePosition], budget: inout Int
    ) throws(YAMLReadError) -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw YAMLReadError(message: "document expands to more than \(maxNodes) nodes (alias expansion?)", position: position(node.mark))
        }
        guard depth <= maxDepth else {
            throw YAMLReadError(message: "document nests deeper than \(maxDepth) levels", position: position(node.mark))
        }
        if positions[path] == nil, let p = position(node.mark) { positions[path] = p }
        switch node {
        case .scalar(let scalar):
            return scalarValue(scalar)
        case .sequence(let seq):
            var items: [JSONValue] = []
            items.reserveCapacity(seq.count)
            for (i, child) in seq.enumerated() {
                items.append(try convert(child, path: "\(path)[\(i)]", depth: depth + 1, positions: &positions, budget: &budget))
            }
            return .array(items)
        case .mapping(let mapping):
            var object = JSONObject()
            for (keyNode, child) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw YAMLReadError(message: "mapping keys must be strings, found a \(describe(keyNode))", position: position(keyNode.mark))
                }
                let key = keyScalar.string
                let childPath = FieldPath.child(path, key)
                if let p = position(keyNode.mark) { positions[childPath] = p }
                object[key] = try convert(child, path: childPath, depth: depth + 1, positions: &positions, budget: &budget)
            }
            return .object(object)
        case .alias(let alias):
            throw YAMLReadError(message: "unresolved alias *\(alias.anchor)", position: position(alias.mark))
        }
    }

    private static func describe(_ node: Yams.Node) -> String {
        switch node {
        case .mapping: return "mapping"
        case .sequence: return "sequence"
        case .scalar: return "scalar"
        case .alias: return "alias"
        }
    }

    private static func scalarValue(_ scalar: Yams.Node.Scalar) -> JSONValue {
        // Quoted and block scalars are always strings; plain ones are typed by their text.
        let tag: Tag.Name = scalar.style == .plain || scalar.style == .any ? Resolver.default.resolveTag(of: .scalar(scalar)) : .str
        switch tag {
        case .null: return .null
        case .bool: return Bool.construct(from: scalar).map(JSONValue.bool) ?? .string(scalar.string)
        case .int:
            if let i = Int64.construct(from: scalar) { return .int(i) }
            // Out of Int64 range: keep the magnitude as a float, as Go's YAML-to-JSON does.
            return Double(scalar.string).map(JSONValue.double) ?? .string(scalar.string)
        case .float:
            if let d = Double.construct(from: scalar), d.isFinite { return .double(d) }
            return .string(scalar.string)
        default:
            return .string(scalar.string)
        }
    }

    /// Renders a value as block-style YAML (used for `llmops crds` output and `-o yaml`).
    public static func serialize(_ value: JSONValue) -> String {
        do {
            return try Yams.serialize(node: node(for: value), indent: 2, width: -1, allowUnicode: true, sortKeys: false)
        } catch {
            // Emitting a tree we built ourselves cannot fail; fall back to JSON, which is YAML.
            return JSONText.serialize(value, pretty: true) + "\n"
        }
    }

    private static func node(for value: JSONValue) -> Yams.Node {
        switch value {
        case .null: return Yams.Node("null", Tag(.null))
        case .bool(let b): return Yams.Node(b ? "true" : "false", Tag(.bool))
        case .int(let i): return Yams.Node(String(i), Tag(.int))
        case .double(let d): return Yams.Node(formatDouble(d), Tag(.float))
        case .string(let s):
            // Quote anything the resolver would read back as another type.
            let plain = Yams.Node(s, Tag(.str))
            let style: Yams.Node.Scalar.Style =
                s.contains("\n") ? .literal
                : (Resolver.default.resolveTag(of: Yams.Node(s)) == .str && !s.isEmpty && s.trimmingSpaces == s ? .any : .doubleQuoted)
            if case .scalar(var scalar) = plain {
                scalar.style = style
                return .scalar(scalar)
            }
            return plain
        case .array(let items): return Yams.Node(items.map(node(for:)), Tag(.seq), .block)
        case .object(let o): return Yams.Node(o.map { (Yams.Node($0.key, Tag(.str)), node(for: $0.value)) }, Tag(.map), .block)
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var s = self[...]
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
