import Foundation
import KubeModel

/// The control plane's garbage collector and namespace controller: deletes dependents whose
/// owners are all gone (background propagation), finishes foreground deletions once an owner's
/// dependents are gone, strips owner references for orphaning deletions, and empties
/// terminating namespaces before removing them.
///
/// Level-based: it indexes every object from a list and then from the store's watch, and each
/// change re-examines the objects it can affect (the object, its owners, its dependents, its
/// namespace) from their stored state, so a restart or a missed step converges on the next pass.
actor GarbageCollector {
    private let store: ObjectStore
    private let handler: APIHandler
    private var keyByUID: [String: String] = [:]
    private var uidByKey: [String: String] = [:]
    private var ownersByKey: [String: [String]] = [:]
    private var dependentsByUID: [String: Set<String>] = [:]
    private var keysByNamespace: [String: Set<String>] = [:]
    private var terminating: Set<String> = []

    init(store: ObjectStore, handler: APIHandler) {
        self.store = store
        self.handler = handler
    }

    /// Runs until cancelled; a broken watch starts over from a fresh list.
    func run() async {
        while !Task.isCancelled {
            do {
                try await sync()
            } catch {
                // Storage trouble: try again shortly from a fresh list.
            }
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
    }

    private func sync() async throws {
        keyByUID = [:]
        uidByKey = [:]
        ownersByKey = [:]
        dependentsByUID = [:]
        keysByNamespace = [:]
        terminating = []
        let (entries, revision) = await store.entries(prefix: "")
        for e in entries { index(e.key, e.value) }
        for e in entries where needsAttention(e.value) { await reconcile(e.key) }
        for ns in terminating { await reconcile(Self.namespaceKey(ns)) }
        let stream = try await store.watch(prefix: "", fromRevision: revision)
        for await event in stream where event.type != .bookmark {
            if Task.isCancelled { return }
            // Only what the change can affect is re-read: most writes touch nothing here.
            var affected = Set(ownerKeys(event.key))
            if event.type != .deleted && needsAttention(event.object) { affected.insert(event.key) }
            if event.type == .deleted {
                if let uid = event.object["metadata"]?["uid"]?.stringValue { affected.formUnion(dependentsByUID[uid] ?? []) }
                unindex(event.key)
            } else {
                index(event.key, event.object)
                affected.formUnion(ownerKeys(event.key))
                if event.object["metadata"]?["deletionTimestamp"] != nil, let uid = event.object["metadata"]?["uid"]?.stringValue {
                    affected.formUnion(dependentsByUID[uid] ?? [])
                }
            }
            if let ns = StoreKey(path: event.key)?.namespace, terminating.contains(ns) { affected.insert(Self.namespaceKey(ns)) }
            for key in affected { await reconcile(key) }
        }
    }

    private func needsAttention(_ o: JSONValue) -> Bool {
        o["metadata"]?["deletionTimestamp"] != nil || !(o["metadata"]?["ownerReferences"]?.arrayValue ?? []).isEmpty
    }

    // MARK: Index

    private func index(_ key: String, _ o: JSONValue) {
        unindex(key)
        let meta = o["metadata"]
        if let uid = meta?["uid"]?.stringValue {
            keyByUID[uid] = key
            uidByKey[key] = uid
        }
        let owners = (meta?["ownerReferences"]?.arrayValue ?? []).compactMap { $0["uid"]?.stringValue }
        if !owners.isEmpty {
            ownersByKey[key] = owners
            for u in owners { dependentsByUID[u, default: []].insert(key) }
        }
        guard let k = StoreKey(path: key) else { return }
        if let ns = k.namespace { keysByNamespace[ns, default: []].insert(key) }
        if k.resource == "core/namespaces", meta?["deletionTimestamp"] != nil { terminating.insert(k.name) }
    }

    private func unindex(_ key: String) {
        if let uid = uidByKey.removeValue(forKey: key) { keyByUID[uid] = nil }
        for u in ownersByKey[key] ?? [] {
            dependentsByUID[u]?.remove(key)
            if dependentsByUID[u]?.isEmpty == true { dependentsByUID[u] = nil }
        }
        ownersByKey[key] = nil
        guard let k = StoreKey(path: key) else { return }
        if let ns = k.namespace { keysByNamespace[ns]?.remove(key) }
        if k.resource == "core/namespaces" { terminating.remove(k.name) }
    }

    private func ownerKeys(_ key: String) -> [String] { (ownersByKey[key] ?? []).compactMap { keyByUID[$0] } }

    static func namespaceKey(_ name: String) -> String { StoreKey(resource: "core/namespaces", namespace: nil, name: name).path }

    // MARK: Reconcile

    private func reconcile(_ keyPath: String) async {
        guard let key = StoreKey(path: keyPath), let object = await store.find(key) else { return }
        let meta = object["metadata"]
        let deleting = meta?["deletionTimestamp"] != nil
        let owners = (meta?["ownerReferences"]?.arrayValue ?? []).compactMap { $0["uid"]?.stringValue }
        // Every owner gone: the dependent goes too.
        if !deleting, !owners.isEmpty, owners.allSatisfy({ keyByUID[$0] == nil }) {
            await handler.collect(key, .background)
            return
        }
        guard deleting, let uid = meta?["uid"]?.stringValue else { return }
        let finalizers = meta?["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let dependents = dependentsByUID[uid] ?? []
        if finalizers.contains("orphan") {
            for d in dependents { if let k = StoreKey(path: d) { await handler.removeOwnerReference(k, uid: uid) } }
            await handler.removeFinalizer(key, "orphan")
        } else if finalizers.contains("foregroundDeletion") {
            if dependents.isEmpty {
                await handler.removeFinalizer(key, "foregroundDeletion")
            } else {
                for d in dependents { if let k = StoreKey(path: d) { await handler.collect(k, .foreground) } }
            }
        }
        if key.resource == "core/namespaces" {
            let contents = keysByNamespace[key.name] ?? []
            if contents.isEmpty {
                await handler.finishNamespace(key)
            } else {
                for c in contents { if let k = StoreKey(path: c) { await handler.collect(k, .background) } }
            }
        }
    }
}

extension StoreKey {
    /// Parses a stored key path (`group/plural/namespace/name`).
    init?(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, !parts[3].isEmpty else { return nil }
        self.init(resource: parts[0] + "/" + parts[1], namespace: parts[2].isEmpty ? nil : parts[2], name: parts[3])
    }
}

extension APIHandler {
    private func served(_ key: StoreKey) -> ServedResource? { registry.all.first { $0.storeResource == key.resource } }

    private func resourcePath(_ r: ServedResource, _ key: StoreKey) -> ResourcePath {
        ResourcePath(group: r.group, version: r.version, plural: r.plural, namespace: key.namespace, name: key.name, subresource: nil)
    }

    private static let collector = APIRequest(method: "PATCH", path: "", userAgent: "llmops-garbage-collector")

    /// Deletes an object on the garbage collector's behalf; one already being deleted is left alone.
    func collect(_ key: StoreKey, _ propagation: DeleteOptions.Propagation) async {
        guard let r = served(key), let current = await store.find(key), current["metadata"]?["deletionTimestamp"] == nil else { return }
        _ = try? await delete(r, key.namespace, key.name, options: DeleteOptions(propagation: propagation))
    }

    func removeFinalizer(_ key: StoreKey, _ finalizer: String) async {
        await modify(key) { meta in
            meta["finalizers"] = meta["finalizers"]?.arrayValue.map { .array($0.filter { $0 != .string(finalizer) }) }
        }
    }

    func removeOwnerReference(_ key: StoreKey, uid: String) async {
        await modify(key) { meta in
            let kept = (meta["ownerReferences"]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != uid }
            meta["ownerReferences"] = kept.isEmpty ? nil : .array(kept)
        }
    }

    /// Read-modify-write of metadata at the read resourceVersion; a conflict means someone else
    /// wrote, and that write's event brings the collector back.
    private func modify(_ key: StoreKey, _ change: (inout JSONObject) -> Void) async {
        guard let r = served(key), case .object(var o)? = await store.find(key) else { return }
        var meta = o["metadata"]?.objectValue ?? JSONObject()
        change(&meta)
        o["metadata"] = .object(meta)
        _ = try? await write(r, resourcePath(r, key), key.name, .object(o), Self.collector, tracking: .update)
    }

    /// Removes an emptied terminating namespace.
    func finishNamespace(_ key: StoreKey) async {
        guard let current = await store.find(key), current["metadata"]?["deletionTimestamp"] != nil else { return }
        _ = try? await store.delete(key, expectedRevision: ObjectStore.resourceVersion(of: current))
    }
}
