import Foundation
import KubeModel
import NIOHTTP1

/// A client for one Kubernetes API server. Typed operations take and return Swift types that
/// conform to `KubeResource`; every failure is a `KubeAPIError`. Safe to share across tasks.
/// Call `shutdown()` before the last reference goes away: the connection pool must be closed.
public final class KubeClient: Sendable {
    public let configuration: ClientConfiguration
    let transport: HTTPTransport

    public init(_ configuration: ClientConfiguration) throws(KubeConfigError) {
        self.configuration = configuration
        self.transport = try HTTPTransport(configuration)
    }

    /// Closes pooled connections; call before the process exits.
    public func shutdown() async { await transport.shutdown() }

    // MARK: Reads

    public func get<T: KubeResource>(_ type: T.Type = T.self, name: String, namespace: String? = nil) async throws -> T {
        let bytes = try await transport.send(.GET, T.resourceType.objectPath(name: name, namespace: ns(T.self, namespace)))
        return try decodeObject(T.self, bytes)
    }

    /// One page (or, without `limit`, all) of a list. `namespace` nil lists across all
    /// namespaces for namespaced kinds.
    public func list<T: KubeResource>(_ type: T.Type = T.self, namespace: String? = nil, options: ListOptions = .init()) async throws -> ObjectList<T> {
        let bytes = try await transport.send(.GET, T.resourceType.collectionPath(namespace: namespace), query: options.query)
        return try decodeList(T.self, bytes)
    }

    /// Every page of a list, following `continue` tokens.
    public func listAll<T: KubeResource>(_ type: T.Type = T.self, namespace: String? = nil, options: ListOptions = .init()) async throws -> ObjectList<T> {
        var items: [T] = []
        var version: String?
        try await forEachPage(T.self, namespace: namespace, options: options) { page in
            items += page.items
            if version == nil { version = page.resourceVersion }
        }
        return ObjectList(items: items, resourceVersion: version ?? "", continueToken: nil)
    }

    /// Hands every page of a list to `body`, in order, following `continue` tokens.
    ///
    /// Pages are pipelined: while one page's items are decoded into `T` (on another task),
    /// the previous page is handed to `body` and the next one is fetched and parsed. A list
    /// of thousands of objects then costs about its decoding time, not decoding plus every
    /// round trip. If `body` throws, the list stops and the error is rethrown.
    public func forEachPage<T: KubeResource>(
        _ type: T.Type = T.self, namespace: String? = nil, options: ListOptions = .init(), _ body: (ObjectList<T>) async throws -> Void
    ) async throws {
        let path = T.resourceType.collectionPath(namespace: namespace)
        var options = options
        var decoding: Task<ObjectList<T>, any Error>?
        defer { decoding?.cancel() }
        func decoded(_ task: Task<ObjectList<T>, any Error>) async throws -> ObjectList<T> {
            try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        }
        repeat {
            let value = try parse(
                try await transport.send(.GET, path, query: options.query), as: "a list of \(T.self)",
                omitting: options.omitManagedFields ? ["items", "*", "metadata", "managedFields"] : [])
            options.continueToken = listContinue(value)
            let next = Task { try decodeList(T.self, from: value) }
            if let decoding { try await body(try await decoded(decoding)) }
            decoding = next
        } while options.continueToken != nil
        if let last = decoding {
            decoding = nil
            try await body(try await decoded(last))
        }
    }

    // MARK: Writes

    public func create<T: KubeResource>(_ object: T, fieldManager: String? = nil, dryRun: Bool = false) async throws -> T {
        let path = T.resourceType.collectionPath(namespace: ns(T.self, object.metadata.namespace))
        let bytes = try await transport.send(.POST, path, query: writeQuery(fieldManager, dryRun), body: try encode(object))
        return try decodeObject(T.self, bytes)
    }

    /// Replaces the object; fails with `.conflict` if its resourceVersion is stale.
    public func update<T: KubeResource>(_ object: T, fieldManager: String? = nil) async throws -> T {
        try await put(object, subresource: nil, fieldManager: fieldManager)
    }

    /// Replaces the status subresource only; spec changes in `object` are ignored by the server.
    public func updateStatus<T: KubeResource>(_ object: T, fieldManager: String? = nil) async throws -> T {
        try await put(object, subresource: "status", fieldManager: fieldManager)
    }

    public func patch<T: KubeResource>(
        _ type: T.Type = T.self, name: String, namespace: String? = nil, _ patch: Patch, subresource: String? = nil, fieldManager: String? = nil
    ) async throws -> T {
        let path = T.resourceType.objectPath(name: name, namespace: ns(T.self, namespace), subresource: subresource)
        let bytes = try await transport.send(.PATCH, path, query: writeQuery(fieldManager, false), body: patch.body, contentType: patch.contentType)
        return try decodeObject(T.self, bytes)
    }

    /// Server-side apply: `object` holds only the fields this manager owns; the server merges,
    /// creating the object if needed. Conflicts with other managers fail unless `force`.
    public func apply<T: KubeResource>(_ object: T, fieldManager: String, force: Bool = false, subresource: String? = nil) async throws -> T {
        guard let name = object.metadata.name else {
            throw KubeAPIError.invalid(.init(code: 422, reason: "Invalid", message: "metadata.name: Required value: server-side apply needs a name"))
        }
        let path = T.resourceType.objectPath(name: name, namespace: ns(T.self, object.metadata.namespace), subresource: subresource)
        var query = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        let bytes = try await transport.send(.PATCH, path, query: query, body: try encode(object), contentType: "application/apply-patch+yaml")
        return try decodeObject(T.self, bytes)
    }

    /// Deletes an object. Returns normally if it is gone or now carries a deletionTimestamp
    /// (finalizers pending).
    public func delete<T: KubeResource>(_ type: T.Type = T.self, name: String, namespace: String? = nil, options: DeleteOptions = .init()) async throws {
        let path = T.resourceType.objectPath(name: name, namespace: ns(T.self, namespace))
        _ = try await transport.send(.DELETE, path, body: options.body)
    }

    // MARK: Scale

    public func scale<T: KubeResource>(_ type: T.Type = T.self, name: String, namespace: String? = nil) async throws -> Scale {
        let bytes = try await transport.send(.GET, T.resourceType.objectPath(name: name, namespace: ns(T.self, namespace), subresource: "scale"))
        return try decodeValue(Scale.self, bytes)
    }

    public func updateScale<T: KubeResource>(_ type: T.Type = T.self, name: String, namespace: String? = nil, replicas: Int32) async throws -> Scale {
        let path = T.resourceType.objectPath(name: name, namespace: ns(T.self, namespace), subresource: "scale")
        let body = Patch.merge(["spec": ["replicas": .int(Int64(replicas))]])
        let bytes = try await transport.send(.PATCH, path, body: body.body, contentType: body.contentType)
        return try decodeValue(Scale.self, bytes)
    }

    // MARK: Watch

    /// A watch stream. It ends when the server closes it (after `timeoutSeconds`, or when the
    /// connection drops); a `410 Gone` arrives as a thrown `KubeAPIError.gone`.
    public func watch<T: KubeResource>(_ type: T.Type = T.self, namespace: String? = nil, options: WatchOptions = .init()) async throws -> AsyncThrowingStream<WatchEvent<T>, Error> {
        let batches = try await watchBatches(T.self, namespace: namespace, options: options)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await batch in batches {
                        for event in batch { continuation.yield(event) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A watch as batches of events: those that arrived together come as one element, so a
    /// consumer handling a burst (an informer resuming after a pause) is woken once per batch
    /// rather than once per event.
    public func watchBatches<T: KubeResource>(
        _ type: T.Type = T.self, namespace: String? = nil, options: WatchOptions = .init()
    ) async throws -> AsyncThrowingStream<[WatchEvent<T>], Error> {
        try await transport.stream(
            T.resourceType.collectionPath(namespace: namespace), query: options.query, deadline: .seconds(options.timeoutSeconds + 30)
        ) { [omit = options.omitManagedFields] lines in try await Self.decodeWatchLines(T.self, lines[...], omitManagedFields: omit) }
    }

    /// A batch at least this long is decoded in two halves at once.
    static let parallelDecodeThreshold = 32

    /// Decodes the lines of a watch that arrived together, in order. A large batch (a burst,
    /// or a consumer catching up) is split so that both halves decode on separate cores.
    static func decodeWatchLines<T: KubeResource>(_ type: T.Type, _ lines: ArraySlice<[UInt8]>, omitManagedFields: Bool) async throws -> [WatchEvent<T>] {
        guard lines.count >= parallelDecodeThreshold else { return try lines.map { try WatchFrame.decode(T.self, $0, omitManagedFields: omitManagedFields) } }
        let middle = lines.startIndex + lines.count / 2
        async let first = decodeWatchLines(T.self, lines[..<middle], omitManagedFields: omitManagedFields)
        let second = try await decodeWatchLines(T.self, lines[middle...], omitManagedFields: omitManagedFields)
        return try await first + second
    }

    // MARK: Raw

    /// Any request, for kinds without a Swift type; the answer's body is returned as JSON.
    public func request(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, contentType: String? = nil) async throws -> JSONValue {
        let bytes = try await transport.send(
            HTTPMethod(rawValue: method), path, query: query, body: body.map { Array(JSONText.serialize($0).utf8) }, contentType: contentType)
        do {
            return try JSONText.parse(bytes)
        } catch {
            throw KubeAPIError.decoding("\(method) \(path): \(error)")
        }
    }

    // MARK: Helpers

    private func put<T: KubeResource>(_ object: T, subresource: String?, fieldManager: String?) async throws -> T {
        guard let name = object.metadata.name else {
            throw KubeAPIError.invalid(.init(code: 422, reason: "Invalid", message: "metadata.name: Required value: an update needs a name"))
        }
        let path = T.resourceType.objectPath(name: name, namespace: ns(T.self, object.metadata.namespace), subresource: subresource)
        let bytes = try await transport.send(.PUT, path, query: writeQuery(fieldManager, false), body: try encode(object))
        return try decodeObject(T.self, bytes)
    }

    /// The namespace a request for a namespaced kind goes to: the given one, else the
    /// configuration's default.
    private func ns<T: KubeResource>(_ type: T.Type, _ namespace: String?) -> String? {
        guard T.resourceType.namespaced else { return nil }
        return namespace.flatMap { $0.isEmpty ? nil : $0 } ?? configuration.namespace
    }

    private func writeQuery(_ fieldManager: String?, _ dryRun: Bool) -> [(String, String)] {
        var q: [(String, String)] = []
        if let fieldManager { q.append(("fieldManager", fieldManager)) }
        if dryRun { q.append(("dryRun", "All")) }
        return q
    }
}

// MARK: Coding

private func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
    do {
        return Array(try JSONEncoder().encode(value))
    } catch {
        throw KubeAPIError.decoding("cannot encode \(T.self): \(error)")
    }
}

/// Parses a response body; the error names what was expected.
private func parse(_ bytes: [UInt8], as what: @autoclosure () -> String, omitting: [String] = []) throws -> JSONValue {
    do {
        return try JSONText.parse(bytes, omitting: omitting)
    } catch {
        throw KubeAPIError.decoding("cannot decode \(what()): \(error)")
    }
}

func decodeValue<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
    try decodeValue(T.self, from: parse(bytes, as: "\(T.self)"))
}

func decodeValue<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
    do {
        return try JSONValueDecoder().decode(T.self, from: value)
    } catch {
        throw KubeAPIError.decoding("cannot decode \(T.self): \(error)")
    }
}

/// Decodes one object; a body without apiVersion or kind (as built-in kinds may come) gets
/// them filled in from `T` first.
func decodeObject<T: KubeResource>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
    try decodeObject(T.self, from: parse(bytes, as: "\(T.self)"))
}

func decodeObject<T: KubeResource>(_ type: T.Type, from value: JSONValue) throws -> T {
    guard case .object = value else { throw KubeAPIError.decoding("cannot decode \(T.self): not a JSON object") }
    return try decodeValue(T.self, from: withTypeMeta(T.self, value))
}

/// Built-in kinds' list items come without apiVersion and kind (the list names them once);
/// they are filled in from `T`.
func decodeList<T: KubeResource>(_ type: T.Type, _ bytes: [UInt8]) throws -> ObjectList<T> {
    try decodeList(T.self, from: parse(bytes, as: "a list of \(T.self)"))
}

func decodeList<T: KubeResource>(_ type: T.Type, from list: JSONValue) throws -> ObjectList<T> {
    guard case .object = list else { throw KubeAPIError.decoding("cannot decode a list of \(T.self): not a JSON object") }
    let items = try (list["items"]?.arrayValue ?? []).map { try decodeObject(T.self, from: $0) }
    return ObjectList(items: items, resourceVersion: list["metadata"]?["resourceVersion"]?.stringValue ?? "", continueToken: listContinue(list))
}

/// A list's `continue` token; an empty one means the last page.
private func listContinue(_ list: JSONValue) -> String? {
    list["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
}

/// `value` with `T`'s apiVersion and kind where it has none (non-objects pass through).
private func withTypeMeta<T: KubeResource>(_ type: T.Type, _ value: JSONValue) -> JSONValue {
    guard case .object(var o) = value else { return value }
    if o["apiVersion"] == nil { o["apiVersion"] = .string(T.resourceType.apiVersion) }
    if o["kind"] == nil { o["kind"] = .string(T.resourceType.kind) }
    return .object(o)
}

/// Decoding of one watch line: `{"type": ..., "object": ...}`.
enum WatchFrame {
    static func decode<T: KubeResource>(_ type: T.Type, _ line: [UInt8], omitManagedFields: Bool = false) throws -> WatchEvent<T> {
        let frame = try parse(line, as: "a watch event", omitting: omitManagedFields ? ["object", "metadata", "managedFields"] : [])
        guard let kind = frame["type"]?.stringValue else { throw KubeAPIError.decoding("watch event without a type") }
        let object = frame["object"] ?? .null
        switch kind {
        case "BOOKMARK":
            return .bookmark(resourceVersion: object["metadata"]?["resourceVersion"]?.stringValue ?? "")
        case "ERROR":
            guard case .object = object else { throw KubeAPIError.decoding("watch ERROR event without a Status") }
            let code = Int(object["code"]?.intValue ?? 500)
            throw KubeAPIError.from(statusCode: code, body: JSONText.bytes(object), retryAfterHeader: nil)
        case "ADDED", "MODIFIED", "DELETED":
            let decoded = try decodeObject(T.self, from: object)
            switch kind {
            case "ADDED": return .added(decoded)
            case "MODIFIED": return .modified(decoded)
            default: return .deleted(decoded)
            }
        default:
            throw KubeAPIError.decoding("unknown watch event type \(kind)")
        }
    }
}
