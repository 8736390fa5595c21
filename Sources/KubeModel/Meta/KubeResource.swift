/// Where a kind is served: its group, version, plural resource name and scope. Clients build
/// request paths from it; nothing else about a kind is needed to talk to the API server.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    /// Empty for the core ("legacy") group served under `/api`.
    public var group: String
    public var version: String
    public var plural: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { group.isEmpty ? "\(plural).\(version)" : "\(plural).\(version).\(group)" }

    /// `/api/v1` or `/apis/GROUP/VERSION`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection path; `namespace` is ignored for cluster-scoped kinds and, when nil for a
    /// namespaced kind, addresses all namespaces (list and watch only).
    public func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace { return "\(groupVersionPath)/namespaces/\(namespace)/\(plural)" }
        return "\(groupVersionPath)/\(plural)"
    }

    public func objectPath(name: String, namespace: String?, subresource: String? = nil) -> String {
        let base = "\(collectionPath(namespace: namespace))/\(name)"
        return subresource.map { "\(base)/\($0)" } ?? base
    }
}

/// A kind with a Swift type that a client can read and write by its `ResourceType`.
public protocol KubeResource: KubeObject {
    static var resourceType: ResourceType { get }
}

extension KubeResource {
    public static var apiVersion: String { resourceType.apiVersion }
    public static var kind: String { resourceType.kind }
}

/// `namespace/name` (or `name` for cluster-scoped objects), the cache and work-queue key
/// used throughout client-go and controller-runtime.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    public init(_ meta: ObjectMeta) {
        self.init(namespace: meta.namespace, name: meta.name ?? "")
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool { a.description < b.description }
}
