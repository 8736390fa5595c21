import KubeClient
import KubeModel

/// Writes reconcilers make over and over, done the safe way.
extension KubeClient {
    /// Re-reads the object, applies `mutate` to it and writes its status, retrying on
    /// conflicts (someone wrote in between) up to `attempts` times, like client-go's
    /// `retry.RetryOnConflict`. Returns the stored object; skips the write if nothing changed.
    public func updateStatus<T: KubeResource & Equatable>(
        _ type: T.Type = T.self, name: String, namespace: String?, attempts: Int = 5, _ mutate: @Sendable (inout T) throws -> Void
    ) async throws -> T {
        var delay = Duration.milliseconds(10)
        for attempt in 1...max(1, attempts) {
            var object = try await get(T.self, name: name, namespace: namespace)
            let before = object
            try mutate(&object)
            if object == before { return object }
            do {
                return try await updateStatus(object)
            } catch let error as KubeAPIError where error.isConflict && attempt < attempts {
                try await Task.sleep(for: delay * Double.random(in: 1.0...1.1))
                delay = delay * 5
            }
        }
        throw KubeAPIError.conflict(.init(code: 409, reason: "Conflict", message: "status of \(name) kept changing; gave up after \(attempts) attempts"))
    }

    /// As `updateStatus(_:name:namespace:attempts:_:)`, starting from the informer's copy: when
    /// the mutation changes nothing no request is sent, and otherwise the first write carries
    /// the cached resourceVersion. Only a conflict (the cache was behind) costs a read. This
    /// keeps a steady-state reconcile at no API requests at all.
    public func updateStatus<T: KubeResource & Equatable>(
        from cached: T, attempts: Int = 5, _ mutate: @Sendable (inout T) throws -> Void
    ) async throws -> T {
        var object = cached
        try mutate(&object)
        if object == cached { return object }
        do {
            return try await updateStatus(object)
        } catch let error as KubeAPIError where error.isConflict && attempts > 1 {
            return try await updateStatus(T.self, name: cached.metadata.name ?? "", namespace: cached.metadata.namespace, attempts: attempts - 1, mutate)
        }
    }

    /// Adds `finalizer` if missing; returns the object as stored. A stale copy fails with a
    /// conflict, which the work queue retries after a re-read.
    public func ensureFinalizer<T: KubeResource>(_ object: T, _ finalizer: String) async throws -> T {
        guard !(object.metadata.finalizers ?? []).contains(finalizer) else { return object }
        var copy = object
        copy.metadata.finalizers = (copy.metadata.finalizers ?? []) + [finalizer]
        return try await update(copy)
    }

    /// Removes `finalizer` if present, letting a pending deletion finish.
    public func removeFinalizer<T: KubeResource>(_ object: T, _ finalizer: String) async throws -> T {
        guard let finalizers = object.metadata.finalizers, finalizers.contains(finalizer) else { return object }
        var copy = object
        copy.metadata.finalizers = finalizers.filter { $0 != finalizer }
        return try await update(copy)
    }
}

extension KubeObject {
    /// Whether deletion has been requested (finalizers are holding the object).
    public var isBeingDeleted: Bool { metadata.deletionTimestamp != nil }

    /// An ownerReference that makes this object the controlling owner of another.
    public func controllerReference() -> OwnerReference? where Self: KubeResource {
        guard let name = metadata.name, let uid = metadata.uid else { return nil }
        return OwnerReference(apiVersion: Self.resourceType.apiVersion, kind: Self.resourceType.kind, name: name, uid: uid, controller: true, blockOwnerDeletion: true)
    }
}
