import Foundation
import KubeClient
import KubeModel
import Synchronization

/// What a controller last server-side applied, so a reconcile that would apply the same
/// configuration to an object nobody changed since sends nothing. An object counts as
/// unchanged while its `generation` (or, for kinds without one, its `resourceVersion`) is the
/// one the apply returned: an edit by hand bumps it and the next reconcile applies again,
/// putting the object back. The record lives in memory only: after a restart the first
/// reconcile applies everything once, as level-based reconciling wants.
public final class AppliedObjects: Sendable {
    private struct Record: Sendable {
        var configuration: [UInt8]
        var version: String
    }

    private let records = Mutex<[String: Record]>([:])
    private let limit: Int

    /// `limit` bounds the records kept (half of them are dropped when it is reached; a dropped
    /// object is applied once more at its next reconcile).
    public init(limit: Int = 20_000) {
        self.limit = limit
    }

    /// Applies `desired` unless the same configuration was applied to `current` as it is now;
    /// returns the stored object either way.
    public func apply<T: KubeResource>(_ desired: T, current: T?, client: KubeClient, fieldManager: String) async throws -> T {
        let key = Self.key(T.self, namespace: desired.metadata.namespace, name: desired.metadata.name ?? "")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let configuration = Array(try encoder.encode(desired))
        if let current, let version = Self.version(current), records.withLock({ $0[key] }).map({ $0.configuration == configuration && $0.version == version }) == true {
            return current
        }
        let stored = try await client.apply(desired, fieldManager: fieldManager, force: true)
        if let version = Self.version(stored) {
            records.withLock { r in
                if r.count >= limit { r = Dictionary(uniqueKeysWithValues: r.prefix(limit / 2).map { ($0.key, $0.value) }) }
                r[key] = Record(configuration: configuration, version: version)
            }
        }
        return stored
    }

    /// Forgets an object (after deleting it).
    public func forget<T: KubeResource>(_ type: T.Type, namespace: String?, name: String) {
        _ = records.withLock { $0.removeValue(forKey: Self.key(type, namespace: namespace, name: name)) }
    }

    private static func key<T: KubeResource>(_ type: T.Type, namespace: String?, name: String) -> String {
        "\(T.resourceType.kind)/\(namespace ?? "")/\(name)"
    }

    private static func version<T: KubeResource>(_ object: T) -> String? {
        if let g = object.metadata.generation { return "g\(g)" }
        return object.metadata.resourceVersion.map { "r\($0)" }
    }
}
