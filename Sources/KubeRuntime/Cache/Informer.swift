import KubeClient
import KubeModel
import Logging
import Synchronization

/// A change the informer saw, delivered to handlers after the cache holds it.
public enum InformerEvent<Object: KubeResource>: Sendable {
    case added(Object)
    case updated(old: Object, new: Object)
    case deleted(Object)

    public var object: Object {
        switch self {
        case .added(let o), .deleted(let o): return o
        case .updated(_, let o): return o
        }
    }
}

/// List-then-watch for one kind, as client-go's reflector and shared informer: keeps an
/// indexed cache current, tracks the resourceVersion (bookmarks included), resumes a dropped
/// watch where it stopped, lists again after `410 Gone`, backs off on errors, and replays the
/// cache to handlers every `resyncPeriod`.
public final class Informer<Object: KubeResource>: Sendable {
    public struct Options: Sendable {
        /// nil watches all namespaces.
        public var namespace: String?
        public var labelSelector: String?
        public var fieldSelector: String?
        /// nil: never replay the cache.
        public var resyncPeriod: Duration?
        /// Page size of the initial and every later list.
        public var pageSize = 500
        /// Indexes beyond namespace and owner.
        public var indexers: [String: ObjectCache<Object>.IndexFunction] = [:]
        /// Applied to every object before it is cached and handed to handlers.
        public var transform: @Sendable (inout Object) -> Void = { _ in }
        /// By default `metadata.managedFields` is not kept: controllers do not read it and it
        /// is often the largest part of an object (controller-runtime offers the same as a
        /// cache transform). It is skipped while list and watch responses are parsed, so it
        /// costs neither memory nor decoding time. The API server keeps the stored
        /// managedFields when an update omits them, so writing a cached object back loses
        /// nothing.
        public var keepManagedFields = false
        public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil, resyncPeriod: Duration? = nil) {
            self.namespace = namespace
            self.labelSelector = labelSelector
            self.fieldSelector = fieldSelector
            self.resyncPeriod = resyncPeriod
        }
    }

    public typealias Handler = @Sendable (InformerEvent<Object>) -> Void

    public let cache: ObjectCache<Object>
    private let client: KubeClient
    private let options: Options
    private let logger: Logger
    private let handlers = Mutex<[Handler]>([])
    private let synced = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    /// How many times a full list was made (the first sync and each recovery).
    private let listCount = Mutex(0)

    public init(client: KubeClient, options: Options = .init(), logger: Logger = Logger(label: "llmops.informer")) {
        self.client = client
        self.options = options
        self.cache = ObjectCache(indexers: options.indexers)
        var logger = logger
        logger[metadataKey: "kind"] = "\(Object.resourceType.kind)"
        self.logger = logger
    }

    /// Handlers registered after the first sync first receive the cached objects as `added`.
    public func addHandler(_ handler: @escaping Handler) {
        let existing: [Object] = handlers.withLock { hs in
            hs.append(handler)
            return synced.withLock { $0.done } ? cache.list() : []
        }
        for o in existing { handler(.added(o)) }
    }

    public var hasSynced: Bool { synced.withLock { $0.done } }

    public var lists: Int { listCount.withLock { $0 } }

    /// Returns once the first list is in the cache.
    public func waitForSync() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = synced.withLock { s -> Bool in
                if s.done { return true }
                s.waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Runs until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listAndWatch() }
            if let period = options.resyncPeriod {
                group.addTask { await self.resync(every: period) }
            }
            await group.waitForAll()
        }
    }

    private func listAndWatch() async {
        var backoff = Backoff(initial: .milliseconds(800), max: .seconds(30))
        while !Task.isCancelled {
            do {
                var version = try await relist()
                backoff.reset()
                // Watch until the version is gone, resuming after every normal end or break.
                while !Task.isCancelled {
                    do {
                        version = try await watch(from: version, backoff: &backoff)
                    } catch let error as KubeAPIError where error.isGone {
                        logger.info("watch version \(version) expired; listing again")
                        break
                    } catch is CancellationError {
                        return
                    } catch {
                        // A stream cut by our own shutdown is not a failure worth a warning.
                        if Task.isCancelled { return }
                        logger.warning("watch failed, resuming from \(version): \(error)")
                        if await !backoff.sleep() { return }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("list failed: \(error)")
                if await !backoff.sleep() { return }
            }
        }
    }

    /// Lists everything and reconciles the cache with it: handlers see what was added,
    /// changed or deleted since the cache was last current.
    ///
    /// Pages are transformed, cached and delivered as they arrive (the client decodes the next
    /// page meanwhile): reconciles start before the list ends, and only a page or two of
    /// untransformed objects (managedFields and all) is in memory at a time.
    private func relist() async throws -> String {
        var seen = Set<ObjectKey>()
        var count = 0
        var version = ""
        try await client.forEachPage(
            Object.self, namespace: options.namespace,
            options: ListOptions(
                labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.pageSize,
                omitManagedFields: !options.keepManagedFields)
        ) { page in
            var events: [InformerEvent<Object>] = []
            for item in page.items {
                seen.insert(ObjectKey(item.metadata))
                // A list repeats what the cache already has; only differences are events.
                if let event = store(item, skippingUnchanged: true) { events.append(event) }
            }
            count += page.items.count
            version = page.resourceVersion
            deliver(events)
        }
        listCount.withLock { $0 += 1 }
        var deleted: [InformerEvent<Object>] = []
        for key in cache.keys where !seen.contains(key) {
            if let old = cache.remove(key) { deleted.append(.deleted(old)) }
        }
        let waiters = synced.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.done = true
            defer { s.waiters = [] }
            return s.waiters
        }
        deliver(deleted)
        for w in waiters { w.resume() }
        logger.debug("listed \(count) at version \(version)")
        return version
    }

    /// One watch request; returns the last version seen when the server ends it normally.
    private func watch(from version: String, backoff: inout Backoff) async throws -> String {
        var version = version
        // Spread watch renewals as client-go does (5 to 10 minutes).
        let timeout = Int.random(in: 300...600)
        let stream = try await client.watchBatches(
            Object.self, namespace: options.namespace,
            options: WatchOptions(
                resourceVersion: version, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, timeoutSeconds: timeout,
                omitManagedFields: !options.keepManagedFields))
        for try await batch in stream {
            backoff.reset()
            var events: [InformerEvent<Object>] = []
            for event in batch {
                switch event {
                case .added(let o), .modified(let o):
                    version = o.metadata.resourceVersion ?? version
                    if let event = store(o, skippingUnchanged: false) { events.append(event) }
                case .deleted(var o):
                    options.transform(&o)
                    version = o.metadata.resourceVersion ?? version
                    let old = cache.remove(ObjectKey(o.metadata))
                    events.append(.deleted(old ?? o))
                case .bookmark(let rv):
                    if !rv.isEmpty { version = rv }
                }
            }
            deliver(events)
        }
        return version
    }

    /// Transforms and caches an object, and returns the event for handlers: nil when
    /// `skippingUnchanged` and the cache already held this resourceVersion.
    private func store(_ object: Object, skippingUnchanged: Bool) -> InformerEvent<Object>? {
        var object = object
        options.transform(&object)
        guard let old = cache.upsert(object) else { return .added(object) }
        if skippingUnchanged, old.metadata.resourceVersion == object.metadata.resourceVersion { return nil }
        return .updated(old: old, new: object)
    }

    private func resync(every period: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: period) } catch { return }
            guard hasSynced else { continue }
            deliver(cache.list().map { .updated(old: $0, new: $0) })
        }
    }

    private func deliver(_ events: [InformerEvent<Object>]) {
        guard !events.isEmpty else { return }
        let hs = handlers.withLock { $0 }
        for e in events { for h in hs { h(e) } }
    }
}

/// Exponential backoff with jitter for reconnecting (not for work items; see `RateLimiter`).
struct Backoff {
    let initial: Duration
    let max: Duration
    private var next: Duration

    init(initial: Duration, max: Duration) {
        self.initial = initial
        self.max = max
        self.next = initial
    }

    mutating func reset() { next = initial }

    /// Sleeps the current step (with up to 20% jitter) and doubles it; false if cancelled.
    mutating func sleep() async -> Bool {
        let jittered = next * Double.random(in: 1.0...1.2)
        next = min(next * 2, max)
        do {
            try await Task.sleep(for: jittered)
            return true
        } catch {
            return false
        }
    }
}
