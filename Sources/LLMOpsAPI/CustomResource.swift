import KubeModel

/// The API group and version of every llmops resource.
public enum LLMOpsGroup {
    public static let group = "llmops.io"
    public static let version = "v1alpha1"
    public static let apiVersion = "\(group)/\(version)"
}

/// A namespaced llmops.io custom resource: its Swift shape, schema, names and printer columns.
public protocol CustomResource: KubeResource, Hashable {
    associatedtype Spec: Codable & Sendable & Hashable & SchemaDescribed
    associatedtype Status: Codable & Sendable & Hashable & SchemaDescribed

    static var names: CustomResourceDefinition.Names { get }
    static var summary: String { get }
    static var printerColumns: [CustomResourceDefinition.PrinterColumn] { get }
    static var scale: CustomResourceDefinition.ScalePaths? { get }

    var spec: Spec { get set }
    var status: Status? { get set }
}

extension CustomResource {
    public static var apiVersion: String { LLMOpsGroup.apiVersion }
    public static var scale: CustomResourceDefinition.ScalePaths? { nil }
    public static var resourceType: ResourceType {
        ResourceType(group: LLMOpsGroup.group, version: LLMOpsGroup.version, plural: names.plural, kind: names.kind, namespaced: true)
    }

    /// The top-level schema: apiVersion, kind, metadata, spec and status.
    public static var openAPISchema: JSONSchemaProps {
        var spec = Spec.openAPISchema
        spec.description = "Desired state, written by users and GitOps pipelines."
        var status = Status.openAPISchema
        status.description = "Observed state, written by the llmops operator."
        return .object(
            summary,
            properties: [
                "apiVersion": JSONSchemaProps(
                    type: "string",
                    description:
                        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values."
                ),
                "kind": JSONSchemaProps(
                    type: "string",
                    description:
                        "Kind is a string value representing the REST resource this object represents. In CamelCase."),
                "metadata": JSONSchemaProps(type: "object", description: "Standard object metadata: name, namespace, labels, annotations."),
                "spec": spec,
                "status": status,
            ],
            required: ["spec"])
    }

    /// The CustomResourceDefinition that serves this resource.
    public static var customResourceDefinition: CustomResourceDefinition {
        CustomResourceDefinition(
            group: LLMOpsGroup.group, names: names, namespaced: true,
            versions: [
                .init(
                    name: LLMOpsGroup.version, schema: openAPISchema, statusSubresource: true, scale: scale,
                    printerColumns: printerColumns)
            ],
            labels: ["app.kubernetes.io/part-of": "llmops"])
    }
}

/// A reference to another object in the same namespace, by name.
public struct LocalObjectReference: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public init(name: String) { self.name = name }

    public static var openAPISchema: JSONSchemaProps {
        .object(
            Self.self, "A reference to an object in the same namespace.",
            [
                Field("name", \.name, "Name of the referenced object.").minLength(1).maxLength(253)
                    .pattern(#"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"#)
            ])
    }
}

/// Shared default providers.
public enum Defaults {
    public enum False: DefaultProvider { public static var value: Bool { false } }
    public enum True: DefaultProvider { public static var value: Bool { true } }
}
