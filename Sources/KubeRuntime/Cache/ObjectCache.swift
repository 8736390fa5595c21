import KubeClient
import KubeModel
import Synchronization

/// The informer's in-memory copy of one kind, with indexes. Readers (reconcilers) read it
/// synchronously; only the informer writes it.
public final class ObjectCache<Object: KubeResource>: Sendable {
    /// Maps an object to the index values it is filed under.
    public typealias IndexFunction = @Sendable (Object) -> [String]

    /// Objects by namespace (cluster-scoped objects under "").
    public static var namespaceIndex: String { "namespace" }
    /// Objects by the uid of each of their owners.
    public static var ownerIndex: String { "owner" }

    /// Objects are boxed so the table holds a pointer per slot: a typed custom resource can
    /// be hundreds of bytes inline, and a hash table keeps a quarter or more of its slots
    /// empty, which unboxed would cost that much per empty slot too.
    private final class Box: Sendable {
        let object: Object
        init(_ object: Object) { self.object = object }
    }

    private struct State: ~Copyable {
        var objects: [ObjectKey: Box] = [:]
        var indices: [String: [String: Set<ObjectKey>]] = [:]
    }

    private let state = Mutex(State())
    private let indexers: [String: IndexFunction]

    public init(indexers: [String: IndexFunction] = [:]) {
        var all = indexers
        all[Self.namespaceIndex] = { [$0.metadata.namespace ?? ""] }
        all[Self.ownerIndex] = { ($0.metadata.ownerReferences ?? []).map(\.uid) }
        self.indexers = all
    }

    public func get(_ key: ObjectKey) -> Object? { state.withLock { $0.objects[key]?.object } }

    public func get(namespace: String?, name: String) -> Object? { get(ObjectKey(namespace: namespace, name: name)) }

    public var count: Int { state.withLock { $0.objects.count } }

    public var keys: [ObjectKey] { state.withLock { Array($0.objects.keys) } }

    /// Every object, or those in one namespace.
    public func list(namespace: String? = nil) -> [Object] {
        if let namespace { return byIndex(Self.namespaceIndex, namespace) }
        return state.withLock { $0.objects.values.map(\.object) }
    }

    /// The objects filed under `value` in index `name` (empty for an unknown index).
    public func byIndex(_ name: String, _ value: String) -> [Object] {
        state.withLock { s in (s.indices[name]?[value] ?? []).compactMap { s.objects[$0]?.object } }
    }

    /// Inserts or replaces; returns the previous version.
    @discardableResult
    func upsert(_ object: Object) -> Object? {
        let key = ObjectKey(object.metadata)
        let values = indexers.mapValues { $0(object) }
        return state.withLock { s in
            let old = s.objects.updateValue(Box(object), forKey: key)?.object
            if let old { Self.unindex(&s, key, indexers.mapValues { $0(old) }) }
            for (index, vs) in values { for v in vs { s.indices[index, default: [:]][v, default: []].insert(key) } }
            return old
        }
    }

    @discardableResult
    func remove(_ key: ObjectKey) -> Object? {
        state.withLock { s in
            guard let old = s.objects.removeValue(forKey: key)?.object else { return nil }
            Self.unindex(&s, key, indexers.mapValues { $0(old) })
            return old
        }
    }

    private static func unindex(_ s: inout State, _ key: ObjectKey, _ values: [String: [String]]) {
        for (index, vs) in values {
            for v in vs {
                s.indices[index]?[v]?.remove(key)
                if s.indices[index]?[v]?.isEmpty == true { s.indices[index]?[v] = nil }
            }
        }
    }
}
