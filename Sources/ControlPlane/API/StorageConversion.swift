import KubeModel

/// How a resource's objects differ from the form they are stored in. Kubernetes stores one
/// form per resource and converts on every read and write; here that is needed for Events,
/// which `events.k8s.io/v1` serves from the same storage as core `v1`, under other field
/// names, so an event written through either API is read through both.
public enum StorageConversion: Sendable, Equatable {
    case none
    /// `events.k8s.io/v1` Event over stored core `v1` Events.
    case eventsV1

    /// (core v1 name, events.k8s.io/v1 name), as Kubernetes' own conversion pairs them.
    static let eventFields: [(core: String, events: String)] = [
        ("involvedObject", "regarding"), ("message", "note"), ("reportingComponent", "reportingController"),
        ("source", "deprecatedSource"), ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"), ("count", "deprecatedCount"),
    ]

    /// The field selector labels `events.k8s.io/v1` accepts, each with the stored core field it
    /// selects on: Kubernetes' own table (`pkg/apis/events/v1/conversion.go`). The core
    /// spellings (`involvedObject.name`) are not accepted there, as in Kubernetes.
    static let eventsV1FieldLabels: [String: String] = {
        var labels = ["reason": "reason", "reportingController": "reportingComponent", "source": "source", "type": "type",
                      "metadata.name": "metadata.name", "metadata.namespace": "metadata.namespace"]
        for field in ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"] {
            labels["regarding.\(field)"] = "involvedObject.\(field)"
        }
        return labels
    }()

    /// The stored object as this resource shows it (type meta is set by the caller).
    public func fromStored(_ stored: JSONValue) -> JSONValue {
        switch self {
        case .none: return stored
        case .eventsV1: return Self.rename(stored, Self.eventFields.map { ($0.core, $0.events) })
        }
    }

    /// An object in this resource's form, as it is stored.
    public func toStored(_ value: JSONValue) -> JSONValue {
        switch self {
        case .none: return value
        case .eventsV1:
            guard case .object(var o) = Self.rename(value, Self.eventFields.map { ($0.events, $0.core) }) else { return value }
            o["apiVersion"] = "v1"
            o["kind"] = "Event"
            return .object(o)
        }
    }

    private static func rename(_ value: JSONValue, _ pairs: [(from: String, to: String)]) -> JSONValue {
        guard case .object(let o) = value else { return value }
        let renames = Dictionary(uniqueKeysWithValues: pairs.map { ($0.from, $0.to) })
        let targets = Set(pairs.map(\.to))
        var out = JSONObject()
        for (k, v) in o {
            if let to = renames[k] {
                out[to] = v
            } else if !targets.contains(k) {
                // A field only the other form has would be ambiguous; the renamed one wins.
                out[k] = v
            }
        }
        return .object(out)
    }
}
