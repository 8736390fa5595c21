/// Cluster-level built-in kinds a scheduler, kubelet or workload controller reads and writes.
/// As in `Workloads.swift`, parts nobody here interprets stay JSON, so a read-modify-write keeps
/// what others set.

/// Core `v1` Node.
public struct Node: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false)

    public struct Taint: Codable, Sendable, Hashable {
        public var key: String
        public var value: String?
        public var effect: String
        public init(key: String, value: String? = nil, effect: String) {
            self.key = key
            self.value = value
            self.effect = effect
        }
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var taints: [Taint]?
        public var unschedulable: Bool?
        public var providerID: String?
        public var podCIDR: String?
        public init(taints: [Taint]? = nil) { self.taints = taints }
    }

    public struct Condition: Codable, Sendable, Hashable {
        public var type: String
        public var status: String
        public var reason: String?
        public var message: String?
        public var lastHeartbeatTime: Timestamp?
        public var lastTransitionTime: Timestamp?
        public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastHeartbeatTime: Timestamp? = nil, lastTransitionTime: Timestamp? = nil) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
            self.lastHeartbeatTime = lastHeartbeatTime
            self.lastTransitionTime = lastTransitionTime
        }
    }

    public struct Address: Codable, Sendable, Hashable {
        public var type: String
        public var address: String
        public init(type: String, address: String) {
            self.type = type
            self.address = address
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var capacity: [String: String]?
        public var allocatable: [String: String]?
        public var conditions: [Condition]?
        public var addresses: [Address]?
        public var nodeInfo: JSONValue?
        public init() {}
    }

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?
    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// Whether the node reports Ready=True.
    public var isReady: Bool { status?.conditions?.first { $0.type == "Ready" }?.status == "True" }
}

/// `apps/v1` ReplicaSet: the pod template as JSON.
public struct ReplicaSet: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true)

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int32?
        public var selector: LabelSelectorSpec
        public var template: JSONValue
        public var minReadySeconds: Int32?
        public init(replicas: Int32?, selector: LabelSelectorSpec, template: JSONValue) {
            self.replicas = replicas
            self.selector = selector
            self.template = template
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var replicas: Int32
        public var fullyLabeledReplicas: Int32?
        public var readyReplicas: Int32?
        public var availableReplicas: Int32?
        public var observedGeneration: Int64?
        public var conditions: [JSONValue]?
        public init(replicas: Int32 = 0) { self.replicas = replicas }
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

/// Core `v1` Service: the selector and ports typed, the rest JSON-compatible.
public struct Service: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", plural: "services", kind: "Service", namespaced: true)

    public struct Port: Codable, Sendable, Hashable {
        public var name: String?
        public var port: Int32
        public var targetPort: JSONValue?
        public var `protocol`: String?
        public var appProtocol: String?
        public init(name: String? = nil, port: Int32, targetPort: JSONValue? = nil, protocol: String? = "TCP") {
            self.name = name
            self.port = port
            self.targetPort = targetPort
            self.protocol = `protocol`
        }
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var selector: [String: String]?
        public var ports: [Port]?
        public var type: String?
        public var clusterIP: String?
        public var publishNotReadyAddresses: Bool?
        public init(selector: [String: String]? = nil, ports: [Port]? = nil, type: String? = nil) {
            self.selector = selector
            self.ports = ports
            self.type = type
        }
    }

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: JSONValue?
    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// `discovery.k8s.io/v1` EndpointSlice: the addresses behind a Service.
public struct EndpointSlice: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice", namespaced: true)

    public struct Endpoint: Codable, Sendable, Hashable {
        public struct Conditions: Codable, Sendable, Hashable {
            public var ready: Bool?
            public var serving: Bool?
            public var terminating: Bool?
            public init(ready: Bool?, serving: Bool?, terminating: Bool?) {
                self.ready = ready
                self.serving = serving
                self.terminating = terminating
            }
        }
        public struct Reference: Codable, Sendable, Hashable {
            public var kind: String
            public var namespace: String?
            public var name: String
            public var uid: String?
            public init(kind: String, namespace: String?, name: String, uid: String?) {
                self.kind = kind
                self.namespace = namespace
                self.name = name
                self.uid = uid
            }
        }
        public var addresses: [String]
        public var conditions: Conditions?
        public var nodeName: String?
        public var zone: String?
        public var targetRef: Reference?
        public init(addresses: [String], conditions: Conditions?, nodeName: String?, zone: String?, targetRef: Reference?) {
            self.addresses = addresses
            self.conditions = conditions
            self.nodeName = nodeName
            self.zone = zone
            self.targetRef = targetRef
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var name: String?
        public var port: Int32?
        public var `protocol`: String?
        public init(name: String?, port: Int32?, protocol: String?) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
        }
    }

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var addressType: String
    public var endpoints: [Endpoint]?
    public var ports: [Port]?
    public init(metadata: ObjectMeta, addressType: String = "IPv4", endpoints: [Endpoint]? = nil, ports: [Port]? = nil) {
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }
}
