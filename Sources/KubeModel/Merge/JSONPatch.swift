/// JSON patch formats the Kubernetes API accepts, applied to `JSONValue`s.
public enum JSONPatch {
    public struct Failure: Error, CustomStringConvertible, Sendable, Equatable {
        public var message: String
        public var description: String { message }
    }

    /// JSON Merge Patch (RFC 7386): objects merge recursively, `null` deletes, anything else replaces.
    public static func merge(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var result = target.objectValue ?? JSONObject()
        for (key, value) in p {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = merge(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }

    /// JSON Patch (RFC 6902): add, remove, replace, move, copy and test, on JSON Pointer paths (RFC 6901).
    public static func apply(_ document: JSONValue, operations: JSONValue) throws(Failure) -> JSONValue {
        guard case .array(let ops) = operations else { throw Failure(message: "a JSON patch must be an array of operations") }
        var doc = document
        for (i, op) in ops.enumerated() {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw Failure(message: "operation \(i): needs \"op\" and \"path\" strings")
            }
            let pointer = try parsePointer(path, i)
            switch name {
            case "add":
                guard let v = op["value"] else { throw Failure(message: "operation \(i): add needs a value") }
                doc = try set(doc, pointer[...], v, insert: true, i)
            case "replace":
                guard let v = op["value"] else { throw Failure(message: "operation \(i): replace needs a value") }
                _ = try get(doc, pointer[...], i)
                doc = try set(doc, pointer[...], v, insert: false, i)
            case "remove":
                doc = try remove(doc, pointer[...], i)
            case "test":
                guard let v = op["value"] else { throw Failure(message: "operation \(i): test needs a value") }
                guard try get(doc, pointer[...], i) == v else { throw Failure(message: "operation \(i): test failed at \(path)") }
            case "move", "copy":
                guard let from = op["from"]?.stringValue else { throw Failure(message: "operation \(i): \(name) needs \"from\"") }
                let fromPointer = try parsePointer(from, i)
                let v = try get(doc, fromPointer[...], i)
                if name == "move" { doc = try remove(doc, fromPointer[...], i) }
                doc = try set(doc, pointer[...], v, insert: true, i)
            default:
                throw Failure(message: "operation \(i): unknown op \"\(name)\"")
            }
        }
        return doc
    }

    static func parsePointer(_ path: String, _ i: Int) throws(Failure) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw Failure(message: "operation \(i): path \"\(path)\" must start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSONValue, _ p: ArraySlice<String>, _ i: Int) throws(Failure) -> JSONValue {
        guard let head = p.first else { return doc }
        switch doc {
        case .object(let o):
            guard let child = o[head] else { throw Failure(message: "operation \(i): no member \"\(head)\"") }
            return try get(child, p.dropFirst(), i)
        case .array(let a):
            guard let idx = Int(head), a.indices.contains(idx) else { throw Failure(message: "operation \(i): bad array index \"\(head)\"") }
            return try get(a[idx], p.dropFirst(), i)
        default:
            throw Failure(message: "operation \(i): cannot descend into a \(doc.typeName)")
        }
    }

    static func set(_ doc: JSONValue, _ p: ArraySlice<String>, _ value: JSONValue, insert: Bool, _ i: Int) throws(Failure) -> JSONValue {
        guard let head = p.first else { return value }
        let last = p.count == 1
        switch doc {
        case .object(var o):
            if last {
                o[head] = value
            } else {
                guard let child = o[head] else { throw Failure(message: "operation \(i): no member \"\(head)\"") }
                o[head] = try set(child, p.dropFirst(), value, insert: insert, i)
            }
            return .object(o)
        case .array(var a):
            if last && head == "-" && insert {
                a.append(value)
                return .array(a)
            }
            guard let idx = Int(head), idx >= 0, idx <= a.count, idx < a.count || (last && insert) else {
                throw Failure(message: "operation \(i): bad array index \"\(head)\"")
            }
            if last {
                if insert { a.insert(value, at: idx) } else { a[idx] = value }
            } else {
                a[idx] = try set(a[idx], p.dropFirst(), value, insert: insert, i)
            }
            return .array(a)
        default:
            throw Failure(message: "operation \(i): cannot descend into a \(doc.typeName)")
        }
    }

    static func remove(_ doc: JSONValue, _ p: ArraySlice<String>, _ i: Int) throws(Failure) -> JSONValue {
        guard let head = p.first else { throw Failure(message: "operation \(i): cannot remove the whole document") }
        switch doc {
        case .object(var o):
            guard let child = o[head] else { throw Failure(message: "operation \(i): no member \"\(head)\"") }
            // Spelled out: in a ternary, `nil` would become JSONValue.null (it is nil-literal
            // expressible) and the member would stay, set to null.
            if p.count == 1 { o[head] = Optional<JSONValue>.none } else { o[head] = try remove(child, p.dropFirst(), i) }
            return .object(o)
        case .array(var a):
            guard let idx = Int(head), a.indices.contains(idx) else { throw Failure(message: "operation \(i): bad array index \"\(head)\"") }
            if p.count == 1 { a.remove(at: idx) } else { a[idx] = try remove(a[idx], p.dropFirst(), i) }
            return .array(a)
        default:
            throw Failure(message: "operation \(i): cannot descend into a \(doc.typeName)")
        }
    }
}
