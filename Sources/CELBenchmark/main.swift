import Foundation
import KubeModel

// Benchmark (hack/bench-cel.sh): validating one custom resource against a schema with 20
// x-kubernetes-validations rules, against the same schema without rules measured in the same
// run. Prints microseconds per object and the ratio.

// The rules: hack/cel-bench-rules.txt (shared with hack/bench_cel.py), one per line.
let rulesFile = CommandLine.arguments.dropFirst(2).first ?? "hack/cel-bench-rules.txt"
guard let rulesText = try? String(contentsOfFile: rulesFile, encoding: .utf8) else { fatalError("cannot read \(rulesFile)") }
let rules = rulesText.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }

func string(_ maxLength: Int? = nil, format: String? = nil) -> JSONSchemaProps {
    var s = JSONSchemaProps(type: "string")
    s.maxLength = maxLength ?? 256
    s.format = format
    return s
}

func array(_ item: JSONSchemaProps, max: Int = 16) -> JSONSchemaProps {
    var a = JSONSchemaProps.array(of: item)
    a.maxItems = max
    return a
}

@MainActor func schema(withRules: Bool) -> JSONSchemaProps {
    let backend = JSONSchemaProps.object(properties: ["name": string(), "weight": JSONSchemaProps(type: "integer")])
    let rule = JSONSchemaProps.object(properties: ["name": string(), "path": string(), "backends": array(backend)])
    var labels = JSONSchemaProps(type: "object")
    labels.additionalProperties = string(63)
    labels.maxProperties = 32
    var memory = JSONSchemaProps()
    memory.intOrString = true
    var s = JSONSchemaProps.object(properties: [
        "replicas": JSONSchemaProps(type: "integer"), "maxReplicas": JSONSchemaProps(type: "integer"), "hostnames": array(string(253)),
        "rules": array(rule), "name": string(63), "labels": labels, "timeout": string(format: "duration"), "notBefore": string(format: "date-time"),
        "memory": memory, "allowFrom": array(string(64)), "version": string(32), "docs": string(), "mode": string(16),
    ])
    if withRules { s.validations = rules.map { ValidationRule(rule: $0, message: "failed") } }
    return .object(properties: ["spec": s])
}

let object = try! JSONText.parse(
    #"""
    {"apiVersion": "bench.example.com/v1", "kind": "Bench", "metadata": {"name": "b"}, "spec": {
      "replicas": 3, "maxReplicas": 10, "hostnames": ["chat.example.com", "api.example.com"],
      "rules": [{"name": "default", "path": "/", "backends": [{"name": "a", "weight": 90}, {"name": "b", "weight": 10}]},
                {"name": "v1", "path": "/v1", "backends": [{"name": "a", "weight": 1}]}],
      "name": "chat", "labels": {"team": "ml", "tier": "gold"}, "timeout": "90s", "notBefore": "2026-01-01T00:00:00Z",
      "memory": "16Gi", "allowFrom": ["10.0.0.0/8", "192.168.0.0/16"], "version": "v1.2", "docs": "https://example.com/x", "mode": "safe"}}
    """#)

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20000
func measure(_ validator: SchemaValidator) -> Double {
    for _ in 0..<500 { precondition(validator.validateResource(object).isEmpty, "\(validator.validateResource(object))") }
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { _ = validator.validateResource(object) }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(iterations)
}

let baseline = measure(SchemaValidator(schema: schema(withRules: false)))
let withRules = measure(SchemaValidator(schema: schema(withRules: true)))
#if DEBUG
let build = "debug build (use hack/bench-cel.sh for release)"
#else
let build = "release build"
#endif
print("validation of one object, \(iterations) iterations, \(build)")
print(String(format: "  schema only (baseline):   %8.1f µs/object", baseline))
print(String(format: "  schema + 20 CEL rules:    %8.1f µs/object  (%.1f× baseline; %.1f µs per rule; %.0f objects/s on one core)",
             withRules, withRules / baseline, (withRules - baseline) / Double(rules.count), 1_000_000 / withRules))
let problems = CELRules.problems(in: schema(withRules: true), path: "spec.versions[0].schema.openAPIV3Schema")
print("  CRD checks (compile + estimated cost): \(problems.isEmpty ? "all 20 rules within budget" : "\(problems)")")
