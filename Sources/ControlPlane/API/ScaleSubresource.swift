import KubeModel

/// Where a kind keeps its replica counts, for the `scale` subresource: a CRD's declared paths,
/// or spec.replicas/status.replicas/spec.selector for Deployments and ReplicaSets.
struct ScalePaths: Sendable {
    var spec: [String]
    var status: [String]
    var selector: [String]?
    /// Built-ins keep a LabelSelector object at the selector path; CRDs a selector string.
    var selectorIsObject: Bool

    static func components(_ jsonPath: String) -> [String] { jsonPath.split(separator: ".").map(String.init) }
}

extension ServedResource {
    var scalePaths: ScalePaths? {
        if let s = scale {
            return ScalePaths(
                spec: ScalePaths.components(s.specReplicasPath), status: ScalePaths.components(s.statusReplicasPath),
                selector: s.labelSelectorPath.map(ScalePaths.components), selectorIsObject: false)
        }
        if schema == nil && (kind == "Deployment" || kind == "ReplicaSet") {
            return ScalePaths(spec: ["spec", "replicas"], status: ["status", "replicas"], selector: ["spec", "selector"], selectorIsObject: true)
        }
        return nil
    }
}

extension APIHandler {
    /// GET, PUT and PATCH of `autoscaling/v1` Scale; writes change only the replica count.
    func scale(_ resource: ServedResource, _ path: ResourcePath, _ name: String, _ paths: ScalePaths, _ r: APIRequest) async throws -> APIResponse {
        guard let object = await store.find(try key(resource, path.namespace, name)) else {
            throw APIError.notFound(resource.plural, name, group: resource.group)
        }
        let current = Self.scaleObject(object, paths)
        let requested: JSONValue
        switch r.method {
        case "GET": return APIResponse(status: 200, body: current)
        case "PUT": requested = try decodeBody(r)
        case "PATCH": requested = try Self.applyPatch(try decodeBody(r), to: current, resource, r)
        default: throw APIError(code: 405, reason: "MethodNotAllowed", message: "\(r.method) is not supported on the scale subresource")
        }
        guard let replicas = requested["spec"]?["replicas"]?.intValue, replicas >= 0, replicas <= Int64(Int32.max) else {
            throw APIError.invalid(
                kind: "Scale", name: name, group: "autoscaling",
                [FieldError(.invalid, "spec.replicas", value: requested["spec"]?["replicas"] ?? .null, "must be a non-negative integer")])
        }
        var updated = Self.setting(object, at: paths.spec, to: .int(replicas))
        if let rv = requested["metadata"]?["resourceVersion"], r.method == "PUT" {
            updated = Self.withResourceVersion(updated, rv)
        }
        let mainPath = ResourcePath(group: path.group, version: path.version, plural: path.plural, namespace: path.namespace, name: name, subresource: nil)
        let written = try await write(resource, mainPath, name, updated, r, tracking: .update)
        guard written.status == 200 else { return written }
        return APIResponse(status: 200, body: Self.scaleObject(written.body, paths), warnings: written.warnings)
    }

    static func scaleObject(_ o: JSONValue, _ paths: ScalePaths) -> JSONValue {
        func at(_ p: [String]) -> JSONValue? { p.reduce(Optional(o)) { $0?[$1] } }
        let meta = o["metadata"]
        var status = JSONObject([("replicas", at(paths.status) ?? .int(0))])
        if let p = paths.selector, let selector = at(p) {
            status["selector"] = paths.selectorIsObject ? .string(LabelSelector.string(fromObject: selector)) : selector
        }
        var m = JSONObject()
        for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { if let v = meta?[k] { m[k] = v } }
        return .object(
            JSONObject([
                ("kind", "Scale"), ("apiVersion", "autoscaling/v1"), ("metadata", .object(m)),
                ("spec", .object(JSONObject([("replicas", at(paths.spec) ?? .int(0))]))), ("status", .object(status)),
            ]))
    }

    static func setting(_ o: JSONValue, at path: [String], to value: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        var obj = o.objectValue ?? JSONObject()
        obj[head] = setting(obj[head] ?? .object(JSONObject()), at: Array(path.dropFirst()), to: value)
        return .object(obj)
    }
}
