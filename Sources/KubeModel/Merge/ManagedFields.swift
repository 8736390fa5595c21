/// Field ownership for server-side apply: which manager set which fields, kept in
/// `metadata.managedFields` in the `FieldsV1` encoding (`f:` fields, `k:` keyed list elements,
/// `v:` set values, `.` for a node owned together with its children).
///
/// Semantics follow the Kubernetes server-side apply documentation: an apply makes its manager
/// the owner of exactly the fields in the applied configuration, removes fields it owned before
/// and no longer applies (unless someone else owns them), and fails with conflicts when it would
/// change a value another manager owns, unless forced, which takes the ownership over. Every
/// other write (create, update, patch) makes its manager the owner of what it changed.
public enum ManagedFields {
    /// One field, as the sequence of FieldsV1 element names from the root.
    public typealias Path = [String]

    public struct Entry: Sendable, Equatable {
        public var manager: String
        public var operation: String
        public var apiVersion: String
        public var time: String
        public var subresource: String?
        public var fields: Set<Path>
    }

    public struct Conflict: Sendable, Equatable, CustomStringConvertible {
        public var manager: String
        public var apiVersion: String
        public var path: Path
        public var field: String { ManagedFields.display(path) }
        public var description: String { "conflict with \"\(manager)\" using \(apiVersion): \(field)" }
    }

    /// Why an apply was refused: each field another manager owns with a different value.
    public struct Conflicts: Error, Sendable, Equatable {
        public var conflicts: [Conflict]
    }

    public struct Context: Sendable {
        public var manager: String
        public var apiVersion: String
        public var time: String
        public var subresource: String?
        public var rules: ListRules

        public init(manager: String, apiVersion: String, time: String, subresource: String? = nil, rules: ListRules) {
            self.manager = manager
            self.apiVersion = apiVersion
            self.time = time
            self.subresource = subresource
            self.rules = rules
        }
    }

    // MARK: Apply

    /// Server-side apply of `applied` onto `live` (nil when the object does not exist yet).
    /// Returns the merged object with updated managedFields, or the conflicts that stop it.
    public static func apply(live: JSONValue?, applied: JSONValue, force: Bool, _ c: Context) throws(JSONPatch.Failure) -> Result<JSONValue, Conflicts> {
        let current = live ?? .object(JSONObject())
        var entries = decode(current["metadata"]?["managedFields"])
        let appliedFields = fields(of: applied, rules: c.rules)
        let liveFields = fields(of: current, rules: c.rules)
        let mine = { (e: Entry) in e.manager == c.manager && e.operation == "Apply" && e.subresource == c.subresource }

        var conflicts: [Conflict] = []
        for (i, e) in entries.enumerated() where !mine(e) {
            let clashing = e.fields.filter { p in
                guard let applying = appliedFields[p], let leaf = applying else { return false }
                return (liveFields[p] ?? nil) != leaf
            }
            if clashing.isEmpty { continue }
            if force {
                entries[i].fields.subtract(clashing)
            } else {
                conflicts += clashing.sorted { display($0) < display($1) }.map { Conflict(manager: e.manager, apiVersion: e.apiVersion, path: $0) }
            }
        }
        if !conflicts.isEmpty { return .failure(Conflicts(conflicts: conflicts)) }

        // Fields this manager applied before and now leaves out go, unless another manager owns
        // them or something beneath them.
        let previous = entries.first(where: mine)?.fields ?? []
        let others = entries.filter { !mine($0) }.reduce(into: Set<Path>()) { $0.formUnion($1.fields) }
        var result = current
        var removed: [Path] = []
        for p in previous.subtracting(appliedFields.keys).sorted(by: { $0.count < $1.count }) {
            if others.contains(where: { $0.starts(with: p) }) || removed.contains(where: { p.starts(with: $0) }) { continue }
            result = remove(p, from: result)
            removed.append(p)
        }
        var body = applied
        if case .object(var o) = body {
            o["metadata"] = o["metadata"].map { m in
                guard case .object(var meta) = m else { return m }
                meta["managedFields"] = nil
                return .object(meta)
            }
            body = .object(o)
        }
        result = try StrategicMergePatch.apply(result, body, rules: c.rules)

        entries.removeAll(where: mine)
        entries.append(Entry(manager: c.manager, operation: "Apply", apiVersion: c.apiVersion, time: c.time, subresource: c.subresource, fields: Set(appliedFields.keys)))
        return .success(withEntries(result, pruned(entries, to: Set(fields(of: result, rules: c.rules).keys))))
    }

    // MARK: Update

    /// Records a non-apply write: the manager takes over every field whose value it changed,
    /// and fields that no longer exist leave every manager's set.
    public static func recordUpdate(old: JSONValue?, new: JSONValue, _ c: Context) -> JSONValue {
        // A client that sends managedFields different from the stored ones resets them (as the
        // API server allows); otherwise the stored ones carry over.
        let sent = new["metadata"]?["managedFields"]
        let stored = old?["metadata"]?["managedFields"]
        var entries = decode(sent != nil && sent != stored ? sent : stored)
        let newFields = fields(of: new, rules: c.rules)
        let oldFields = old.map { fields(of: $0, rules: c.rules) } ?? [:]
        let changed = Set(newFields.filter { p, leaf in oldFields[p] == nil || (leaf != nil && oldFields[p] != .some(leaf)) }.keys)
        if !changed.isEmpty {
            for i in entries.indices { entries[i].fields.subtract(changed) }
            if let i = entries.firstIndex(where: { $0.manager == c.manager && $0.operation == "Update" && $0.subresource == c.subresource }) {
                entries[i].fields.formUnion(changed)
                entries[i].time = c.time
                entries[i].apiVersion = c.apiVersion
            } else {
                entries.append(Entry(manager: c.manager, operation: "Update", apiVersion: c.apiVersion, time: c.time, subresource: c.subresource, fields: changed))
            }
        }
        return withEntries(new, pruned(entries, to: Set(newFields.keys)))
    }

    /// Drops ownership of fields that no longer exist, and managers left owning nothing.
    static func pruned(_ entries: [Entry], to present: Set<Path>) -> [Entry] {
        entries.compactMap { e in
            var e = e
            e.fields.formIntersection(present)
            return e.fields.isEmpty ? nil : e
        }
    }

    static func withEntries(_ object: JSONValue, _ entries: [Entry]) -> JSONValue {
        guard case .object(var o) = object else { return object }
        var meta = o["metadata"]?.objectValue ?? JSONObject()
        meta["managedFields"] = entries.isEmpty ? Optional<JSONValue>.none : .array(entries.map(encode))
        o["metadata"] = .object(meta)
        return .object(o)
    }

    // MARK: Field sets

    /// Metadata the server maintains: never owned by a manager.
    static let serverFields: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
        "managedFields", "selfLink",
    ]

    /// Every field path of an object, each mapped to its value when it is a leaf (a scalar, an
    /// atomic list or an empty object) and to nil for nodes with children.
    public static func fields(of object: JSONValue, rules: ListRules) -> [Path: JSONValue?] {
        var out: [Path: JSONValue?] = [:]
        guard case .object(let o) = object else { return out }
        for (key, value) in o where key != "apiVersion" && key != "kind" {
            if key == "metadata", case .object(let meta) = value {
                for (mk, mv) in meta where !serverFields.contains(mk) { walk(mv, path: ["f:metadata", "f:" + mk], names: ["metadata", mk], rules, &out) }
                continue
            }
            walk(value, path: ["f:" + key], names: [key], rules, &out)
        }
        return out
    }

    static func walk(_ value: JSONValue, path: Path, names: [String], _ rules: ListRules, _ out: inout [Path: JSONValue?]) {
        switch value {
        case .object where rules.isAtomicObject(at: names):
            out[path] = .some(value)
        case .object(let o) where !o.isEmpty:
            out[path] = .some(nil)
            for (k, v) in o { walk(v, path: path + ["f:" + k], names: names + [k], rules, &out) }
        case .array(let items):
            switch rules.rule(at: names) {
            case .atomic:
                out[path] = .some(value)
            case .set:
                out[path] = .some(nil)
                for item in items { out[path + ["v:" + JSONText.serialize(item)]] = .some(item) }
            case .map(let keys):
                out[path] = .some(nil)
                for item in items {
                    guard case .object(let e) = item else { continue }
                    let key = JSONObject(keys.compactMap { k in e[k].map { (k, $0) } })
                    let element = path + ["k:" + JSONText.serialize(.object(key))]
                    out[element] = .some(nil)
                    for (k, v) in e { walk(v, path: element + ["f:" + k], names: names + [k], rules, &out) }
                }
            }
        default:
            out[path] = .some(value)
        }
    }

    /// Removes the field at a path; missing intermediate nodes mean there is nothing to remove.
    static func remove(_ path: Path, from value: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        let rest = Array(path.dropFirst())
        if let name = head.dropPrefix("f:"), case .object(var o) = value {
            if rest.isEmpty {
                o[name] = nil
            } else if let child = o[name] {
                o[name] = remove(rest, from: child)
            }
            return .object(o)
        }
        if case .array(var items) = value {
            if let v = head.dropPrefix("v:"), let target = try? JSONText.parse(Array(v.utf8)) {
                if rest.isEmpty { items.removeAll { $0 == target } }
                return .array(items)
            }
            if let k = head.dropPrefix("k:"), case .object(let key)? = try? JSONText.parse(Array(k.utf8)) {
                let matches = { (e: JSONValue) in key.allSatisfy { e[$0.key] == $0.value } }
                if rest.isEmpty {
                    items.removeAll(where: matches)
                } else if let i = items.firstIndex(where: matches) {
                    items[i] = remove(rest, from: items[i])
                }
                return .array(items)
            }
        }
        return value
    }

    /// `.spec.containers[name="a"].image`, as conflict messages show fields.
    public static func display(_ path: Path) -> String {
        path.map { element -> String in
            if let f = element.dropPrefix("f:") { return "." + f }
            if let k = element.dropPrefix("k:"), case .object(let key)? = try? JSONText.parse(Array(k.utf8)) {
                return "[" + key.map { "\($0.key)=\(JSONText.serialize($0.value))" }.joined(separator: ",") + "]"
            }
            if let v = element.dropPrefix("v:") { return "[\(v)]" }
            return element
        }.joined()
    }

    // MARK: FieldsV1 encoding

    static func encode(_ e: Entry) -> JSONValue {
        var o = JSONObject([("manager", .string(e.manager)), ("operation", .string(e.operation)), ("apiVersion", .string(e.apiVersion)), ("time", .string(e.time))])
        o["fieldsType"] = "FieldsV1"
        o["fieldsV1"] = encodeTree(e.fields)
        if let s = e.subresource { o["subresource"] = .string(s) }
        return .object(o)
    }

    static func encodeTree(_ paths: Set<Path>) -> JSONValue {
        var children: [String: Set<Path>] = [:]
        for p in paths where !p.isEmpty { children[p[0], default: []].insert(Array(p.dropFirst())) }
        var o = JSONObject()
        for name in children.keys.sorted() {
            let sub = children[name]!
            var node = encodeTree(sub).objectValue ?? JSONObject()
            if sub.contains([]) && !node.isEmpty { node = JSONObject([(".", .object(JSONObject()))] + node.map { ($0.key, $0.value) }) }
            o[name] = .object(node)
        }
        return .object(o)
    }

    static func decode(_ managedFields: JSONValue?) -> [Entry] {
        (managedFields?.arrayValue ?? []).compactMap { m in
            guard let manager = m["manager"]?.stringValue else { return nil }
            var fields = Set<Path>()
            decodeTree(m["fieldsV1"], prefix: [], into: &fields)
            return Entry(
                manager: manager, operation: m["operation"]?.stringValue ?? "Update", apiVersion: m["apiVersion"]?.stringValue ?? "",
                time: m["time"]?.stringValue ?? "", subresource: m["subresource"]?.stringValue, fields: fields)
        }
    }

    static func decodeTree(_ node: JSONValue?, prefix: Path, into out: inout Set<Path>) {
        guard case .object(let o)? = node else { return }
        if o.isEmpty || o["."] != nil, !prefix.isEmpty { out.insert(prefix) }
        for (k, v) in o where k != "." { decodeTree(v, prefix: prefix + [k], into: &out) }
    }
}
