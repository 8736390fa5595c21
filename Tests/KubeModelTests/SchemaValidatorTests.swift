import KubeModel
import Testing

@Suite struct SchemaValidatorTests {
    var schema: JSONSchemaProps {
        var replicas = JSONSchemaProps(type: "integer")
        replicas.minimum = 0
        replicas.maximum = 10
        var mode = JSONSchemaProps(type: "string")
        mode.enumValues = ["a", "b"]
        var name = JSONSchemaProps(type: "string")
        name.pattern = "^[a-z]+$"
        name.maxLength = 5
        var tags = JSONSchemaProps.array(of: JSONSchemaProps(type: "string"))
        tags.listType = "set"
        tags.maxItems = 3
        var withDefault = JSONSchemaProps(type: "integer")
        withDefault.defaultValue = 7
        var s = JSONSchemaProps.object(
            properties: ["replicas": replicas, "mode": mode, "name": name, "tags": tags, "min": withDefault, "max": JSONSchemaProps(type: "integer")],
            required: ["name"])
        s.validations = [ValidationRule(rule: "!has(self.max) || self.min <= self.max", message: "min must not exceed max")]
        return s
    }

    func errors(_ json: String) throws -> [FieldError] {
        let v = SchemaDefaulter.apply(try JSONText.parse(json), schema)
        return SchemaValidator(schema: schema).validate(v)
    }

    @Test func acceptsValid() throws {
        #expect(try errors(#"{"name": "abc", "replicas": 3, "mode": "a", "tags": ["x", "y"], "max": 9}"#).isEmpty)
    }

    @Test func reportsEachProblemWithItsPath() throws {
        let e = try errors(#"{"replicas": -1, "mode": "c", "tags": ["x", "x", "y", "z"], "extra": 1, "max": 2}"#)
        let byPath = Dictionary(grouping: e, by: \.path)
        #expect(byPath["name"]?.first?.kind == .required)
        #expect(byPath["replicas"]?.first?.kind == .invalid)
        #expect(byPath["mode"]?.first?.kind == .notSupported)
        #expect(byPath["tags[1]"]?.first?.kind == .duplicate)
        #expect(byPath["tags"]?.first?.kind == .tooMany)
        #expect(byPath["extra"]?.first?.kind == .unknownField)
    }

    @Test func celRuleUsesDefaults() throws {
        let e = try errors(#"{"name": "abc", "max": 2}"#)
        #expect(e.count == 1)
        #expect(e.first?.detail == "min must not exceed max")
    }

    /// Transition rules (`oldSelf`) run only where an old value correlates: not on create,
    /// by key in map lists, never by position in other lists.
    @Test func transitionRulesNeedAnOldValue() throws {
        var x = JSONSchemaProps(type: "integer")
        x.validations = [ValidationRule(rule: "self >= oldSelf", message: "may only grow")]
        var port = JSONSchemaProps.object(properties: ["name": JSONSchemaProps(type: "string"), "n": x])
        port.required = ["name"]
        var ports = JSONSchemaProps.array(of: port)
        ports.listType = "map"
        ports.listMapKeys = ["name"]
        let v = SchemaValidator(schema: JSONSchemaProps.object(properties: ["x": x, "ports": ports]))
        let old = try JSONText.parse(#"{"x": 5, "ports": [{"name": "a", "n": 3}, {"name": "b", "n": 9}]}"#)
        #expect(v.validateResource(try JSONText.parse(#"{"x": 1, "ports": [{"name": "a", "n": 1}]}"#)).isEmpty)
        #expect(v.validateResource(try JSONText.parse(#"{"x": 6, "ports": [{"name": "b", "n": 9}, {"name": "a", "n": 4}]}"#), old: old).isEmpty)
        let shrunk = v.validateResource(try JSONText.parse(#"{"x": 4, "ports": [{"name": "b", "n": 2}, {"name": "c", "n": 0}]}"#), old: old)
        #expect(shrunk.map(\.path).sorted() == ["ports[0].n", "x"])
        #expect(shrunk.allSatisfy { $0.detail == "may only grow" })
    }

    @Test func typeErrors() throws {
        let e = try errors(#"{"name": 5, "replicas": 1.5}"#)
        // The schema has rules: a shape error skips them, and the API server says so last.
        #expect(e.map(\.kind) == [.typeInvalid, .typeInvalid, .invalid])
        #expect(e.last == SchemaValidator.rulesNotChecked)
        #expect(e.first { $0.path == "name" }?.detail == #"name in body must be of type string: "integer""#)
    }

    @Test(arguments: [
        ("self.a + 1 == 3", true), ("size(self.s) == 3 && self.s.size() == 3", true), ("self.a in [1, 2]", true),
        ("!(self.a > 1) || self.l[1] == 'y'", true), ("has(self.nope) ? false : true", true), ("self.f * 2.0 < 3.0", true),
        ("self.a >= 3", false), ("self.l.all(x, x.matches(r'^[a-z]$'))", true), ("self.t < timestamp('2030-01-01T00:00:00Z')", true),
        ("self.d > duration('1m')", true),
    ])
    func rulesSeeTheValueThroughItsSchema(_ rule: String, _ expected: Bool) throws {
        var s = JSONSchemaProps.object(properties: [
            "a": JSONSchemaProps(type: "integer"), "s": JSONSchemaProps(type: "string"), "l": .array(of: JSONSchemaProps(type: "string")),
            "f": JSONSchemaProps(type: "number"), "t": { var t = JSONSchemaProps(type: "string"); t.format = "date-time"; return t }(),
            "d": { var d = JSONSchemaProps(type: "string"); d.format = "duration"; return d }(),
        ])
        s.validations = [ValidationRule(rule: rule, message: "no")]
        let v = try JSONText.parse(#"{"a": 2, "s": "abc", "l": ["x", "y"], "f": 1.25, "t": "2026-12-03T00:00:00Z", "d": "90s"}"#)
        #expect(SchemaValidator(schema: s).validate(v).isEmpty == expected)
    }

    @Test func failuresCarryReasonFieldPathAndMessageExpression() throws {
        var s = JSONSchemaProps.object(properties: ["replicas": JSONSchemaProps(type: "integer"), "max": JSONSchemaProps(type: "integer")])
        s.validations = [
            ValidationRule(rule: "self.replicas <= self.max", fieldPath: ".replicas", reason: "FieldValueForbidden",
                           messageExpression: "'replicas ' + string(self.replicas) + ' exceeds max ' + string(self.max)"),
        ]
        let e = SchemaValidator(schema: s).validate(try JSONText.parse(#"{"replicas": 9, "max": 3}"#))
        #expect(e.count == 1)
        #expect(e.first?.kind == .forbidden && e.first?.path == "replicas" && e.first?.detail == "replicas 9 exceeds max 3")
    }

    @Test func aRuleThatFailsToEvaluateIsReportedAsKubeApiserverReportsIt() throws {
        let refs = JSONSchemaProps.array(of: JSONSchemaProps(type: "string"))
        var s = JSONSchemaProps.object(properties: ["mode": JSONSchemaProps(type: "string"), "refs": refs, "options": refs])
        s.validations = [
            ValidationRule(rule: "self.mode == 'Terminate' ? size(self.refs) > 0 || size(self.options) > 0 : true", message: "refs or options when Terminate")
        ]
        let e = SchemaValidator(schema: s).validate(try JSONText.parse(#"{"mode": "Terminate"}"#))
        // Both sides of || fail; the left one's error is reported, then the rule's message.
        #expect(e.map(\.description) == [#"Invalid value: "object": no such key: refs evaluating rule: refs or options when Terminate"#])
        #expect(SchemaValidator(schema: s).validate(try JSONText.parse(#"{"mode": "Terminate", "options": ["x"]}"#)).isEmpty)
    }

    @Test func crdRulesMustCompileAndFitTheCostBudget() {
        var bad = JSONSchemaProps.object(properties: ["a": JSONSchemaProps(type: "integer")])
        bad.validations = [ValidationRule(rule: "self.a =~ 3")]
        #expect(CELRules.problems(in: bad, path: "spec").first?.path == "spec.x-kubernetes-validations[0].rule")
        var unbounded = JSONSchemaProps.array(of: JSONSchemaProps(type: "string"))
        unbounded.validations = [ValidationRule(rule: "self.all(x, self.all(y, x == y || x != y))")]
        let cost = CELRules.problems(in: .object(properties: ["l": unbounded]), path: "spec")
        #expect(cost.first?.detail.contains("estimated rule cost exceeds budget") == true)
        unbounded.maxItems = 64
        #expect(CELRules.problems(in: .object(properties: ["l": unbounded]), path: "spec").isEmpty)
    }

    @Test func stringFormatsAreChecked() throws {
        func props(_ format: String) -> JSONSchemaProps {
            var s = JSONSchemaProps(type: "string")
            s.format = format
            return s
        }
        let v = SchemaValidator(schema: .object(properties: ["b": props("byte"), "d": props("date"), "u": props("uuid"), "i": props("ipv4"), "h": props("hostname"), "free": props("color")]))
        #expect(v.validate(try JSONText.parse(#"{"b": "aGk=", "d": "2026-12-03", "u": "123e4567-e89b-12d3-a456-426614174000", "i": "10.0.0.1", "h": "a.example.com", "free": "blue"}"#)).isEmpty)
        let bad = v.validate(try JSONText.parse(#"{"b": "*", "d": "03/12/2026", "u": "x", "i": "10.0.0.256", "h": "-x"}"#))
        #expect(bad.map(\.path).sorted() == ["b", "d", "h", "i", "u"])
        #expect(bad.first { $0.path == "b" }?.detail == #"b in body must be of type byte: "*""#)
    }

    @Test func fieldPathsMustNameAField() {
        var s = JSONSchemaProps.object(properties: ["a": .object(properties: ["b": JSONSchemaProps(type: "string")])])
        s.validations = [ValidationRule(rule: "true", fieldPath: ".a.b"), ValidationRule(rule: "true", fieldPath: ".a.c")]
        let p = CELRules.problems(in: s, path: "spec")
        #expect(p.map(\.path) == ["spec.x-kubernetes-validations[1].fieldPath"])
        #expect(p.first?.detail.contains("field c does not exist") == true)
    }

    /// The checker refuses what would fail for every object, and nothing else.
    @Test func rulesAreTypeCheckedAgainstTheSchema() {
        var labels = JSONSchemaProps(type: "object")
        labels.additionalProperties = JSONSchemaProps(type: "string")
        var free = JSONSchemaProps.object(properties: ["known": JSONSchemaProps(type: "string")])
        free.preserveUnknownFields = true
        var ios = JSONSchemaProps()
        ios.intOrString = true
        func problems(_ rule: String) -> [FieldError] {
            var s = JSONSchemaProps.object(properties: [
                "replicas": JSONSchemaProps(type: "integer"), "name": JSONSchemaProps(type: "string"), "labels": labels, "free": free, "port": ios,
                "items": .array(of: .object(properties: ["weight": JSONSchemaProps(type: "integer")])),
            ])
            s.validations = [ValidationRule(rule: rule)]
            return CELRules.problems(in: s, path: "spec")
        }
        for bad in ["self.replics > 0", "self.replicas == 'three'", "self.name", "self.items.all(i, i.wieght > 0)", "self.name.size > 1", "!self.name"] {
            let p = problems(bad)
            #expect(p.first?.detail.hasPrefix("compilation failed") == true, "\(bad): \(p)")
        }
        for good in [
            "self.replicas > 0", "self.replicas == 3.0", "self.labels.team == 'ml'", "self.free.anything == 1", "self.port == 80 || self.port == 'http'",
            "has(self.name) && self.name.startsWith('a')", "self.items.all(i, i.weight >= 0)", "self.metadata.name.size() < 63",
            "cel.bind(n, self.name, n.size() > 0)", "self.?name.orValue('') != ''",
        ] {
            #expect(problems(good).isEmpty, "\(good): \(problems(good))")
        }
    }

    @Test func metadataValidation() throws {
        let bad = try JSONText.parse(#"{"name": "Bad_Name", "labels": {"ok": "v", "bad key!": "x", "k": "-bad-"}}"#)
        let e = ObjectMetaValidation.validate(bad, namespaced: true)
        #expect(e.map(\.path).sorted() == ["metadata.labels", "metadata.labels.k", "metadata.name"])
        #expect(ObjectMetaValidation.validate(try JSONText.parse(#"{"name": "ok-name.v1"}"#), namespaced: true).isEmpty)
    }

    @Test func timestampsRoundTrip() {
        for s in ["1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "1969-12-31T23:59:59Z", "2100-03-01T00:00:00Z"] {
            #expect(Timestamp(rfc3339: s)?.rfc3339 == s)
        }
        #expect(Timestamp(rfc3339: "2024-01-01T01:00:00+01:00")?.rfc3339 == "2024-01-01T00:00:00Z")
        #expect(Timestamp(rfc3339: "2024-01-01T00:00:00.123Z")?.secondsSinceEpoch == 1_704_067_200)
        for bad in ["2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "yesterday", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00"] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad)")
        }
        for secs in stride(from: Int64(-5_000_000_000), through: 5_000_000_000, by: 86_399 * 37) {
            let t = Timestamp(secondsSinceEpoch: secs)
            #expect(Timestamp(rfc3339: t.rfc3339) == t)
        }
    }
}
