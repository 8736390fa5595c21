/// The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition that this project writes
/// and that the embedded API server needs to serve a custom resource.
public struct CustomResourceDefinition: Sendable, Equatable {
    public struct Names: Sendable, Equatable {
        public var plural: String
        public var singular: String
        public var kind: String
        public var listKind: String
        public var shortNames: [String]
        public var categories: [String]

        public init(plural: String, singular: String, kind: String, shortNames: [String] = [], categories: [String] = []) {
            self.plural = plural
            self.singular = singular
            self.kind = kind
            self.listKind = kind + "List"
            self.shortNames = shortNames
            self.categories = categories
        }
    }

    /// `spec.versions[].subresources.scale`: where the scale subresource reads and writes.
    public struct ScalePaths: Sendable, Equatable {
        public var specReplicasPath: String
        public var statusReplicasPath: String
        public var labelSelectorPath: String?
        public init(specReplicasPath: String, statusReplicasPath: String, labelSelectorPath: String?) {
            self.specReplicasPath = specReplicasPath
            self.statusReplicasPath = statusReplicasPath
            self.labelSelectorPath = labelSelectorPath
        }
    }

    public struct PrinterColumn: Sendable, Equatable {
        public var name: String
        public var type: String
        public var jsonPath: String
        public var description: String
        /// 0 is shown by `kubectl get`; higher priorities only with `-o wide`.
        public var priority: Int
        public var format: String?
        public init(name: String, type: String, jsonPath: String, description: String, priority: Int = 0, format: String? = nil) {
            self.name = name
            self.type = type
            self.jsonPath = jsonPath
            self.description = description
            self.priority = priority
            self.format = format
        }
    }

    public struct Version: Sendable, Equatable {
        public var name: String
        public var served: Bool
        public var storage: Bool
        public var schema: JSONSchemaProps
        public var statusSubresource: Bool
        public var scale: ScalePaths?
        public var printerColumns: [PrinterColumn]
        public init(
            name: String, served: Bool = true, storage: Bool = true, schema: JSONSchemaProps, statusSubresource: Bool = true,
            scale: ScalePaths? = nil, printerColumns: [PrinterColumn] = []
        ) {
            self.name = name
            self.served = served
            self.storage = storage
            self.schema = schema
            self.statusSubresource = statusSubresource
            self.scale = scale
            self.printerColumns = printerColumns
        }
    }

    public var group: String
    public var names: Names
    public var namespaced: Bool
    public var versions: [Version]
    public var labels: [String: String]

    public init(group: String, names: Names, namespaced: Bool = true, versions: [Version], labels: [String: String] = [:]) {
        self.group = group
        self.names = names
        self.namespaced = namespaced
        self.versions = versions
        self.labels = labels
    }

    public var name: String { "\(names.plural).\(group)" }

    /// The manifest as the API server accepts it.
    public var jsonValue: JSONValue {
        var metadata = JSONObject([("name", .string(name))])
        if !labels.isEmpty {
            metadata["labels"] = .object(JSONObject(labels.keys.sorted().map { ($0, .string(labels[$0]!)) }))
        }
        var namesObject = JSONObject()
        if !names.categories.isEmpty { namesObject["categories"] = .array(names.categories.map(JSONValue.string)) }
        namesObject["kind"] = .string(names.kind)
        namesObject["listKind"] = .string(names.listKind)
        namesObject["plural"] = .string(names.plural)
        if !names.shortNames.isEmpty { namesObject["shortNames"] = .array(names.shortNames.map(JSONValue.string)) }
        namesObject["singular"] = .string(names.singular)

        let versionValues: [JSONValue] = versions.map { v in
            var o = JSONObject()
            if !v.printerColumns.isEmpty {
                o["additionalPrinterColumns"] = .array(
                    v.printerColumns.map { c in
                        var col = JSONObject()
                        col["description"] = .string(c.description)
                        if let f = c.format { col["format"] = .string(f) }
                        col["jsonPath"] = .string(c.jsonPath)
                        col["name"] = .string(c.name)
                        if c.priority != 0 { col["priority"] = .int(Int64(c.priority)) }
                        col["type"] = .string(c.type)
                        return .object(col)
                    })
            }
            o["name"] = .string(v.name)
            o["schema"] = .object(JSONObject([("openAPIV3Schema", v.schema.jsonValue)]))
            o["served"] = .bool(v.served)
            o["storage"] = .bool(v.storage)
            var sub = JSONObject()
            if let scale = v.scale {
                var s = JSONObject()
                if let l = scale.labelSelectorPath { s["labelSelectorPath"] = .string(l) }
                s["specReplicasPath"] = .string(scale.specReplicasPath)
                s["statusReplicasPath"] = .string(scale.statusReplicasPath)
                sub["scale"] = .object(s)
            }
            if v.statusSubresource { sub["status"] = .object(JSONObject()) }
            if !sub.isEmpty { o["subresources"] = .object(sub) }
            return .object(o)
        }
        return .object(
            JSONObject([
                ("apiVersion", "apiextensions.k8s.io/v1"),
                ("kind", "CustomResourceDefinition"),
                ("metadata", .object(metadata)),
                (
                    "spec",
                    .object(
                        JSONObject([
                            ("group", .string(group)),
                            ("names", .object(namesObject)),
                            ("scope", .string(namespaced ? "Namespaced" : "Cluster")),
                            ("versions", .array(versionValues)),
                        ])
                    )
                ),
            ]))
    }
}
