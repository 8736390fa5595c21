import Foundation
import KubeModel

/// A field selector (`--field-selector`, `fieldSelector=`): `a=b`, `a==b`, `a!=b`, comma-joined.
/// Only the fields Kubernetes indexes for a kind are selectable; others are refused, as the
/// API server does, so a typo never silently selects everything.
struct FieldSelector: Sendable {
    struct Requirement: Sendable {
        var field: String
        var value: String
        var negated: Bool
    }

    /// Each requirement's `field` is the stored object's field: a resource served in another
    /// form (events.k8s.io) takes its own field names, translated as Kubernetes does.
    var requirements: [Requirement]

    /// `extra`: a CRD version's `selectableFields`, as field names (`spec.color`).
    init(parsing text: String, kind: String, conversion: StorageConversion = .none, extra: [String] = []) throws(APIError) {
        var labels = Self.labels(kind, conversion)
        for f in extra { labels[f] = f }
        var out: [Requirement] = []
        for term in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !term.isEmpty {
            let (field, value, negated): (Substring, Substring, Bool)
            if let r = term.range(of: "!=") {
                (field, value, negated) = (term[..<r.lowerBound], term[r.upperBound...], true)
            } else if let r = term.range(of: "==") ?? term.range(of: "=") {
                (field, value, negated) = (term[..<r.lowerBound], term[r.upperBound...], false)
            } else {
                throw APIError.badRequest("invalid field selector \"\(term)\": expected field=value, field==value or field!=value")
            }
            let name = field.trimmingCharacters(in: .whitespaces)
            guard let stored = labels[name] else {
                throw APIError.badRequest("field label not supported: \(name) (\(kind) supports \(labels.keys.sorted().joined(separator: ", ")))")
            }
            out.append(Requirement(field: stored, value: value.trimmingCharacters(in: .whitespaces), negated: negated))
        }
        requirements = out
    }

    /// The field labels a resource accepts, each with the stored field it selects on.
    static func labels(_ kind: String, _ conversion: StorageConversion) -> [String: String] {
        switch conversion {
        case .none: return Dictionary(uniqueKeysWithValues: selectable(kind).map { ($0, $0) })
        case .eventsV1: return StorageConversion.eventsV1FieldLabels
        }
    }

    /// The fields each kind can be selected by (metadata ones for all kinds).
    static func selectable(_ kind: String) -> Set<String> {
        let common: Set<String> = ["metadata.name", "metadata.namespace"]
        switch kind {
        case "Pod": return common.union(["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"])
        case "Event": return common.union(["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"])
        case "Secret": return common.union(["type"])
        case "Node": return common.union(["spec.unschedulable"])
        case "Namespace": return common.union(["status.phase"])
        case "ReplicaSet": return common.union(["status.replicas"])
        default: return common
        }
    }

    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { r in
            var node: JSONValue? = object
            for part in r.field.split(separator: ".") { node = node?[String(part)] }
            let actual: String
            switch node {
            case .string(let s)?: actual = s
            case .bool(let b)?: actual = b ? "true" : "false"
            case .int(let i)?: actual = String(i)
            case nil, .null?: actual = ""
            case let other?: actual = JSONText.serialize(other)
            }
            return (actual == r.value) != r.negated
        }
    }
}

/// `limit` / `continue` paging. The continue token carries the last key served and the
/// revision of the first page, so every page reports the same list resourceVersion and a
/// watch from it replays whatever changed while paging.
struct ListPage {
    struct Token: Codable {
        var rv: Int64
        var start: String
    }

    static func decode(_ text: String, prefix: String) throws(APIError) -> Token {
        guard let data = Data(base64Encoded: text), let token = try? JSONDecoder().decode(Token.self, from: data), token.start.hasPrefix(prefix) else {
            throw APIError.badRequest("the continue token is invalid: pass back the metadata.continue of the previous page unchanged")
        }
        return token
    }

    static func encode(_ token: Token) -> String {
        (try? JSONEncoder().encode(token))?.base64EncodedString() ?? ""
    }

    static func limit(_ text: String?) throws(APIError) -> Int? {
        guard let text, !text.isEmpty, text != "0" else { return nil }
        guard let n = Int(text), n > 0 else { throw APIError.badRequest("limit must be a positive integer, not \"\(text)\"") }
        return n
    }
}
