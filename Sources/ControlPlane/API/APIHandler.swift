import Foundation
import KubeModel

/// Kubernetes REST semantics over the object store, independent of any transport: resolves
/// the resource, decodes and validates bodies, maintains metadata (uid, creationTimestamp,
/// generation, resourceVersion, generateName), enforces optimistic concurrency, applies merge
/// and JSON patches, honours finalizers on delete, serves the status subresource, and turns
/// CustomResourceDefinitions into served resources. Clock and identifiers are injected.
public actor APIHandler {
    let store: ObjectStore
    var registry = ResourceRegistry()
    let now: @Sendable () -> Timestamp
    let newUID: @Sendable () -> String
    /// Answers TokenReviews and issues ServiceAccount tokens; nil refuses both.
    var authenticator: Authenticator?
    /// Where the local cluster keeps the logs of Pods it runs as processes (`pods/NAME/log`).
    var podLogDirectory: URL?

    public init(
        store: ObjectStore, now: @escaping @Sendable () -> Timestamp = { Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) },
        newUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }
    ) async throws(StoreError) {
        self.store = store
        self.now = now
        self.newUID = newUID
        // CRDs stored before a restart are served again at once.
        for crd in await store.list(prefix: StoreKey.prefix(resource: "apiextensions.k8s.io/customresourcedefinitions", namespace: nil)).items {
            if case .success(let served) = ResourceRegistry.resources(fromCRD: crd) { for r in served { registry.add(r) } }
        }
    }

    public var servedResources: [ServedResource] { registry.all }

    public func use(_ authenticator: Authenticator) { self.authenticator = authenticator }

    public func usePodLogs(_ directory: URL) { podLogDirectory = directory }

    public func handle(_ request: APIRequest) async -> APIResponse {
        do {
            return try await route(request)
        } catch let e as APIError {
            return e.response
        } catch let e as StoreError {
            return Self.map(e).response
        } catch {
            return APIError(code: 500, reason: "InternalError", message: "\(error)").response
        }
    }

    static func map(_ e: StoreError) -> APIError {
        switch e {
        case .notFound(let k): return APIError(code: 404, reason: "NotFound", message: "\(k) not found")
        case .alreadyExists(let k): return APIError(code: 409, reason: "AlreadyExists", message: "\(k) already exists")
        case .conflict(let k, _):
            return APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(k): the object has been modified; please apply your changes to the latest version and try again")
        case .gone: return APIError(code: 410, reason: "Expired", message: e.description)
        case .storage(let m): return APIError(code: 500, reason: "InternalError", message: m)
        }
    }

    private func route(_ r: APIRequest) async throws -> APIResponse {
        guard let path = ResourcePath.parse(r.path) else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(r.path))")
        }
        guard let resource = registry.lookup(group: path.group, version: path.version, plural: path.plural) else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(path.group)/\(path.version) \(path.plural))")
        }
        if resource.review { return try await review(resource, path, r) }
        if resource.namespaced == false && path.namespace != nil {
            throw APIError.badRequest("\(resource.kind) is cluster-scoped; drop the namespace from the path")
        }
        if let name = path.name, let problem = resource.nameRule.problems(name).first, resource.plural != "events" {
            throw APIError.badRequest("invalid resource name \"\(name)\": \(problem)")
        }
        if path.subresource == "scale", let name = path.name {
            guard let paths = resource.scalePaths else { throw APIError(code: 404, reason: "NotFound", message: "\(resource.plural) has no scale subresource") }
            return try await scale(resource, path, name, paths, r)
        }
        if path.subresource == "log", resource.kind == "Pod", resource.schema == nil, let name = path.name {
            guard r.method == "GET" else { throw APIError(code: 405, reason: "MethodNotAllowed", message: "pod logs can only be read") }
            return try await podLog(path, name, r)
        }
        if path.subresource == "token", resource.kind == "ServiceAccount", resource.schema == nil, let name = path.name {
            guard r.method == "POST" else { throw APIError(code: 405, reason: "MethodNotAllowed", message: "tokens can only be created") }
            return try await requestToken(path, name, r)
        }
        if path.subresource == "binding", resource.kind == "Pod", resource.schema == nil, let name = path.name {
            guard r.method == "POST" else { throw APIError(code: 405, reason: "MethodNotAllowed", message: "bindings can only be created") }
            return try await bind(path, name, r)
        }
        if let sub = path.subresource, sub != "status" {
            throw APIError(code: 404, reason: "NotFound", message: "\(resource.plural) has no subresource \"\(sub)\" here")
        }
        if path.subresource == "status" && !resource.statusSubresource {
            throw APIError(code: 404, reason: "NotFound", message: "\(resource.plural) has no status subresource")
        }
        switch (r.method, path.name) {
        case ("GET", nil): return try await list(resource, path, r)
        case ("GET", let name?):
            let object = try await get(resource, path.namespace, name)
            if r.wantsTable && path.subresource == nil {
                return APIResponse(status: 200, body: TablePrinter.table([object], resource, resourceVersion: nil, now: now()))
            }
            return APIResponse(status: 200, body: object)
        case ("POST", nil):
            var (value, warnings) = try admit(try decodeBody(r), resource, namespace: path.namespace, strict: r.query["fieldValidation"] == "Strict")
            if resource.kind == "Pod" && resource.schema == nil { value = PodAdmission.admit(value) }
            return try await create(resource, path, value, warnings: warnings, r, tracking: .update)
        case ("PUT", let name?): return try await replace(resource, path, name, r)
        case ("PATCH", let name?): return try await patch(resource, path, name, r)
        case ("DELETE", let name?): return try await delete(resource, path.namespace, name, options: try DeleteOptions(r))
        case ("DELETE", nil): return try await deleteCollection(resource, path, r)
        default:
            throw APIError(code: 405, reason: "MethodNotAllowed", message: "\(r.method) is not supported on \(r.path)")
        }
    }

    // MARK: Reads

    func key(_ resource: ServedResource, _ namespace: String?, _ name: String) throws -> StoreKey {
        if resource.namespaced && namespace == nil { throw APIError.badRequest("\(resource.kind) is namespaced: the path needs /namespaces/{namespace}/") }
        return StoreKey(resource: resource.storeResource, namespace: resource.namespaced ? namespace : nil, name: name)
    }

    private func get(_ resource: ServedResource, _ namespace: String?, _ name: String) async throws -> JSONValue {
        guard let found = await store.find(try key(resource, namespace, name)) else {
            throw APIError.notFound(resource.plural, name, group: resource.group)
        }
        return resource.present(found)
    }

    private func list(_ resource: ServedResource, _ path: ResourcePath, _ r: APIRequest) async throws -> APIResponse {
        let prefix = resource.storePrefix(namespace: path.namespace)
        let filter = try Self.filter(r, resource)
        let limit = try ListPage.limit(r.query["limit"])
        var token: ListPage.Token?
        if let text = r.query["continue"], !text.isEmpty {
            let t = try ListPage.decode(text, prefix: prefix)
            if t.rv < (await store.compactedRevision) {
                throw APIError(code: 410, reason: "Expired", message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            }
            token = t
        }
        // The first page is the current state, read in batches (each page costs about its own
        // size). Later pages show the first page's revision, as Kubernetes' continue does: if
        // anything changed since, they come from the store's snapshot at that revision.
        let filtered = r.query["labelSelector"]?.isEmpty == false || r.query["fieldSelector"]?.isEmpty == false
        var snapshot: [StoredObject]?
        if let token, token.rv < (await store.revision) {
            snapshot = try await store.entries(prefix: prefix, after: token.start, at: token.rv)
        }
        var items: [StoredObject] = []
        var next: String?
        var remaining: Int?
        var cursor = token?.start
        var revision: Int64 = 0
        let batch = limit.map { max($0 + 1, 256) }
        scan: while true {
            let entries: [StoredObject]
            if let snapshot {
                entries = snapshot
            } else {
                let (current, rev) = await store.entries(prefix: prefix, after: cursor, limit: batch)
                if revision == 0 { revision = rev }
                entries = current
            }
            for (index, e) in entries.enumerated() {
                guard !filtered || filter(e.value) else { continue }
                if let limit, items.count == limit {
                    next = cursor
                    if !filtered { remaining = snapshot != nil ? entries.count - index : await store.count(prefix: prefix, after: cursor) }
                    break scan
                }
                items.append(e)
                cursor = e.key
            }
            guard snapshot == nil, let batch, entries.count == batch else { break }
            cursor = entries.last?.key
        }
        let listRV = String(token?.rv ?? revision)
        let nextToken = next.map { ListPage.encode(.init(rv: token?.rv ?? revision, start: $0)) }
        if r.wantsTable {
            return APIResponse(status: 200, body: TablePrinter.table(items.map { resource.conversion.fromStored($0.value) }, resource, resourceVersion: listRV, now: now(), continue: nextToken))
        }
        var meta = JSONObject([("resourceVersion", .string(listRV))])
        if let nextToken {
            meta["continue"] = .string(nextToken)
            if let remaining { meta["remainingItemCount"] = .int(Int64(remaining)) }
        }
        return listResponse(items, resource, metadata: meta)
    }

    /// A List document whose items are spliced in from their stored encoding, so a large
    /// list costs a copy of bytes rather than a serialisation of every object.
    private func listResponse(_ items: [StoredObject], _ resource: ServedResource, metadata: JSONObject) -> APIResponse {
        let header = JSONObject([
            ("kind", .string(resource.kind + "List")), ("apiVersion", .string(resource.apiVersion)), ("metadata", .object(metadata)),
        ])
        var out = JSONText.bytes(.object(header))
        out.removeLast()  // the closing brace; items follow
        out.append(contentsOf: #","items":["#.utf8)
        out.reserveCapacity(out.count + items.reduce(0) { $0 + $1.encoded.count + 1 } + 2)
        for (n, item) in items.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            if resource.conversion == .none && item.value["apiVersion"]?.stringValue == resource.apiVersion && item.value["kind"]?.stringValue == resource.kind {
                out.append(contentsOf: item.encoded)
            } else {
                JSONText.append(resource.present(item.value), to: &out)
            }
        }
        out.append(contentsOf: "]}".utf8)
        return APIResponse(status: 200, encodedBody: out, summary: .object(header))
    }

    /// The label and field selectors of a list or watch request, as one predicate.
    static func filter(_ r: APIRequest, _ resource: ServedResource) throws(APIError) -> @Sendable (JSONValue) -> Bool {
        var label: LabelSelector?
        if let text = r.query["labelSelector"], !text.isEmpty {
            do {
                label = try LabelSelector(parsing: text)
            } catch {
                throw APIError.badRequest("unable to parse requirement: \(error.message)")
            }
        }
        var field: FieldSelector?
        if let text = r.query["fieldSelector"], !text.isEmpty { field = try FieldSelector(parsing: text, kind: resource.kind, conversion: resource.conversion, extra: resource.selectableFields) }
        return { [label, field] o in (label?.matches(labels(o)) ?? true) && (field?.matches(o) ?? true) }
    }

    static func labels(_ o: JSONValue) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in o["metadata"]?["labels"]?.objectValue ?? JSONObject() { if let s = v.stringValue { out[k] = s } }
        return out
    }


    // MARK: Writes

    func decodeBody(_ r: APIRequest) throws -> JSONValue {
        guard !r.body.isEmpty else { throw APIError.badRequest("the request has no body") }
        if let type = r.contentType, type.contains("protobuf") {
            do {
                return try ProtobufDecoder.decode(r.body)
            } catch let e as ProtobufDecoder.Failure {
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: e.message)
            }
        }
        if let type = r.contentType, type.contains("cbor") {
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body content type \(type) is not supported: send application/json or application/yaml")
        }
        if r.contentType?.contains("yaml") == true {
            guard let text = String(validating: r.body, as: UTF8.self) else { throw APIError.badRequest("the body is not UTF-8") }
            do {
                let docs = try YAMLDocuments.read(text)
                guard docs.count == 1 else { throw APIError.badRequest("the body must hold exactly one YAML document") }
                return docs[0].value
            } catch let e as YAMLReadError {
                throw APIError.badRequest("invalid YAML: \(e)")
            }
        }
        do {
            return try JSONText.parse(r.body)
        } catch {
            throw APIError.badRequest("invalid JSON: \(error)")
        }
    }

    /// Checks kind and apiVersion, fills the namespace, and defaults, prunes and validates the
    /// object against its schema (custom resources) and the metadata rules (all resources).
    /// `old` is the object an update replaces, for transition rules (`oldSelf`).
    private func admit(_ body: JSONValue, _ resource: ServedResource, namespace: String?, strict: Bool, validate: Bool = true, old: JSONValue? = nil) throws -> (JSONValue, [String]) {
        guard case .object(var o) = body else { throw APIError.badRequest("the body must be a JSON object, not \(body.typeName)") }
        if let kind = o["kind"]?.stringValue, kind != resource.kind {
            throw APIError.badRequest("the body's kind \(kind) does not match the \(resource.kind) endpoint")
        }
        if let v = o["apiVersion"]?.stringValue, v != resource.apiVersion {
            throw APIError.badRequest("the body's apiVersion \(v) does not match \(resource.apiVersion)")
        }
        o["kind"] = .string(resource.kind)
        o["apiVersion"] = .string(resource.apiVersion)
        var meta = o["metadata"]?.objectValue ?? JSONObject()
        if resource.namespaced {
            // An empty namespace in the body means "unset" (Helm sends one).
            if meta["namespace"]?.stringValue == "" { meta["namespace"] = nil }
            if let ns = meta["namespace"]?.stringValue, let pathNS = namespace, ns != pathNS {
                throw APIError.badRequest("the namespace of the object (\(ns)) does not match the namespace of the request (\(pathNS))")
            }
            meta["namespace"] = namespace.map(JSONValue.string) ?? meta["namespace"]
        } else {
            meta["namespace"] = nil
        }
        o["metadata"] = .object(meta)
        var value = JSONValue.object(o)
        var warnings: [String] = []
        let name = meta["name"]?.stringValue ?? meta["generateName"]?.stringValue ?? ""
        var errors = ObjectMetaValidation.validate(.object(meta), namespaced: resource.namespaced, nameRule: resource.nameRule)
        if let schema = resource.schema {
            let (pruned, unknown) = SchemaPruner.prune(value, schemaWithoutMeta(schema))
            if !unknown.isEmpty {
                if strict { throw APIError.badRequest("strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", ")) }
                warnings = unknown.map { "unknown field \"\($0)\"" }
            }
            value = SchemaDefaulter.apply(pruned, schema)
            errors += SchemaValidator(schema: schema).validateResource(value, old: old)
        }
        if validate && !errors.isEmpty { throw APIError.invalid(kind: resource.kind, name: name, group: resource.group, errors) }
        return (value, warnings)
    }

    /// The schema pruning uses: `apiVersion`, `kind` and `metadata` stay at the root whatever
    /// the CRD's schema declares (metadata is validated as ObjectMeta instead), as in Kubernetes.
    private func schemaWithoutMeta(_ s: JSONSchemaProps) -> JSONSchemaProps {
        var s = s
        guard s.preserveUnknownFields != true else { return s }
        var props = s.properties ?? [:]
        var meta = props["metadata"] ?? JSONSchemaProps(type: "object")
        meta.preserveUnknownFields = true
        props["metadata"] = meta
        for key in ["apiVersion", "kind"] where props[key] == nil { props[key] = JSONSchemaProps(type: "string") }
        s.properties = props
        return s
    }

    /// How a write attributes fields in managedFields.
    enum FieldTracking {
        /// The manager owns what it changed.
        case update
        /// Server-side apply already computed managedFields.
        case applied
    }

    private func fieldContext(_ resource: ServedResource, _ r: APIRequest, subresource: String?) -> ManagedFields.Context {
        ManagedFields.Context(manager: r.fieldManager, apiVersion: resource.apiVersion, time: now().rfc3339, subresource: subresource, rules: resource.listRules)
    }

    /// kube-apiserver's generateName suffix: five characters without vowels or look-alikes.
    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    private func create(
        _ resource: ServedResource, _ path: ResourcePath, _ admitted: JSONValue, warnings: [String], _ r: APIRequest, tracking: FieldTracking
    ) async throws -> APIResponse {
        try await preventEscalation(resource, admitted, namespace: path.namespace, r)
        var value = admitted
        guard case .object(var o) = value else { throw APIError.badRequest("the body must be an object") }
        var meta = o["metadata"]?.objectValue ?? JSONObject()
        if meta["name"]?.stringValue == nil {
            guard let prefix = meta["generateName"]?.stringValue else {
                throw APIError.invalid(kind: resource.kind, name: "", group: resource.group, [FieldError(.required, "metadata.name", "name or generateName is required")])
            }
            // Five characters from kube-apiserver's alphabet (27^5 names per prefix); a name
            // already taken is drawn again, up to eight times, as kube-apiserver does since
            // 1.32 (RetryGenerateName), so a ReplicaSet creating hundreds of Pods never sees a
            // spurious AlreadyExists.
            for _ in 0..<8 {
                let candidate = prefix + Self.randomSuffix()
                meta["name"] = .string(candidate)
                if await store.find(try key(resource, meta["namespace"]?.stringValue, candidate)) == nil { break }
            }
        }
        if resource.namespaced && meta["namespace"] == nil { throw APIError.badRequest("a namespace is required for \(resource.kind)") }
        meta["uid"] = .string(newUID())
        meta["creationTimestamp"] = .string(now().rfc3339)
        meta["generation"] = .int(1)
        meta["resourceVersion"] = nil
        meta["deletionTimestamp"] = nil
        o["metadata"] = .object(meta)
        if resource.statusSubresource && resource.schema != nil { o["status"] = nil }  // status is written through /status
        if resource.kind == "Namespace" { o["status"] = .object(JSONObject([("phase", "Active")])) }
        value = .object(o)
        if tracking == .update { value = ManagedFields.recordUpdate(old: nil, new: value, fieldContext(resource, r, subresource: nil)) }
        if resource.kind == "CustomResourceDefinition" { value = try establish(value) }
        let name = meta["name"]!.stringValue!
        let k = try key(resource, meta["namespace"]?.stringValue, name)
        if await store.find(k) != nil {
            throw APIError(code: 409, reason: "AlreadyExists", message: "\(resource.plural).\(resource.group) \"\(name)\" already exists")
        }
        if resource.namespaced, let ns = meta["namespace"]?.stringValue {
            guard let namespace = await store.find(StoreKey(resource: "core/namespaces", namespace: nil, name: ns)) else {
                throw APIError.notFound("namespaces", ns)
            }
            if namespace["metadata"]?["deletionTimestamp"] != nil {
                throw APIError(
                    code: 403, reason: "Forbidden",
                    message: "\(resource.plural) \"\(name)\" is forbidden: unable to create new content in namespace \(ns) because it is being terminated")
            }
        }
        if r.isDryRun { return APIResponse(status: 201, body: resource.withTypeMeta(value), warnings: warnings) }
        let stored = try await store.create(k, resource.conversion.toStored(value))
        if resource.kind == "CustomResourceDefinition", case .success(let served) = ResourceRegistry.resources(fromCRD: stored) {
            for s in served { registry.add(s) }
        }
        return APIResponse(status: 201, body: resource.present(stored), warnings: warnings)
    }

    /// Accepts a CRD: validates what it defines and marks it Established and NamesAccepted.
    private func establish(_ crd: JSONValue) throws -> JSONValue {
        switch ResourceRegistry.resources(fromCRD: crd) {
        case .failure(let e):
            throw APIError.invalid(kind: "CustomResourceDefinition", name: crd["metadata"]?["name"]?.stringValue ?? "", group: "apiextensions.k8s.io", [e])
        case .success:
            var o = crd.objectValue!
            let time = JSONValue.string(now().rfc3339)
            let conditions: [JSONValue] = ["NamesAccepted", "Established"].map { t in
                .object(JSONObject([("type", .string(t)), ("status", "True"), ("lastTransitionTime", time), ("reason", .string(t == "Established" ? "InitialNamesAccepted" : "NoConflicts")), ("message", .string(t == "Established" ? "the initial names have been accepted" : "no conflicts found"))]))
            }
            o["status"] = .object(JSONObject([("conditions", .array(conditions)), ("acceptedNames", o["spec"]?["names"] ?? .null)]))
            return .object(o)
        }
    }

    private func replace(_ resource: ServedResource, _ path: ResourcePath, _ name: String, _ r: APIRequest) async throws -> APIResponse {
        let body = try decodeBody(r)
        if let bodyName = body["metadata"]?["name"]?.stringValue, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        return try await write(resource, path, name, body, r, tracking: .update)
    }

    func patch(_ resource: ServedResource, _ path: ResourcePath, _ name: String, _ r: APIRequest) async throws -> APIResponse {
        if r.query["force"] != nil && r.mediaType != "application/apply-patch+yaml" {
            throw APIError.badRequest("force may only be set for apply patches (application/apply-patch+yaml)")
        }
        // A patch or apply that names no resourceVersion is retried on a conflict, as
        // kube-apiserver's GuaranteedUpdate does: another writer got in between the read and
        // the write (this actor suspends while the store works), not the client's own race.
        let pinned = (try? decodeBody(r))?["metadata"]?["resourceVersion"] != nil
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await patchOnce(resource, path, name, r)
            } catch StoreError.conflict(let k, let rv) {
                if pinned || attempt >= 5 { throw StoreError.conflict(k, current: rv) }
            }
        }
    }

    private func patchOnce(_ resource: ServedResource, _ path: ResourcePath, _ name: String, _ r: APIRequest) async throws -> APIResponse {
        if r.mediaType == "application/apply-patch+yaml" { return try await serverSideApply(resource, path, name, r) }
        // The patch type is checked before the object is looked up, as the API server does.
        if let e = Self.unsupportedPatchType(resource, r) { throw e }
        let current = try await get(resource, path.namespace, name)
        let patch = try decodeBody(r)
        let patched = try Self.applyPatch(patch, to: current, resource, r)
        // A patch applies to what was read: keep its resourceVersion unless the patch sets one.
        let expected = patch["metadata"]?["resourceVersion"] != nil ? patched : current
        return try await write(resource, path, name, Self.withResourceVersion(patched, expected["metadata"]?["resourceVersion"]), r, tracking: .update)
    }

    static func unsupportedPatchType(_ resource: ServedResource, _ r: APIRequest) -> APIError? {
        switch r.mediaType {
        case "application/merge-patch+json"?, "application/json-patch+json"?: return nil
        case "application/strategic-merge-patch+json"? where resource.schema == nil: return nil
        case "application/strategic-merge-patch+json"?:
            return APIError(
                code: 415, reason: "UnsupportedMediaType",
                message: "strategic merge patch is not supported for custom resources (\(resource.kind)); use application/merge-patch+json, application/json-patch+json or server-side apply")
        default:
            return APIError(
                code: 415, reason: "UnsupportedMediaType",
                message: "patch content type \(r.contentType ?? "none") is not supported; use application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json (built-in kinds) or application/apply-patch+yaml")
        }
    }

    /// Merge, JSON or strategic merge patch (the last for built-in kinds only).
    static func applyPatch(_ patch: JSONValue, to current: JSONValue, _ resource: ServedResource, _ r: APIRequest) throws(APIError) -> JSONValue {
        let patched: JSONValue
        switch r.mediaType {
        case "application/merge-patch+json"?:
            patched = JSONPatch.merge(current, patch)
        case "application/json-patch+json"?:
            do {
                patched = try JSONPatch.apply(current, operations: patch)
            } catch {
                throw APIError(code: 422, reason: "Invalid", message: "the JSON patch could not be applied: \(error.message)")
            }
        case "application/strategic-merge-patch+json"? where resource.schema == nil:
            do {
                patched = try StrategicMergePatch.apply(current, patch, rules: resource.listRules)
            } catch {
                throw APIError(code: 422, reason: "Invalid", message: "the strategic merge patch could not be applied: \(error.message)")
            }
        default:
            throw unsupportedPatchType(resource, r) ?? APIError(code: 415, reason: "UnsupportedMediaType", message: "unsupported patch type")
        }
        return patched
    }

    /// The body with `metadata.resourceVersion` set to `rv` (removed when nil): the version a
    /// write is conditioned on.
    static func withResourceVersion(_ body: JSONValue, _ rv: JSONValue?) -> JSONValue {
        guard case .object(var o) = body else { return body }
        var meta = o["metadata"]?.objectValue ?? JSONObject()
        meta["resourceVersion"] = rv
        o["metadata"] = .object(meta)
        return .object(o)
    }

    /// Server-side apply: creates the object if needed, otherwise merges the applied
    /// configuration under field ownership; 409 with one cause per conflicting field.
    private func serverSideApply(_ resource: ServedResource, _ path: ResourcePath, _ name: String, _ r: APIRequest) async throws -> APIResponse {
        guard let manager = r.query["fieldManager"], !manager.isEmpty else {
            throw APIError.badRequest("fieldManager is required for apply requests (application/apply-patch+yaml)")
        }
        var applied = try decodeBody(r)
        guard case .object(var o) = applied else { throw APIError.badRequest("the applied configuration must be an object, not \(applied.typeName)") }
        guard o["apiVersion"]?.stringValue != nil, o["kind"]?.stringValue != nil else {
            throw APIError.badRequest("the applied configuration needs apiVersion and kind")
        }
        if let bodyName = o["metadata"]?["name"]?.stringValue, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        // The main resource cannot set status and /status sets nothing else.
        if resource.statusSubresource {
            if path.subresource == "status" {
                o = JSONObject([("apiVersion", o["apiVersion"]!), ("kind", o["kind"]!), ("metadata", o["metadata"] ?? .object(JSONObject())), ("status", o["status"] ?? .object(JSONObject()))])
            } else {
                o["status"] = nil
            }
        }
        applied = .object(o)
        _ = try admit(applied, resource, namespace: path.namespace, strict: r.query["fieldValidation"] == "Strict", validate: false)
        let k = try key(resource, path.namespace, name)
        let live = await store.find(k)
        if live == nil && path.subresource != nil { throw APIError.notFound(resource.plural, name, group: resource.group) }
        let context = ManagedFields.Context(
            manager: manager, apiVersion: resource.apiVersion, time: now().rfc3339, subresource: path.subresource, rules: resource.listRules)
        let merged: JSONValue
        do {
            switch try ManagedFields.apply(live: live.map { resource.present($0) }, applied: applied, force: ["true", "1"].contains(r.query["force"] ?? ""), context) {
            case .success(let m): merged = m
            case .failure(let conflicts): throw Self.conflictError(conflicts.conflicts, resource: resource, name: name)
            }
        } catch let e as JSONPatch.Failure {
            throw APIError(code: 422, reason: "Invalid", message: "the applied configuration could not be merged: \(e.message)")
        }
        guard let live else {
            var body = merged
            if case .object(var m) = body {
                var meta = m["metadata"]?.objectValue ?? JSONObject()
                meta["name"] = .string(name)
                m["metadata"] = .object(meta)
                body = .object(m)
            }
            let (value, warnings) = try admit(body, resource, namespace: path.namespace, strict: r.query["fieldValidation"] == "Strict")
            return try await create(resource, path, value, warnings: warnings, r, tracking: .applied)
        }
        // Apply does not take optimistic concurrency from the live object, only from the body.
        let body = Self.withResourceVersion(merged, applied["metadata"]?["resourceVersion"] ?? live["metadata"]?["resourceVersion"])
        return try await write(resource, path, name, body, r, tracking: .applied)
    }

    static func conflictError(_ conflicts: [ManagedFields.Conflict], resource: ServedResource, name: String) -> APIError {
        let causes: [JSONValue] = conflicts.map { c in
            .object(JSONObject([("reason", "FieldManagerConflict"), ("message", .string("conflict with \"\(c.manager)\" using \(c.apiVersion)")), ("field", .string(c.field))]))
        }
        let noun = conflicts.count == 1 ? "conflict" : "conflicts"
        let list = conflicts.map(\.description).joined(separator: "\n- ")
        return APIError(
            code: 409, reason: "Conflict",
            message: "Apply failed with \(conflicts.count) \(noun): \(conflicts.count == 1 ? list : "\n- " + list)",
            details: .object(JSONObject([("name", .string(name)), ("group", .string(resource.group)), ("kind", .string(resource.plural)), ("causes", .array(causes))])))
    }

    /// Shared by PUT and PATCH: preserves what clients may not change, bumps generation on spec
    /// changes, and with a status subresource keeps the main resource and status apart.
    func write(_ resource: ServedResource, _ path: ResourcePath, _ name: String, _ body: JSONValue, _ r: APIRequest, tracking: FieldTracking) async throws -> APIResponse {
        let subresource = path.subresource
        let k = try key(resource, path.namespace, name)
        guard let storedBefore = await store.find(k) else { throw APIError.notFound(resource.plural, name, group: resource.group) }
        let current = resource.conversion.fromStored(storedBefore)
        var (value, warnings) = try admit(body, resource, namespace: path.namespace, strict: r.query["fieldValidation"] == "Strict", old: current)
        if path.subresource == nil { try await preventEscalation(resource, value, namespace: path.namespace, r) }
        guard case .object(var o) = value, case .object(let old) = current else { throw APIError.badRequest("the body must be an object") }
        var meta = o["metadata"]?.objectValue ?? JSONObject()
        let oldMeta = old["metadata"]?.objectValue ?? JSONObject()
        if meta["resourceVersion"]?.stringValue == "" { meta["resourceVersion"] = nil }  // unset, as protobuf clients send it
        let expected = meta["resourceVersion"]?.stringValue.flatMap { Int64($0) }
        if meta["resourceVersion"] != nil && expected == nil { throw APIError.badRequest("metadata.resourceVersion must be a decimal string") }
        for immutable in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"] { meta[immutable] = oldMeta[immutable] }
        if resource.statusSubresource {
            if subresource == "status" {
                // Only status changes through /status.
                var kept = old
                kept["status"] = o["status"]
                o = kept
                var m = oldMeta
                m["resourceVersion"] = meta["resourceVersion"]
                m["managedFields"] = meta["managedFields"]
                meta = m
            } else {
                o["status"] = old["status"]
            }
        }
        let specChanged = subresource != "status" && (o["spec"] != old["spec"] || (old["spec"] == nil && Self.withoutBookkeeping(o) != Self.withoutBookkeeping(old)))
        if specChanged { meta["generation"] = .int((oldMeta["generation"]?.intValue ?? 0) + 1) }
        // A deleted object whose last finalizer is removed goes away, unless it is a Pod still
        // in its grace period (its kubelet deletes it once the containers have stopped).
        let finalizers = meta["finalizers"]?.arrayValue ?? []
        let remove = oldMeta["deletionTimestamp"] != nil && finalizers.isEmpty && (oldMeta["deletionGracePeriodSeconds"]?.intValue ?? 0) == 0
        o["metadata"] = .object(meta)
        value = .object(o)
        if tracking == .update { value = ManagedFields.recordUpdate(old: current, new: value, fieldContext(resource, r, subresource: subresource)) }
        if r.isDryRun { return APIResponse(status: 200, body: resource.withTypeMeta(value), warnings: warnings) }
        if remove {
            let deleted = try await store.delete(k, expectedRevision: expected)
            return APIResponse(status: 200, body: resource.present(deleted), warnings: warnings)
        }
        // A write that changes nothing (a GitOps tool re-applying the same manifest) is not
        // stored: the resourceVersion stays and watchers see no event, as kube-apiserver
        // skips unchanged objects.
        if expected.map({ $0 == ObjectStore.resourceVersion(of: current) }) ?? true, Self.withoutWriteStamps(value) == Self.withoutWriteStamps(current) {
            return APIResponse(status: 200, body: resource.present(storedBefore), warnings: warnings)
        }
        let stored = try await store.update(k, resource.conversion.toStored(value), expectedRevision: expected)
        return APIResponse(status: 200, body: resource.present(stored), warnings: warnings)
    }

    /// The object without what every write stamps (resourceVersion, managedFields times).
    static func withoutWriteStamps(_ value: JSONValue) -> JSONValue {
        guard case .object(var o) = value, var meta = o["metadata"]?.objectValue else { return value }
        meta["resourceVersion"] = nil
        if let fields = meta["managedFields"]?.arrayValue {
            meta["managedFields"] = .array(fields.map { entry in
                guard case .object(var e) = entry else { return entry }
                e["time"] = nil
                return .object(e)
            })
        }
        o["metadata"] = .object(meta)
        return .object(o)
    }

    static func withoutBookkeeping(_ o: JSONObject) -> JSONObject {
        var c = o
        c["metadata"] = nil
        c["status"] = nil
        return c
    }

    /// `deletecollection`: deletes every object the selectors match, each as a single delete
    /// would (finalizers, propagation), and answers with the list of what was deleted.
    private func deleteCollection(_ resource: ServedResource, _ path: ResourcePath, _ r: APIRequest) async throws -> APIResponse {
        let prefix = resource.storePrefix(namespace: path.namespace)
        let filter = try Self.filter(r, resource)
        let options = try DeleteOptions(r)
        var deleted: [JSONValue] = []
        for entry in await store.entries(prefix: prefix).items where filter(entry.value) {
            guard let name = entry.value["metadata"]?["name"]?.stringValue else { continue }
            do {
                deleted.append(try await delete(resource, entry.value["metadata"]?["namespace"]?.stringValue, name, options: options).body)
            } catch let e as APIError where e.code == 404 {
                continue  // deleted meanwhile by someone else
            }
        }
        let list = JSONObject([
            ("kind", .string(resource.kind + "List")), ("apiVersion", .string(resource.apiVersion)),
            ("metadata", .object(JSONObject([("resourceVersion", .string(String(await store.revision)))]))), ("items", .array(deleted)),
        ])
        return APIResponse(status: 200, body: .object(list))
    }

    func delete(_ resource: ServedResource, _ namespace: String?, _ name: String, options: DeleteOptions) async throws -> APIResponse {
        let k = try key(resource, namespace, name)
        guard let current = await store.find(k) else { throw APIError.notFound(resource.plural, name, group: resource.group) }
        let meta = current["metadata"]
        if let uid = options.uid, uid != meta?["uid"]?.stringValue {
            throw APIError(code: 409, reason: "Conflict", message: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(meta?["uid"]?.stringValue ?? "")")
        }
        if let rv = options.resourceVersion, rv != meta?["resourceVersion"]?.stringValue {
            throw APIError(code: 409, reason: "Conflict", message: "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(meta?["resourceVersion"]?.stringValue ?? "")")
        }
        var finalizers = meta?["finalizers"]?.arrayValue ?? []
        switch options.propagation {
        case .foreground?: if !finalizers.contains("foregroundDeletion") { finalizers.append("foregroundDeletion") }
        case .orphan?: if !finalizers.contains("orphan") { finalizers.append("orphan") }
        case .background?, nil: break
        }
        // Namespaces empty first: the garbage collector removes their contents, then them.
        let terminating = resource.kind == "Namespace"
        let grace = Self.podGracePeriod(resource, current, options)
        if !finalizers.isEmpty || terminating || grace.map({ $0 > 0 }) == true {
            guard case .object(var o) = current else { throw APIError.badRequest("corrupt object") }
            var m = o["metadata"]?.objectValue ?? JSONObject()
            let currentGrace = m["deletionGracePeriodSeconds"]?.intValue
            // A shorter grace period than the one running replaces it, as kube-apiserver does.
            let shortens = grace.map { g in currentGrace.map { g < $0 } ?? true } ?? false
            if m["deletionTimestamp"] != nil && m["finalizers"]?.arrayValue ?? [] == finalizers && !shortens {
                return APIResponse(status: grace == nil ? 202 : 200, body: resource.present(current))
            }
            if let grace, shortens {
                m["deletionTimestamp"] = .string(now().adding(seconds: grace).rfc3339)
                m["deletionGracePeriodSeconds"] = .int(grace)
            }
            if m["deletionTimestamp"] == nil { m["deletionTimestamp"] = .string(now().rfc3339) }
            m["finalizers"] = finalizers.isEmpty ? nil : .array(finalizers)
            o["metadata"] = .object(m)
            if terminating { o["status"] = .object(JSONObject([("phase", "Terminating")])) }
            let code = grace.map { $0 > 0 } == true && finalizers.isEmpty ? 200 : 202
            if options.dryRun { return APIResponse(status: code, body: resource.present(.object(o))) }
            let stored = try await store.update(k, .object(o))
            return APIResponse(status: code, body: resource.present(stored))
        }
        if options.dryRun { return APIResponse(status: 200, body: resource.present(current)) }
        let deleted = try await store.delete(k)
        forget(resource, deleted)
        return APIResponse(status: 200, body: resource.present(deleted))
    }

    /// A deleted CRD stops being served.
    func forget(_ resource: ServedResource, _ deleted: JSONValue) {
        if resource.kind == "CustomResourceDefinition", let group = deleted["spec"]?["group"]?.stringValue,
            let plural = deleted["spec"]?["names"]?["plural"]?.stringValue
        {
            registry.remove(group: group, plural: plural)
        }
    }

    /// The grace period a Pod's deletion gets: nil for other kinds; 0 for a Pod no node has
    /// taken (nothing runs to stop); otherwise the request's, else the Pod's own
    /// `terminationGracePeriodSeconds`, else 30 s. A Pod in its grace period stays, marked
    /// with `deletionTimestamp`, until its kubelet deletes it with a grace period of 0.
    static func podGracePeriod(_ resource: ServedResource, _ pod: JSONValue, _ options: DeleteOptions) -> Int64? {
        guard resource.kind == "Pod", resource.schema == nil else { return nil }
        guard let node = pod["spec"]?["nodeName"]?.stringValue, !node.isEmpty else { return 0 }
        if let phase = pod["status"]?["phase"]?.stringValue, phase == "Succeeded" || phase == "Failed" { return 0 }
        return options.gracePeriodSeconds ?? pod["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30
    }

    static let bindingSuccess: JSONValue = .object(
        JSONObject([("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())), ("status", "Success"), ("code", .int(201))]))

    /// `POST pods/{name}/binding`: what a scheduler writes to put a Pod on a Node. A Pod is
    /// bound once; binding it again is a conflict, as in Kubernetes.
    func bind(_ path: ResourcePath, _ name: String, _ r: APIRequest) async throws -> APIResponse {
        let body = try decodeBody(r)
        guard let node = body["target"]?["name"]?.stringValue, !node.isEmpty else {
            throw APIError.invalid(kind: "Binding", name: name, group: "", [FieldError(.required, "target.name", "the node to bind to is required")])
        }
        if let kind = body["target"]?["kind"]?.stringValue, !kind.isEmpty, kind != "Node" {
            throw APIError.invalid(kind: "Binding", name: name, group: "", [FieldError(.notSupported, "target.kind", value: .string(kind), "supported values: \"Node\"")])
        }
        let pods = registry.lookup(group: "", version: "v1", plural: "pods")!
        let k = try key(pods, path.namespace, name)
        guard let current = await store.find(k), case .object(var o) = current else { throw APIError.notFound("pods", name) }
        if current["metadata"]?["deletionTimestamp"] != nil {
            throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is being deleted, cannot be assigned to a host")
        }
        if let bound = current["spec"]?["nodeName"]?.stringValue, !bound.isEmpty {
            throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is already assigned to node \"\(bound)\"")
        }
        var spec = o["spec"]?.objectValue ?? JSONObject()
        spec["nodeName"] = .string(node)
        o["spec"] = .object(spec)
        if r.isDryRun { return APIResponse(status: 201, body: Self.bindingSuccess) }
        _ = try await store.update(k, .object(o), expectedRevision: ObjectStore.resourceVersion(of: current))
        return APIResponse(status: 201, body: Self.bindingSuccess)
    }
}
