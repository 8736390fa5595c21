/// Core `v1` Event, what `kubectl describe` and `kubectl events` show about an object.
public struct Event: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)

    public struct ObjectReference: Codable, Sendable, Hashable {
        public var apiVersion: String?
        public var kind: String?
        public var namespace: String?
        public var name: String?
        public var uid: String?
        public var resourceVersion: String?

        public init(apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil, resourceVersion: String? = nil) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.uid = uid
            self.resourceVersion = resourceVersion
        }
    }

    public struct Source: Codable, Sendable, Hashable {
        public var component: String?
        public var host: String?
        public init(component: String? = nil, host: String? = nil) {
            self.component = component
            self.host = host
        }
    }

    public var apiVersion: String = Self.apiVersion
    public var kind: String = Self.kind
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var count: Int32?
    public var firstTimestamp: Timestamp?
    public var lastTimestamp: Timestamp?
    public var source: Source?
    public var reportingComponent: String?
    public var reportingInstance: String?
    public var action: String?

    public init(metadata: ObjectMeta, involvedObject: ObjectReference) {
        self.metadata = metadata
        self.involvedObject = involvedObject
    }
}
