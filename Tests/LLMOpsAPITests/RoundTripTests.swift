import Foundation
import KubeModel
import LLMOpsAPI
import PropertyBased
import Testing
import Yams

/// Round trips through our JSON text, our YAML writer/reader, and Yams' own Codable coders.
func roundTrips<R: CustomResource>(_ resource: R) throws {
    let json = try JSONValue(encoding: resource)
    #expect(try JSONText.parse(JSONText.serialize(json)).decode(as: R.self) == resource)
    // The client's decoder (from the parsed tree) agrees with Foundation's.
    #expect(try JSONValueDecoder().decode(R.self, from: try JSONText.parse(JSONText.serialize(json))) == resource)
    let yaml = YAMLDocuments.serialize(json)
    let back = try #require(try YAMLDocuments.read(yaml).first).value
    #expect(try back.decode(as: R.self) == resource, "YAML:\n\(yaml)")
    let viaYams = try YAMLDecoder().decode(R.self, from: try YAMLEncoder().encode(resource))
    #expect(viaYams == resource)
}

@Suite struct RoundTripTests {
    @Test func randomLLMDeployments() async {
        await propertyCheck(count: 150, input: Gen.uint64()) { seed in
            var g = RandomResources(seed: seed)
            #expect(throws: Never.self) { try roundTrips(g.llmDeployment()) }
        }
    }

    @Test func randomScalingPolicies() async {
        await propertyCheck(count: 150, input: Gen.uint64()) { seed in
            var g = RandomResources(seed: seed)
            #expect(throws: Never.self) { try roundTrips(g.scalingPolicy()) }
        }
    }

    @Test func randomCanaryRuns() async {
        await propertyCheck(count: 150, input: Gen.uint64()) { seed in
            var g = RandomResources(seed: seed)
            #expect(throws: Never.self) { try roundTrips(g.canaryRun()) }
        }
    }

    /// Every random resource the Swift types can hold (within the documented ranges) is one the
    /// schema accepts: the schema is not stricter than the types.
    @Test func randomResourcesPassTheirSchema() async {
        await propertyCheck(count: 100, input: Gen.uint64()) { seed in
            var g = RandomResources(seed: seed)
            let docs: [(JSONValue, JSONSchemaProps)] = [
                ((try? JSONValue(encoding: g.llmDeployment())) ?? .null, LLMDeployment.openAPISchema),
                ((try? JSONValue(encoding: g.scalingPolicy())) ?? .null, ScalingPolicy.openAPISchema),
                ((try? JSONValue(encoding: g.canaryRun())) ?? .null, CanaryRun.openAPISchema),
            ]
            for (doc, schema) in docs {
                #expect(SchemaValidator(schema: schema).validateResource(doc) == [])
            }
        }
    }

    @Test func omittedDefaultedFieldsDecodeToTheirDefaults() throws {
        let yaml = """
            apiVersion: llmops.io/v1alpha1
            kind: LLMDeployment
            metadata: {name: m}
            spec:
              model: {name: m, source: "hf://m", parameterCount: 8B}
              slo: {ttftP95Ms: 500, itlP95Ms: 50}
              gpu: {allowedTypes: [L4]}
            """
        let d = try YAMLDocuments.read(yaml)[0].value.decode(as: LLMDeployment.self)
        #expect(d.spec.replicas == 1)
        #expect(d.spec.engine.kind == .vllm)
        #expect(d.spec.model.precision == .bf16)
        #expect(d.spec.slo.attainment == 0.99)
        #expect(d.spec.gpu.tensorParallel == .auto)
        // The schema default and the Swift default come from one provider.
        let defaulted = SchemaDefaulter.apply(try YAMLDocuments.read(yaml)[0].value, LLMDeployment.openAPISchema)
        #expect(try defaulted.decode(as: LLMDeployment.self) == d)
        #expect(defaulted["spec"]?["replicas"] == .int(1))
        #expect(defaulted["spec"]?["engine"]?["kind"] == .string("vllm"))
        // An explicit null defaults too, through Foundation and through the client's decoder.
        let withNull = try YAMLDocuments.read(yaml + "\n  replicas: null\n")[0].value
        #expect(withNull["spec"]?["replicas"] == .null)
        #expect(try withNull.decode(as: LLMDeployment.self) == d)
        #expect(try JSONValueDecoder().decode(LLMDeployment.self, from: withNull) == d)
        #expect(try JSONValueDecoder().decode(LLMDeployment.self, from: defaulted) == d)
    }
}
