import KubeModel

/// The OpenAPI documents kubectl reads before `apply` (to learn that the server validates
/// fields itself) and for `explain`: `/openapi/v3` lists one document per group version, each
/// with the paths of its resources and the schemas of its kinds; `/openapi/v2` is the same
/// content as one Swagger 2.0 document. Custom resources carry their CRD schema; built-in kinds
/// are described loosely (they keep unknown fields) so clients fall back to their own types.
enum OpenAPI {
    static let objectMetaName = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

    /// `/openapi/v3`: where each group version's document is, with a content hash so clients
    /// cache a document until it changes (a CRD applied or removed).
    static func v3Index(_ resources: [ServedResource]) -> JSONValue {
        var paths = JSONObject()
        for gv in groupVersions(resources) {
            let hash = contentHash(JSONText.serialize(v3Document(group: gv.group, version: gv.version, resources)!))
            paths[gv.path] = .object(JSONObject([("serverRelativeURL", .string("/openapi/v3/\(gv.path)?hash=\(hash)"))]))
        }
        return .object(JSONObject([("paths", .object(paths))]))
    }

    /// `/openapi/v3/apis/{group}/{version}` or `/openapi/v3/api/v1`; nil when nothing is served there.
    static func v3Document(group: String, version: String, _ resources: [ServedResource]) -> JSONValue? {
        let matching = resources.filter { $0.group == group && $0.version == version && !$0.review }
        guard !matching.isEmpty else { return nil }
        var paths = JSONObject()
        var schemas = JSONObject([(objectMetaName, objectMeta(ref: v3Ref))])
        for r in matching {
            for (path, item) in pathItems(r, ref: v3Ref, v2: false) { paths[path] = item }
            schemas[definitionName(r)] = kindSchema(r, ref: v3Ref)
        }
        return .object(
            JSONObject([
                ("openapi", "3.0.0"), ("info", .object(JSONObject([("title", "Kubernetes"), ("version", .string(Discovery.gitVersion))]))),
                ("paths", .object(paths)), ("components", .object(JSONObject([("schemas", .object(schemas))]))),
            ]))
    }

    /// `/openapi/v2`: every served resource in one Swagger 2.0 document.
    static func v2Document(_ resources: [ServedResource]) -> JSONValue {
        var paths = JSONObject()
        var definitions = JSONObject([(objectMetaName, objectMeta(ref: v2Ref))])
        for r in resources where !r.review {
            for (path, item) in pathItems(r, ref: v2Ref, v2: true) { paths[path] = item }
            definitions[definitionName(r)] = kindSchema(r, ref: v2Ref)
        }
        return .object(
            JSONObject([
                ("swagger", "2.0"), ("info", .object(JSONObject([("title", "Kubernetes"), ("version", .string(Discovery.gitVersion))]))),
                ("paths", .object(paths)), ("definitions", .object(definitions)),
            ]))
    }

    // MARK: Pieces

    struct GroupVersion: Hashable {
        var group: String
        var version: String
        var path: String { group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)" }
    }

    static func groupVersions(_ resources: [ServedResource]) -> [GroupVersion] {
        var seen = Set<GroupVersion>()
        return resources.filter { !$0.review }.map { GroupVersion(group: $0.group, version: $0.version) }.filter { seen.insert($0).inserted }
    }

    static func v3Ref(_ name: String) -> String { "#/components/schemas/\(name)" }
    static func v2Ref(_ name: String) -> String { "#/definitions/\(name)" }

    /// `io.k8s.api.apps.v1.Deployment` for built-ins, reversed group for others
    /// (`io.llmops.v1alpha1.LLMDeployment`), as the Kubernetes API server names them.
    static func definitionName(_ r: ServedResource) -> String {
        if r.schema == nil {
            if r.group == "apiextensions.k8s.io" { return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.\(r.version).\(r.kind)" }
            let short = r.group.isEmpty ? "core" : String(r.group.split(separator: ".")[0])
            return "io.k8s.api.\(short).\(r.version).\(r.kind)"
        }
        return r.group.split(separator: ".").reversed().joined(separator: ".") + ".\(r.version).\(r.kind)"
    }

    static func gvk(_ r: ServedResource) -> JSONValue {
        .object(JSONObject([("group", .string(r.group)), ("kind", .string(r.kind)), ("version", .string(r.version))]))
    }

    /// The kind's schema: the CRD's own for custom resources (metadata pointing at ObjectMeta),
    /// an open object for built-ins.
    static func kindSchema(_ r: ServedResource, ref: (String) -> String) -> JSONValue {
        var o: JSONObject
        if let schema = r.schema, case .object(let s) = schema.jsonValue {
            o = s
        } else {
            o = JSONObject([
                ("description", .string("\(r.kind) (\(r.apiVersion)). This server stores built-in kinds as sent and keeps unknown fields.")),
                ("type", "object"), ("x-kubernetes-preserve-unknown-fields", true),
            ])
        }
        var properties = o["properties"]?.objectValue ?? JSONObject()
        properties["apiVersion"] = .object(
            JSONObject([
                ("description", "APIVersion defines the versioned schema of this representation of an object."), ("type", "string"),
            ]))
        properties["kind"] = .object(JSONObject([("description", "Kind is a string value representing the REST resource this object represents."), ("type", "string")]))
        properties["metadata"] = .object(
            JSONObject([
                ("allOf", .array([.object(JSONObject([("$ref", .string(ref(objectMetaName)))]))])),
                ("default", .object(JSONObject())),
                ("description", "Standard object's metadata: name, namespace, labels, annotations and the fields the server maintains."),
            ]))
        o["properties"] = .object(JSONObject(properties.keys.sorted().map { ($0, properties[$0]!) }))
        o["type"] = "object"
        o["x-kubernetes-group-version-kind"] = .array([gvk(r)])
        return .object(o)
    }

    static func pathItems(_ r: ServedResource, ref: (String) -> String, v2: Bool) -> [(String, JSONValue)] {
        let base = "/" + GroupVersion(group: r.group, version: r.version).path
        let collection = r.namespaced ? "\(base)/namespaces/{namespace}/\(r.plural)" : "\(base)/\(r.plural)"
        let schemaRef = JSONValue.object(JSONObject([("$ref", .string(ref(definitionName(r))))]))
        func op(_ action: String, _ verbID: String, body: [String]? = nil, extraQuery: [String] = []) -> JSONValue {
            var o = JSONObject([
                ("operationId", .string(verbID + r.kind)), ("tags", .array([.string(r.apiVersion)])),
                ("x-kubernetes-action", .string(action)), ("x-kubernetes-group-version-kind", gvk(r)),
            ])
            let parameters: [JSONValue] = extraQuery.map { name in
                v2
                    ? .object(JSONObject([("in", "query"), ("name", .string(name)), ("type", "string"), ("uniqueItems", true)]))
                    : .object(JSONObject([("in", "query"), ("name", .string(name)), ("schema", .object(JSONObject([("type", "string"), ("uniqueItems", true)])))]))
            }
            if !parameters.isEmpty { o["parameters"] = .array(parameters) }
            if let body {
                if v2 {
                    o["consumes"] = .array(body.map(JSONValue.string))
                    o["parameters"] = .array(
                        (o["parameters"]?.arrayValue ?? []) + [.object(JSONObject([("in", "body"), ("name", "body"), ("required", true), ("schema", schemaRef)]))])
                } else {
                    o["requestBody"] = .object(
                        JSONObject([("content", .object(JSONObject(body.map { ($0, .object(JSONObject([("schema", schemaRef)]))) }))), ("required", true)]))
                }
            }
            let ok: JSONValue =
                v2
                ? .object(JSONObject([("description", "OK"), ("schema", schemaRef)]))
                : .object(JSONObject([("description", "OK"), ("content", .object(JSONObject([("application/json", .object(JSONObject([("schema", schemaRef)])))])))]))
            if v2 { o["produces"] = ["application/json", "application/yaml"] }
            o["responses"] = .object(JSONObject([("200", ok)]))
            return .object(o)
        }
        let writeQuery = ["dryRun", "fieldManager", "fieldValidation"]
        // Strategic merge is accepted for built-ins but not advertised: kubectl then builds its
        // patches from its compiled-in types, which know every merge key.
        let patchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
        let list = op("list", "list", extraQuery: ["labelSelector", "fieldSelector", "limit", "continue", "watch"])
        let create = op("post", "create", body: ["application/json"], extraQuery: writeQuery)
        var out: [(String, JSONValue)] = [
            (collection, .object(JSONObject([("get", list), ("post", create)]))),
            (
                collection + "/{name}",
                .object(
                    JSONObject([
                        ("get", op("get", "read")), ("put", op("put", "replace", body: ["application/json"], extraQuery: writeQuery)),
                        ("patch", op("patch", "patch", body: patchTypes, extraQuery: writeQuery + ["force"])), ("delete", op("delete", "delete", extraQuery: ["propagationPolicy", "gracePeriodSeconds"])),
                    ]))
            ),
        ]
        for sub in (r.statusSubresource ? ["status"] : []) + (r.scalePaths != nil ? ["scale"] : []) {
            out.append(
                (
                    collection + "/{name}/\(sub)",
                    .object(
                        JSONObject([
                            ("get", op("get", "read\(sub.capitalized)")), ("put", op("put", "replace\(sub.capitalized)", body: ["application/json"], extraQuery: writeQuery)),
                            ("patch", op("patch", "patch\(sub.capitalized)", body: patchTypes, extraQuery: writeQuery + ["force"])),
                        ]))
                ))
        }
        return out
    }

    static func objectMeta(ref: (String) -> String) -> JSONValue {
        func field(_ type: String, _ doc: String, format: String? = nil) -> (JSONValue) {
            var o = JSONObject([("description", .string(doc)), ("type", .string(type))])
            if let format { o["format"] = .string(format) }
            return .object(o)
        }
        func objectList(_ doc: String) -> JSONValue {
            .object(
                JSONObject([
                    ("description", .string(doc)), ("items", .object(JSONObject([("type", "object"), ("x-kubernetes-preserve-unknown-fields", true)]))),
                    ("type", "array"),
                ]))
        }
        let stringMap = JSONValue.object(JSONObject([("additionalProperties", .object(JSONObject([("type", "string")]))), ("type", "object")]))
        func describedMap(_ doc: String) -> JSONValue {
            guard case .object(var o) = stringMap else { return stringMap }
            o["description"] = .string(doc)
            return .object(o)
        }
        let properties: [(String, JSONValue)] = [
            ("annotations", describedMap("Unstructured key/value data kept with the object; not used for selection.")),
            ("creationTimestamp", field("string", "When the server created the object (RFC 3339, UTC). Read-only.", format: "date-time")),
            ("deletionTimestamp", field("string", "When deletion was requested; the object stays until its finalizers are removed. Read-only.", format: "date-time")),
            (
                "finalizers",
                .object(
                    JSONObject([
                        ("description", "Keys that must be removed before a deleted object goes away."), ("items", .object(JSONObject([("type", "string")]))),
                        ("type", "array"),
                    ]))
            ),
            ("generateName", field("string", "A prefix the server completes with random characters when name is empty.")),
            ("generation", field("integer", "Incremented by the server on every change of the desired state (spec). Read-only.", format: "int64")),
            ("labels", describedMap("Key/value pairs for selecting and grouping objects.")),
            ("managedFields", objectList("Which field manager owns which fields, maintained for server-side apply.")),
            ("name", field("string", "Unique within a namespace (or the cluster for cluster-scoped kinds); immutable.")),
            ("namespace", field("string", "The namespace the object lives in; empty for cluster-scoped kinds.")),
            ("ownerReferences", objectList("Objects this one depends on; when every owner is deleted the garbage collector removes it.")),
            ("resourceVersion", field("string", "Opaque version for optimistic concurrency and watches. Read-only.")),
            ("uid", field("string", "Unique identifier for the lifetime of the object. Read-only.")),
        ]
        return .object(
            JSONObject([
                ("description", "ObjectMeta is metadata that all persisted resources must have."), ("properties", .object(JSONObject(properties))),
                ("type", "object"),
            ]))
    }

    /// FNV-1a, hex: only a cache key for clients, not a security boundary.
    static func contentHash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return String(h, radix: 16, uppercase: true)
    }
}
