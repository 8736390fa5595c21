/// The built-in kinds the operator creates or reads. Parts the operator does not interpret
/// (pod templates, container specs) stay as JSON, so nothing a user or another controller set
/// is dropped when an object is read, changed and written back.

/// Core `v1` Namespace.
public struct Namespace: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?
    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// Core `v1` ServiceAccount: the identity Pods run as.
public struct ServiceAccount: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true)
    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var automountServiceAccountToken: Bool?
    public var imagePullSecrets: JSONValue?
    public var secrets: JSONValue?
    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// Core `v1` ConfigMap.
public struct ConfigMap: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var data: [String: String]?
    public var binaryData: [String: String]?
    public var immutable: Bool?
    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
    }
}

/// `apps/v1` Deployment: replica count, selector and status typed; the pod template as JSON.
public struct Deployment: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true)

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int32?
        public var selector: LabelSelectorSpec
        public var template: JSONValue
        public var strategy: JSONValue?
        public var minReadySeconds: Int32?
        public var revisionHistoryLimit: Int32?
        public var progressDeadlineSeconds: Int32?
        public var paused: Bool?
        public init(replicas: Int32? = nil, selector: LabelSelectorSpec, template: JSONValue) {
            self.replicas = replicas
            self.selector = selector
            self.template = template
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var observedGeneration: Int64?
        public var replicas: Int32?
        public var updatedReplicas: Int32?
        public var readyReplicas: Int32?
        public var availableReplicas: Int32?
        public var unavailableReplicas: Int32?
        public var conditions: [JSONValue]?
        public init() {}
    }

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?
    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// Core `v1` Pod: phase, IP and conditions typed; the spec as JSON.
public struct Pod: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true)

    public struct Status: Codable, Sendable, Hashable {
        public var phase: String?
        public var podIP: String?
        public var hostIP: String?
        public var conditions: [JSONValue]?
        public var containerStatuses: [JSONValue]?
        public var startTime: Timestamp?
        public init(phase: String? = nil) { self.phase = phase }
    }

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: Status?
    public init(metadata: ObjectMeta, spec: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
    }

    /// Whether the Pod reports Ready=True: it serves and belongs in endpoints.
    public var isReady: Bool {
        (status?.conditions ?? []).contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
    }
}

/// `matchLabels` / `matchExpressions`, as Deployments and Services carry them.
public struct LabelSelectorSpec: Codable, Sendable, Hashable {
    public struct Requirement: Codable, Sendable, Hashable {
        public var key: String
        public var `operator`: String
        public var values: [String]?
        public init(key: String, operator: String, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }
    public var matchLabels: [String: String]?
    public var matchExpressions: [Requirement]?
    public init(matchLabels: [String: String]? = nil, matchExpressions: [Requirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}

/// `autoscaling/v1` Scale, the body of every `/scale` subresource.
public struct Scale: Codable, Sendable, Hashable {
    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int32?
        public init(replicas: Int32? = nil) { self.replicas = replicas }
    }
    public struct Status: Codable, Sendable, Hashable {
        public var replicas: Int32
        public var selector: String?
    }
    public var apiVersion: String = "autoscaling/v1"
    public var kind: String = "Scale"
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?
    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }
}
