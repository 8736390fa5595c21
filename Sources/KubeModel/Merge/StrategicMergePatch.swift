/// Kubernetes strategic merge patch, applied server-side: JSON merge patch, except that lists
/// with a merge key merge element by element and scalar sets merge as sets, plus the
/// `$patch`, `$retainKeys`, `$deleteFromPrimitiveList/` and `$setElementOrder/` directives
/// kubectl sends (semantics per the Kubernetes "strategic merge patch" design document).
public enum StrategicMergePatch {
    public static func apply(_ target: JSONValue, _ patch: JSONValue, rules: ListRules) throws(JSONPatch.Failure) -> JSONValue {
        guard case .object = patch else { throw JSONPatch.Failure(message: "a strategic merge patch must be a JSON object, not \(patch.typeName)") }
        return try mergeMap(target.objectValue ?? JSONObject(), patch.objectValue!, path: [], rules: rules) ?? .object(JSONObject())
    }

    /// nil when the patch deletes the map itself (`$patch: delete`).
    static func mergeMap(_ original: JSONObject, _ patch: JSONObject, path: [String], rules: ListRules) throws(JSONPatch.Failure) -> JSONValue? {
        var result = original
        switch patch["$patch"]?.stringValue {
        case "delete"?: return nil
        case "replace"?:
            var replaced = patch
            replaced["$patch"] = nil
            return .object(replaced)
        case nil, "merge"?: break
        case let other?: throw JSONPatch.Failure(message: "\(display(path)): unknown $patch directive \"\(other)\"")
        }
        var orders: [String: [JSONValue]] = [:]
        for (key, value) in patch {
            if key == "$patch" || key == "$retainKeys" { continue }
            if let field = key.dropPrefix("$setElementOrder/") {
                orders[field] = value.arrayValue ?? []
                continue
            }
            if let field = key.dropPrefix("$deleteFromPrimitiveList/") {
                let remove = value.arrayValue ?? []
                if let list = result[field]?.arrayValue { result[field] = .array(list.filter { !remove.contains($0) }) }
                continue
            }
            let childPath = path + [key]
            if value == .null {
                result[key] = nil
            } else if case .object(let p) = value, rules.isAtomicObject(at: childPath) {
                result[key] = .object(p)
            } else if case .object(let p) = value {
                let existing = result[key]?.objectValue ?? JSONObject()
                result[key] = try mergeMap(existing, p, path: childPath, rules: rules)
            } else if case .array(let items) = value {
                result[key] = try mergeList(result[key]?.arrayValue ?? [], items, path: childPath, rules: rules)
            } else {
                result[key] = value
            }
        }
        for (field, order) in orders {
            if let list = result[field]?.arrayValue { result[field] = .array(reorder(list, order, rules.rule(at: path + [field]))) }
        }
        if let retain = patch["$retainKeys"]?.arrayValue?.compactMap(\.stringValue) {
            for key in result.keys where !retain.contains(key) { result[key] = nil }
        }
        return .object(result)
    }

    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], path: [String], rules: ListRules) throws(JSONPatch.Failure) -> JSONValue {
        // `{"$patch": "replace"}` as an element replaces the list with the other elements.
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patch.filter { $0["$patch"]?.stringValue != "replace" })
        }
        switch rules.rule(at: path) {
        case .atomic:
            return .array(patch)
        case .set:
            var out = original
            for v in patch where !out.contains(v) { out.append(v) }
            return .array(out)
        case .map(let keys):
            var out = original
            for element in patch {
                guard case .object(let e) = element else { throw JSONPatch.Failure(message: "\(display(path)): elements must be objects with \(keys.joined(separator: ", "))") }
                let index = out.firstIndex { matches($0, element, keys) }
                if e["$patch"]?.stringValue == "delete" {
                    out.removeAll { matches($0, element, keys) }
                    continue
                }
                if let index {
                    out[index] = try mergeMap(out[index].objectValue ?? JSONObject(), e, path: path, rules: rules) ?? out[index]
                } else {
                    var added = e
                    added["$patch"] = nil
                    out.append(try mergeMap(JSONObject(), added, path: path, rules: rules) ?? .object(added))
                }
            }
            return .array(out)
        }
    }

    static func matches(_ a: JSONValue, _ b: JSONValue, _ keys: [String]) -> Bool {
        keys.allSatisfy { k in a[k] == b[k] } && keys.contains { b[$0] != nil }
    }

    /// Orders a merged list as `$setElementOrder` says; elements it does not name keep their
    /// relative order after the named ones.
    static func reorder(_ list: [JSONValue], _ order: [JSONValue], _ rule: ListMergeRule) -> [JSONValue] {
        var rank: (JSONValue) -> Int? = { v in order.firstIndex(of: v) }
        if case .map(let keys) = rule { rank = { v in order.firstIndex { matches(v, $0, keys) } } }
        let ranked = list.enumerated().map { (rank($0.element) ?? order.count + $0.offset, $0.element) }
        return ranked.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func display(_ path: [String]) -> String { path.isEmpty ? "<root>" : path.joined(separator: ".") }
}

extension String {
    func dropPrefix(_ prefix: String) -> String? { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil }
}
