import KubeModel

/// A resource the API server serves: where it lives in the URL space and how it behaves.
public struct ServedResource: Sendable {
    /// "" for the core group.
    public var group: String
    public var version: String
    public var plural: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var shortNames: [String]
    /// Set for custom resources: the schema requests are defaulted, pruned and validated with.
    public var schema: JSONSchemaProps?
    public var statusSubresource: Bool
    public var scale: CustomResourceDefinition.ScalePaths?
    /// `additionalPrinterColumns` of a CRD version, for Table output.
    public var printerColumns: [CustomResourceDefinition.PrinterColumn] = []
    /// A review kind (authorization.k8s.io): only created, answered at once, never stored.
    public var review = false
    /// Groups `kubectl get` accepts as a name (`all` for the workload kinds, a CRD's own).
    public var categories: [String] = []
    /// Set when objects are stored under another resource, in its form (events.k8s.io Events).
    public var storedAs: String?
    public var conversion: StorageConversion = .none

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// A CRD version's `selectableFields`, as field-selector names (`spec.color`).
    public var selectableFields: [String] = []
    /// RBAC names may hold colons (`system:discovery`); other kinds are RFC 1123 subdomains.
    public var nameRule: ObjectMetaValidation.NameRule { group == "rbac.authorization.k8s.io" && schema == nil ? .pathSegment : .subdomain }
    /// The store's resource name: `group/plural`, with `core` for the core group.
    public var storeResource: String { storedAs ?? "\(group.isEmpty ? "core" : group)/\(plural)" }

    /// The store prefix a list or watch covers: one namespace, or all of them when `namespace`
    /// is nil or the kind is cluster-scoped.
    public func storePrefix(namespace: String?) -> String {
        namespaced && namespace != nil ? StoreKey.prefix(resource: storeResource, namespace: namespace) : storeResource + "/"
    }

    /// A stored object as this resource serves it: converted from the stored form, with type meta.
    public func present(_ stored: JSONValue) -> JSONValue {
        withTypeMeta(conversion.fromStored(stored))
    }

    /// `o` with this resource's apiVersion and kind.
    public func withTypeMeta(_ o: JSONValue) -> JSONValue {
        guard case .object(var obj) = o else { return o }
        obj["apiVersion"] = .string(apiVersion)
        obj["kind"] = .string(kind)
        return .object(obj)
    }

    public init(
        group: String, version: String, plural: String, singular: String, kind: String, namespaced: Bool, shortNames: [String] = [],
        schema: JSONSchemaProps? = nil, statusSubresource: Bool = false, scale: CustomResourceDefinition.ScalePaths? = nil, categories: [String] = []
    ) {
        self.categories = categories
        self.group = group
        self.version = version
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.schema = schema
        self.statusSubresource = statusSubresource
        self.scale = scale
    }
}

/// What is served: the built-in kinds the operator and users need, plus every established CRD.
public struct ResourceRegistry: Sendable {
    private var resources: [String: ServedResource] = [:]  // "group/version/plural"

    public static let builtIns: [ServedResource] = [
        .init(group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"], statusSubresource: true),
        .init(group: "", version: "v1", plural: "nodes", singular: "node", kind: "Node", namespaced: false, shortNames: ["no"], statusSubresource: true),
        .init(group: "", version: "v1", plural: "pods", singular: "pod", kind: "Pod", namespaced: true, shortNames: ["po"], statusSubresource: true, categories: ["all"]),
        .init(group: "", version: "v1", plural: "services", singular: "service", kind: "Service", namespaced: true, shortNames: ["svc"], statusSubresource: true, categories: ["all"]),
        .init(group: "", version: "v1", plural: "endpoints", singular: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"]),
        .init(group: "discovery.k8s.io", version: "v1", plural: "endpointslices", singular: "endpointslice", kind: "EndpointSlice", namespaced: true),
        .init(group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true, shortNames: ["cm"]),
        .init(group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", namespaced: true),
        .init(group: "", version: "v1", plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"]),
        .init(group: "", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"]),
        {
            var r = ServedResource(group: "events.k8s.io", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"])
            r.storedAs = "core/events"
            r.conversion = .eventsV1
            return r
        }(),
        .init(group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, shortNames: ["deploy"], statusSubresource: true, categories: ["all"]),
        .init(group: "apps", version: "v1", plural: "replicasets", singular: "replicaset", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], statusSubresource: true, categories: ["all"]),
        .init(group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", kind: "Lease", namespaced: true),
        // Stored and served so that operator installs (`kubectl apply -k manifests/default`)
        // apply here as on a real cluster; nothing here enforces them.
        .init(group: "policy", version: "v1", plural: "poddisruptionbudgets", singular: "poddisruptionbudget", kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"], statusSubresource: true),
        .init(group: "networking.k8s.io", version: "v1", plural: "networkpolicies", singular: "networkpolicy", kind: "NetworkPolicy", namespaced: true, shortNames: ["netpol"]),
        review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
        review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
        review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"),
        review("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", namespaced: true),
        review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
        review("authentication.k8s.io", "tokenreviews", "TokenReview"),
        // Enforced for every user outside system:masters (Auth/RBACAuthorizer).
        .init(group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", singular: "role", kind: "Role", namespaced: true),
        .init(group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", singular: "rolebinding", kind: "RoleBinding", namespaced: true),
        .init(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", singular: "clusterrole", kind: "ClusterRole", namespaced: false),
        .init(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterrolebindings", singular: "clusterrolebinding", kind: "ClusterRoleBinding", namespaced: false),
        .init(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", singular: "customresourcedefinition", kind: "CustomResourceDefinition", namespaced: false, shortNames: ["crd", "crds"], statusSubresource: true),
    ]

    /// A review kind: created, answered at once, never stored.
    static func review(_ group: String, _ plural: String, _ kind: String, namespaced: Bool = false) -> ServedResource {
        var r = ServedResource(group: group, version: "v1", plural: plural, singular: String(plural.dropLast()), kind: kind, namespaced: namespaced)
        r.review = true
        return r
    }

    public init() {
        for r in Self.builtIns { add(r) }
    }

    public mutating func add(_ r: ServedResource) {
        resources["\(r.group)/\(r.version)/\(r.plural)"] = r
    }

    public mutating func remove(group: String, plural: String) {
        resources = resources.filter { !($0.value.group == group && $0.value.plural == plural && $0.value.schema != nil) }
    }

    public func lookup(group: String, version: String, plural: String) -> ServedResource? {
        resources["\(group)/\(version)/\(plural)"]
    }

    public var all: [ServedResource] { resources.values.sorted { ($0.group, $0.plural) < ($1.group, $1.plural) } }

    /// The served resources a CRD object defines (one per served version), or why it is invalid.
    public static func resources(fromCRD crd: JSONValue) -> Result<[ServedResource], FieldError> {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue, !group.isEmpty else {
            return .failure(FieldError(.required, "spec.group", "a CRD needs a group"))
        }
        guard let names = spec["names"], let plural = names["plural"]?.stringValue, let kind = names["kind"]?.stringValue else {
            return .failure(FieldError(.required, "spec.names", "a CRD needs names.plural and names.kind"))
        }
        guard crd["metadata"]?["name"]?.stringValue == "\(plural).\(group)" else {
            return .failure(FieldError(.invalid, "metadata.name", value: crd["metadata"]?["name"] ?? .null, "must be spec.names.plural+\".\"+spec.group"))
        }
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        guard let versions = spec["versions"]?.arrayValue, !versions.isEmpty else {
            return .failure(FieldError(.required, "spec.versions", "at least one version is required"))
        }
        var out: [ServedResource] = []
        for (i, v) in versions.enumerated() where v["served"]?.boolValue ?? true {
            guard let name = v["name"]?.stringValue else { return .failure(FieldError(.required, "spec.versions[\(i)].name", "")) }
            var schema: JSONSchemaProps?
            if let s = v["schema"]?["openAPIV3Schema"] {
                do {
                    schema = try JSONSchemaProps(json: s)
                } catch {
                    return .failure(FieldError(.invalid, "spec.versions[\(i)].schema.openAPIV3Schema.\(error.path)", error.message))
                }
            } else {
                return .failure(FieldError(.required, "spec.versions[\(i)].schema.openAPIV3Schema", "a structural schema is required"))
            }
            // Rules must compile and fit Kubernetes' cost budget when the CRD is written.
            if let schema, let problem = CELRules.problems(in: schema, path: "spec.versions[\(i)].schema.openAPIV3Schema").first {
                return .failure(problem)
            }
            var selectable: [String] = []
            let declared = v["selectableFields"]?.arrayValue ?? []
            if declared.count > 8 { return .failure(FieldError(.tooMany, "spec.versions[\(i)].selectableFields", "must have at most 8 items")) }
            for (j, f) in declared.enumerated() {
                let at = "spec.versions[\(i)].selectableFields[\(j)].jsonPath"
                guard let path = f["jsonPath"]?.stringValue, path.hasPrefix("."), path.count > 1 else {
                    return .failure(FieldError(.invalid, at, value: f["jsonPath"] ?? .null, "must be a simple path such as .spec.color"))
                }
                var node: JSONSchemaProps? = schema
                for part in path.dropFirst().split(separator: ".") { node = node?.properties?[String(part)] }
                guard let type = node?.type, ["string", "integer", "boolean"].contains(type) else {
                    return .failure(FieldError(.invalid, at, value: .string(path), "must point to a field of type string, boolean or integer in the schema"))
                }
                let name = String(path.dropFirst())
                if selectable.contains(name) { return .failure(FieldError(.duplicate, at, value: .string(path), "")) }
                selectable.append(name)
            }
            let sub = v["subresources"]
            var scale: CustomResourceDefinition.ScalePaths?
            if let sc = sub?["scale"], let spec = sc["specReplicasPath"]?.stringValue, let status = sc["statusReplicasPath"]?.stringValue {
                scale = .init(specReplicasPath: spec, statusReplicasPath: status, labelSelectorPath: sc["labelSelectorPath"]?.stringValue)
            }
            var served = ServedResource(
                group: group, version: name, plural: plural, singular: names["singular"]?.stringValue ?? kind.lowercased(), kind: kind,
                namespaced: namespaced, shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [], schema: schema,
                statusSubresource: sub?["status"] != nil, scale: scale, categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            served.selectableFields = selectable
            served.printerColumns = (v["additionalPrinterColumns"]?.arrayValue ?? []).compactMap { c in
                guard let n = c["name"]?.stringValue, let t = c["type"]?.stringValue, let path = c["jsonPath"]?.stringValue else { return nil }
                return .init(
                    name: n, type: t, jsonPath: path, description: c["description"]?.stringValue ?? "", priority: Int(c["priority"]?.intValue ?? 0),
                    format: c["format"]?.stringValue)
            }
            out.append(served)
        }
        return .success(out)
    }
}

/// A request's target, parsed from its path:
/// `/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}` or `/apis/{group}/{version}/...`.
public struct ResourcePath: Sendable, Equatable {
    public var group: String
    public var version: String
    public var plural: String
    public var namespace: String?
    public var name: String?
    public var subresource: String?

    public static func parse(_ path: String) -> ResourcePath? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !parts.isEmpty else { return nil }
        var group = ""
        let version: String
        if parts[0] == "api" {
            guard parts.count >= 3 else { return nil }
            version = parts[1]
            parts.removeFirst(2)
        } else if parts[0] == "apis" {
            guard parts.count >= 4 else { return nil }
            group = parts[1]
            version = parts[2]
            parts.removeFirst(3)
        } else {
            return nil
        }
        var namespace: String?
        if group.isEmpty, parts.first == "namespaces", parts.count == 2 || (parts.count == 3 && ["status", "finalize"].contains(parts[2])) {
            // /api/v1/namespaces/{name}[/status]: the namespace object itself.
            return ResourcePath(group: "", version: version, plural: "namespaces", namespace: nil, name: parts[1], subresource: parts.count == 3 ? parts[2] : nil)
        }
        if parts.count >= 3, parts[0] == "namespaces" {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard (1...3).contains(parts.count) else { return nil }
        // Names and namespaces must be path-safe: no traversal, no empty segments.
        for p in parts + [namespace].compactMap({ $0 }) where p == "." || p == ".." || p.contains("\\") {
            return nil
        }
        return ResourcePath(
            group: group, version: version, plural: parts[0], namespace: namespace, name: parts.count > 1 ? parts[1] : nil,
            subresource: parts.count > 2 ? parts[2] : nil)
    }
}
