/// Identity and bookkeeping every persisted object carries (`metav1.ObjectMeta`).
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: Timestamp?
    public var deletionTimestamp: Timestamp?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Server-side apply bookkeeping; kept opaque because only the API server interprets it.
    public var managedFields: [JSONValue]?

    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// Points from a dependent to the object that owns it, for garbage collection.
public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// A standard status condition (`metav1.Condition`).
public struct Condition: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case `true` = "True"
        case `false` = "False"
        case unknown = "Unknown"
    }

    public var type: String
    public var status: Status
    public var observedGeneration: Int64?
    public var lastTransitionTime: Timestamp
    /// CamelCase machine-readable cause, e.g. `SLOMet`.
    public var reason: String
    public var message: String

    public init(type: String, status: Status, observedGeneration: Int64? = nil, lastTransitionTime: Timestamp, reason: String, message: String) {
        self.type = type
        self.status = status
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }
}

extension Array where Element == Condition {
    /// Sets a condition, keeping `lastTransitionTime` unless the status actually changes,
    /// as `meta.SetStatusCondition` does; so repeated reconciles leave the object unchanged.
    public mutating func set(_ condition: Condition) {
        if let i = firstIndex(where: { $0.type == condition.type }) {
            var c = condition
            if self[i].status == condition.status { c.lastTransitionTime = self[i].lastTransitionTime }
            self[i] = c
        } else {
            append(condition)
        }
    }

    public subscript(type type: String) -> Condition? {
        first { $0.type == type }
    }
}

/// What every top-level Kubernetes object has: type identity and metadata.
public protocol KubeObject: Codable, Sendable {
    static var apiVersion: String { get }
    static var kind: String { get }
    var metadata: ObjectMeta { get set }
}
