import KubeModel

/// Server-side printing: a `meta.k8s.io/v1` Table with a Name column, the resource's printer
/// columns (a CRD's `additionalPrinterColumns`), and Age, which is what `kubectl get` shows.
enum TablePrinter {
    static func table(_ objects: [JSONValue], _ resource: ServedResource, resourceVersion: String?, now: Timestamp, continue token: String? = nil) -> JSONValue {
        if let builtIn = BuiltInTable.forResource(resource) {
            let name: JSONValue = .object(JSONObject([("name", "Name"), ("type", "string"), ("format", "name"), ("description", "Name must be unique within a namespace."), ("priority", .int(0))]))
            let definitions = [name] + builtIn.columns.map { c in
                JSONValue.object(JSONObject([("name", .string(c.name)), ("type", .string(c.type)), ("format", ""), ("description", .string(c.description)), ("priority", .int(Int64(c.priority)))]))
            }
            let rows = objects.map { obj in row([obj["metadata"]?["name"] ?? .null] + builtIn.cells(obj, now), obj) }
            return document(definitions, rows, resourceVersion: resourceVersion, continue: token)
        }
        var columns: [CustomResourceDefinition.PrinterColumn] = [
            .init(name: "Name", type: "string", jsonPath: ".metadata.name", description: "Name must be unique within a namespace.", format: "name")
        ]
        let custom = resource.printerColumns
        columns += custom.isEmpty
            ? [.init(name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation.")] : custom
        let definitions: [JSONValue] = columns.map { c in
            var o = JSONObject([
                ("name", .string(c.name)), ("type", .string(c.type)), ("format", .string(c.format ?? "")), ("description", .string(c.description)),
                ("priority", .int(Int64(c.priority))),
            ])
            if c.type == "date" { o["type"] = "string" }  // rendered as an age below
            return .object(o)
        }
        let rows: [JSONValue] = objects.map { obj in
            let cells: [JSONValue] = columns.map { c in
                let v = evaluate(c.jsonPath, in: obj)
                if c.type == "date", let s = v?.stringValue, let t = Timestamp(rfc3339: s) { return .string(age(now.secondsSinceEpoch - t.secondsSinceEpoch)) }
                return v ?? .null
            }
            return row(cells, obj)
        }
        return document(definitions, rows, resourceVersion: resourceVersion, continue: token)
    }

    static func row(_ cells: [JSONValue], _ obj: JSONValue) -> JSONValue {
        let meta = obj["metadata"] ?? .object(JSONObject())
        return .object(
            JSONObject([
                ("cells", .array(cells)),
                ("object", .object(JSONObject([("kind", "PartialObjectMetadata"), ("apiVersion", "meta.k8s.io/v1"), ("metadata", meta)]))),
            ]))
    }

    static func document(_ definitions: [JSONValue], _ rows: [JSONValue], resourceVersion: String?, continue token: String?) -> JSONValue {
        var metadata = JSONObject()
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let token { metadata["continue"] = .string(token) }
        return .object(
            JSONObject([
                ("kind", "Table"), ("apiVersion", "meta.k8s.io/v1"), ("metadata", .object(metadata)), ("columnDefinitions", .array(definitions)),
                ("rows", .array(rows)),
            ]))
    }

    /// The simple JSONPath form printer columns use: `.a.b.c`.
    static func evaluate(_ path: String, in object: JSONValue) -> JSONValue? {
        var current: JSONValue? = object
        for part in path.split(separator: ".") {
            current = current?[String(part)]
        }
        return current
    }

    /// kubectl's compact ages: 45s, 12m, 5h, 3d, 2y.
    static func age(_ seconds: Int64) -> String {
        let s = max(0, seconds)
        if s < 120 { return "\(s)s" }
        if s < 3600 * 2 { return "\(s / 60)m" }
        if s < 86_400 * 2 { return "\(s / 3600)h" }
        if s < 86_400 * 365 * 2 { return "\(s / 86_400)d" }
        return "\(s / (86_400 * 365))y"
    }
}
