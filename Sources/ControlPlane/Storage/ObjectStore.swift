import Foundation
import KubeModel

/// Where an object lives: `resource` is `group/plural` (`core/pods` for the core group).
public struct StoreKey: Hashable, Sendable, CustomStringConvertible {
    public var resource: String
    public var namespace: String?
    public var name: String

    public init(resource: String, namespace: String?, name: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    /// The stored key; prefixes of it select a resource or a namespace of it.
    public var path: String { Self.prefix(resource: resource, namespace: namespace) + name }

    public static func prefix(resource: String, namespace: String?) -> String {
        "\(resource)/\(namespace ?? "")/"
    }

    public var description: String { path }
}

public enum WatchEventType: String, Sendable {
    case added = "ADDED", modified = "MODIFIED", deleted = "DELETED"
    /// Not stored: a progress marker telling watchers every change up to its revision was sent.
    case bookmark = "BOOKMARK"
}

/// A change, as watch streams deliver it: the object as of `resourceVersion`.
public struct StoredEvent: Sendable {
    public var type: WatchEventType
    public var key: String
    public var object: JSONValue
    public var resourceVersion: Int64
}

/// An object as stored: its key, its value, and its JSON encoding (kept so that lists can be
/// answered by copying bytes instead of serialising every object again).
public struct StoredObject: Sendable {
    public var key: String
    public var value: JSONValue
    public var encoded: [UInt8]
}

/// Why a store operation failed, and whether retrying can help.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case alreadyExists(String)
    /// The caller's resourceVersion is not the stored one (optimistic concurrency).
    case conflict(String, current: Int64)
    /// The requested revision was compacted away; re-list, then watch from the list's revision.
    case gone(requested: Int64, oldest: Int64)
    case storage(String)

    public var description: String {
        switch self {
        case .notFound(let k): return "\(k) not found"
        case .alreadyExists(let k): return "\(k) already exists"
        case .conflict(let k, let rv): return "\(k) has been modified (resourceVersion is now \(rv)); read it again and retry"
        case .gone(let requested, let oldest): return "too old resource version: \(requested) (\(oldest))"
        case .storage(let m): return "storage error: \(m)"
        }
    }

    /// Conflicts resolve by re-reading; storage errors may be transient (a locked database).
    public var retryable: Bool {
        switch self {
        case .conflict, .storage: return true
        case .notFound, .alreadyExists, .gone: return false
        }
    }
}

/// The embedded control plane's durable object store: every object and every change, in SQLite.
///
/// - One global, monotonically increasing resourceVersion across all objects, as etcd's
///   revision is for the Kubernetes API server; each object's `metadata.resourceVersion` is the
///   revision of its last write.
/// - A write is acknowledged only after its transaction commits with `synchronous=FULL` in WAL
///   mode, so a process killed at any moment loses no acknowledged write.
/// - Changes are also kept as an event log, so a watch can resume from any revision still in it;
///   older revisions are compacted and answer 410 Gone.
/// - Reads never touch SQLite: every live object is also held in memory, decoded and encoded,
///   with its keys in sorted order for paged lists. SQLite is the durable copy, read once at
///   start-up, as etcd's in-memory index is rebuilt from its log.
public actor ObjectStore {
    private let db: SQLiteDatabase
    private var objects: [String: StoredObject] = [:]
    /// Every key in `objects`, sorted, so a prefix is one contiguous range found by binary search.
    private var sortedKeys: [String] = []
    public private(set) var revision: Int64
    public private(set) var compactedRevision: Int64
    private var watchers: [UUID: (prefix: String, continuation: AsyncStream<StoredEvent>.Continuation)] = [:]
    /// Events a slow watcher may have pending before its stream is closed (it re-lists).
    public static let watchBuffer = 10_000

    public init(path: String) throws(StoreError) {
        do {
            db = try SQLiteDatabase(path: path)
            try db.execute(
                """
                PRAGMA journal_mode=WAL;
                PRAGMA synchronous=FULL;
                CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, rv INTEGER NOT NULL, value BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS events (rv INTEGER PRIMARY KEY, key TEXT NOT NULL, type TEXT NOT NULL, value BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                INSERT OR IGNORE INTO meta VALUES ('revision', 0), ('compacted', 0);
                """)
            let meta = try db.query("SELECT name, value FROM meta") { ($0.text(0), $0.int(1)) }
            revision = meta.first { $0.0 == "revision" }?.1 ?? 0
            compactedRevision = meta.first { $0.0 == "compacted" }?.1 ?? 0
            let rows = try db.query("SELECT key, value FROM objects ORDER BY key") { ($0.text(0), $0.blob(1)) }
            objects.reserveCapacity(rows.count)
            for (key, blob) in rows {
                objects[key] = StoredObject(key: key, value: try JSONText.parse(blob), encoded: blob)
            }
        } catch let e as JSONText.ParseError {
            throw .storage("corrupt object in \(path): \(e)")
        } catch {
            throw .storage("\(error)")
        }
        // Sorted here rather than trusted from SQLite's collation, so lookups and inserts agree.
        sortedKeys = objects.keys.sorted()
    }

    // MARK: Reads

    public func get(_ key: StoreKey) throws(StoreError) -> JSONValue {
        guard let value = read(key.path) else { throw .notFound(key.path) }
        return value
    }

    /// The object, or nil when there is none.
    public func find(_ key: StoreKey) -> JSONValue? {
        read(key.path)
    }

    /// Every object under a prefix (see `StoreKey.prefix`), in key order, with the revision
    /// the list is consistent at (the store's current revision).
    public func list(prefix: String) -> (items: [JSONValue], revision: Int64) {
        let (entries, revision) = entries(prefix: prefix)
        return (entries.map(\.value), revision)
    }

    /// Objects under a prefix, in key order, optionally only those after a key (for paging
    /// with `continue`) and at most `limit` of them.
    public func entries(prefix: String, after: String? = nil, limit: Int? = nil) -> (items: [StoredObject], revision: Int64) {
        var range = range(prefix: prefix, after: after)
        if let limit { range = range.lowerBound..<min(range.upperBound, range.lowerBound + max(limit, 0)) }
        return (range.map { objects[sortedKeys[$0]]! }, revision)
    }

    /// Objects under a prefix after a key as they were at `revision`, in key order: what the
    /// later pages of a paged list return, so that all pages show one revision, as the API
    /// server's `continue` promises. Unchanged objects come from memory; for the keys changed
    /// since, the version at `revision` is read from the change log. Throws `gone` when that
    /// revision was compacted away.
    public func entries(prefix: String, after: String?, at revision: Int64) throws(StoreError) -> [StoredObject] {
        guard revision < self.revision else { return entries(prefix: prefix, after: after).items }
        if revision < compactedRevision { throw .gone(requested: revision, oldest: compactedRevision) }
        do {
            let changed = Set(
                try db.query(
                    "SELECT DISTINCT key FROM events WHERE rv > ? AND substr(key, 1, ?) = ? AND key > ?",
                    [.int(revision), .int(Int64(prefix.utf8.count)), .text(prefix), .text(after ?? "")]
                ) { $0.text(0) })
            var items = entries(prefix: prefix, after: after).items.filter { !changed.contains($0.key) }
            for key in changed where after.map({ key > $0 }) ?? true {
                let old = try db.query(
                    "SELECT type, value FROM events WHERE key = ? AND rv <= ? ORDER BY rv DESC LIMIT 1", [.text(key), .int(revision)]
                ) { ($0.text(0), $0.blob(1)) }
                guard let (type, blob) = old.first, type != WatchEventType.deleted.rawValue else { continue }
                items.append(StoredObject(key: key, value: try JSONText.parse(blob), encoded: blob))
            }
            return items.sorted { $0.key < $1.key }
        } catch let e as JSONText.ParseError {
            throw .storage("corrupt object: \(e)")
        } catch {
            throw .storage("\(error)")
        }
    }

    /// How many objects lie under a prefix after a key (for `remainingItemCount`).
    public func count(prefix: String, after: String? = nil) -> Int {
        range(prefix: prefix, after: after).count
    }

    /// Positions in `sortedKeys` of the keys under `prefix` that sort after `after`.
    private func range(prefix: String, after: String?) -> Range<Int> {
        let start: Int
        if let after, after >= prefix {
            let i = insertionIndex(after)
            start = i < sortedKeys.count && sortedKeys[i] == after ? i + 1 : i
        } else {
            start = insertionIndex(prefix)
        }
        // Store prefixes end in "/", and no character sorts between "/" and "0": every key
        // under "a/b/" sorts before "a/b0", and every key from there on lies outside it.
        let end: Int
        if prefix.isEmpty {
            end = sortedKeys.count
        } else if prefix.hasSuffix("/") {
            end = insertionIndex(String(prefix.dropLast()) + "0")
        } else {
            var i = start
            while i < sortedKeys.count, sortedKeys[i].hasPrefix(prefix) { i += 1 }
            end = i
        }
        return start..<max(start, end)
    }

    /// Binary search: the first position whose key is not less than `key`.
    private func insertionIndex(_ key: String) -> Int {
        var low = 0, high = sortedKeys.count
        while low < high {
            let mid = (low + high) / 2
            if sortedKeys[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func read(_ path: String) -> JSONValue? {
        objects[path]?.value
    }

    // MARK: Writes

    /// Stores a new object; its `metadata.resourceVersion` is set to the new revision.
    public func create(_ key: StoreKey, _ object: JSONValue) throws(StoreError) -> JSONValue {
        if read(key.path) != nil { throw .alreadyExists(key.path) }
        return try write(key, object, type: .added)
    }

    /// Replaces an object. With `expectedRevision`, fails with `conflict` unless it matches.
    public func update(_ key: StoreKey, _ object: JSONValue, expectedRevision: Int64? = nil) throws(StoreError) -> JSONValue {
        guard let current = read(key.path) else { throw .notFound(key.path) }
        let currentRV = Self.resourceVersion(of: current)
        if let expected = expectedRevision, expected != currentRV { throw .conflict(key.path, current: currentRV) }
        return try write(key, object, type: .modified)
    }

    /// Removes an object and returns it as last stored, at the revision of its deletion.
    public func delete(_ key: StoreKey, expectedRevision: Int64? = nil) throws(StoreError) -> JSONValue {
        guard let current = read(key.path) else { throw .notFound(key.path) }
        let currentRV = Self.resourceVersion(of: current)
        if let expected = expectedRevision, expected != currentRV { throw .conflict(key.path, current: currentRV) }
        return try write(key, current, type: .deleted)
    }

    private func write(_ key: StoreKey, _ object: JSONValue, type: WatchEventType) throws(StoreError) -> JSONValue {
        let rv = revision + 1
        var stored = object
        if case .object(var o) = stored {
            var meta = o["metadata"]?.objectValue ?? JSONObject()
            meta["resourceVersion"] = .string(String(rv))
            o["metadata"] = .object(meta)
            stored = .object(o)
        }
        let blob = JSONText.bytes(stored)
        // The version being replaced may be needed by a paged list at an older revision; if
        // compaction dropped its log entry, put it back (see `entries(prefix:after:at:)`).
        let previous = objects[key.path].flatMap { p -> (Int64, [UInt8])? in
            let prevRV = Self.resourceVersion(of: p.value)
            return prevRV <= compactedRevision ? (prevRV, p.encoded) : nil
        }
        do {
            try db.execute("BEGIN IMMEDIATE")
            do {
                if let (prevRV, prevBlob) = previous {
                    try db.run("INSERT OR IGNORE INTO events VALUES (?, ?, 'MODIFIED', ?)", [.int(prevRV), .text(key.path), .blob(prevBlob)])
                }
                try db.run("INSERT INTO events VALUES (?, ?, ?, ?)", [.int(rv), .text(key.path), .text(type.rawValue), .blob(blob)])
                if type == .deleted {
                    try db.run("DELETE FROM objects WHERE key = ?", [.text(key.path)])
                } else {
                    try db.run("INSERT OR REPLACE INTO objects VALUES (?, ?, ?)", [.text(key.path), .int(rv), .blob(blob)])
                }
                try db.run("UPDATE meta SET value = ? WHERE name = 'revision'", [.int(rv)])
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        } catch {
            throw .storage("\(error)")
        }
        revision = rv
        if type == .deleted {
            if objects.removeValue(forKey: key.path) != nil { sortedKeys.remove(at: insertionIndex(key.path)) }
        } else {
            if objects[key.path] == nil { sortedKeys.insert(key.path, at: insertionIndex(key.path)) }
            objects[key.path] = StoredObject(key: key.path, value: stored, encoded: blob)
        }
        publish(StoredEvent(type: type, key: key.path, object: stored, resourceVersion: rv))
        return stored
    }

    // MARK: Watch

    /// Changes under `prefix` after `fromRevision`: first those already in the log, in order,
    /// then live ones. Throws `gone` when `fromRevision` was compacted away.
    public func watch(prefix: String, fromRevision: Int64) throws(StoreError) -> AsyncStream<StoredEvent> {
        if fromRevision < compactedRevision { throw .gone(requested: fromRevision, oldest: compactedRevision) }
        let replay: [StoredEvent]
        do {
            replay = try db.query(
                "SELECT rv, key, type, value FROM events WHERE rv > ? AND substr(key, 1, ?) = ? ORDER BY rv",
                [.int(fromRevision), .int(Int64(prefix.utf8.count)), .text(prefix)]
            ) { row in
                StoredEvent(
                    type: WatchEventType(rawValue: row.text(2)) ?? .modified, key: row.text(1),
                    object: (try? JSONText.parse(row.blob(3))) ?? .null, resourceVersion: row.int(0))
            }
        } catch {
            throw .storage("\(error)")
        }
        let id = UUID()
        let (stream, continuation) = AsyncStream<StoredEvent>.makeStream(bufferingPolicy: .bufferingOldest(Self.watchBuffer))
        for event in replay { continuation.yield(event) }
        // Registration happens inside the actor, after the replay and before any later write,
        // so the stream has no gap and no duplicate.
        watchers[id] = (prefix, continuation)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeWatcher(id) }
        }
        return stream
    }

    private func removeWatcher(_ id: UUID) { watchers[id] = nil }

    public var watcherCount: Int { watchers.count }

    private func publish(_ event: StoredEvent) {
        for (id, w) in watchers where event.key.hasPrefix(w.prefix) {
            if case .dropped = w.continuation.yield(event) {
                // Too far behind: end its stream rather than let it miss events silently.
                w.continuation.finish()
                watchers[id] = nil
            }
        }
    }

    /// Tells every watcher that it has been sent all changes up to the current revision. Sent
    /// through the same streams as changes, so it is ordered after every change before it.
    public func publishBookmark() {
        let marker = StoredEvent(type: .bookmark, key: "", object: .null, resourceVersion: revision)
        for (_, w) in watchers { w.continuation.yield(marker) }
    }

    /// Drops the event log up to and including `upTo`; watches from older revisions get 410.
    public func compact(upTo: Int64) throws(StoreError) {
        let target = min(upTo, revision)
        guard target > compactedRevision else { return }
        do {
            try db.execute("BEGIN IMMEDIATE")
            // A key changed after the target keeps its last version at or before it, which a
            // paged list at a revision between the two still needs; everything else goes.
            try db.run(
                """
                DELETE FROM events WHERE rv <= ?1 AND NOT (
                    rv = (SELECT max(e.rv) FROM events e WHERE e.key = events.key AND e.rv <= ?1)
                    AND EXISTS (SELECT 1 FROM events l WHERE l.key = events.key AND l.rv > ?1))
                """, [.int(target)])
            try db.run("UPDATE meta SET value = ? WHERE name = 'compacted'", [.int(target)])
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw .storage("\(error)")
        }
        compactedRevision = target
    }

    static func resourceVersion(of object: JSONValue) -> Int64 {
        object["metadata"]?["resourceVersion"]?.stringValue.flatMap { Int64($0) } ?? 0
    }
}
