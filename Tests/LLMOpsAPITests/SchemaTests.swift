import Foundation
import KubeModel
import LLMOpsAPI
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Walks a fully-populated encoding beside its schema and lists schema properties the
/// encoding lacks: a declared field with no Swift property behind it.
func undeclaredInEncoding(_ value: JSONValue, _ schema: JSONSchemaProps, path: String = "") -> [String] {
    switch value {
    case .object(let o):
        guard let props = schema.properties else { return [] }
        var missing: [String] = []
        for (name, sub) in props where !["apiVersion", "kind", "metadata"].contains(name) || !path.isEmpty {
            guard let child = o[name] else {
                missing.append(FieldPath.child(path, name))
                continue
            }
            missing += undeclaredInEncoding(child, sub, path: FieldPath.child(path, name))
        }
        return missing
    case .array(let items):
        guard let first = items.first, let itemSchema = schema.items else { return [] }
        return undeclaredInEncoding(first, itemSchema, path: path + "[0]")
    default:
        return []
    }
}

@Suite struct SchemaTests {
    /// The schema and the Swift types cannot drift: a value with every optional set encodes
    /// exactly the fields the schema declares, no more (strict validation) and no fewer.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func schemaMatchesTypesExactly(seed: UInt64) throws {
        var g = RandomResources(seed: seed, full: true)
        let cases: [(JSONValue, JSONSchemaProps)] = [
            (try JSONValue(encoding: g.llmDeployment()), LLMDeployment.openAPISchema),
            (try JSONValue(encoding: g.scalingPolicy()), ScalingPolicy.openAPISchema),
            (try JSONValue(encoding: g.canaryRun()), CanaryRun.openAPISchema),
        ]
        for (doc, schema) in cases {
            #expect(SchemaValidator(schema: schema).validateResource(doc) == [])
            #expect(undeclaredInEncoding(doc, schema) == [])
        }
    }

    @Test func everySchemaNodeHasADescriptionAndAType() {
        func check(_ s: JSONSchemaProps, _ path: String, isProperty: Bool) -> [String] {
            var problems: [String] = []
            if isProperty, (s.description ?? "").isEmpty { problems.append("\(path): no description") }
            if s.type == nil, s.intOrString != true, s.preserveUnknownFields != true { problems.append("\(path): no type") }
            for (k, v) in s.properties ?? [:] { problems += check(v, FieldPath.child(path, k), isProperty: true) }
            if let i = s.items { problems += check(i, path + "[]", isProperty: false) }
            if let a = s.additionalProperties { problems += check(a, path + "{}", isProperty: false) }
            return problems
        }
        for entry in ResourceCatalog.entries {
            #expect(check(entry.schema, entry.kind, isProperty: true) == [])
        }
    }

    @Test func schemasSurviveTheirOwnJSON() throws {
        for entry in ResourceCatalog.entries {
            #expect(try JSONSchemaProps(json: entry.schema.jsonValue) == entry.schema)
        }
    }

    @Test func committedCRDsAreCurrent() throws {
        for file in ResourceCatalog.crdFiles() {
            let url = packageRoot.appendingPathComponent("crds").appendingPathComponent(file.name)
            let committed = try String(contentsOf: url, encoding: .utf8)
            #expect(committed == file.contents, "crds/\(file.name) is stale: run `llmops crds`")
        }
    }

    @Test func samplesValidateAndRoundTrip() throws {
        let dir = packageRoot.appendingPathComponent("manifests/samples")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 3)
        var kinds: Set<String> = []
        for f in files {
            let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(f)))
            let report = ManifestValidator.validate(bytes: bytes)
            #expect(report.problems == [], "\(f)")
            for doc in try YAMLDocuments.read(String(decoding: bytes, as: UTF8.self)) {
                switch doc.value["kind"]?.stringValue {
                case "LLMDeployment"?: try roundTrips(try doc.value.decode(as: LLMDeployment.self))
                case "ScalingPolicy"?: try roundTrips(try doc.value.decode(as: ScalingPolicy.self))
                case "CanaryRun"?: try roundTrips(try doc.value.decode(as: CanaryRun.self))
                default: Issue.record("unexpected document in \(f)")
                }
                kinds.insert(doc.value["kind"]?.stringValue ?? "")
            }
        }
        #expect(kinds == ["LLMDeployment", "ScalingPolicy", "CanaryRun"])
    }

    @Test func parameterCountParses() {
        let m = ModelSpec(name: "m", source: "hf://m", parameterCount: "1.5B")
        #expect(m.parameters == 1.5e9)
        #expect(ModelSpec(name: "m", source: "hf://m", parameterCount: "350M").parameters == 3.5e8)
    }
}
