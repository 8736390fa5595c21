import KubeModel
import PropertyBased
import LLMOpsCore
import Testing

@Suite struct JSONTextTests {
    @Test func parsesAndKeepsIntegerIdentity() throws {
        let v = try JSONText.parse(#"{"a": 1, "b": 1.5, "c": [true, null, "x\u00e9\n"], "d": -2e3}"#)
        #expect(v["a"] == .int(1))
        #expect(v["b"] == .double(1.5))
        #expect(v["c"] == .array([.bool(true), .null, .string("xé\n")]))
        #expect(v["d"] == .double(-2000))
        #expect(v.objectValue?.keys == ["a", "b", "c", "d"])
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"\\q\"", "[1] 2", "{\"a\":}", "\"\u{01}\"", "1.", "-", "1e",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONText.ParseError.self) { try JSONText.parse(text) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D]] {
            #expect(throws: JSONText.ParseError.self) { try JSONText.parse(bytes) }
        }
        #expect((try? JSONText.parse([0x22, 0xC3, 0xA9, 0x22])) == .string("é"))
    }

    /// Long keys are shared between occurrences; escaped and near-identical keys must not be
    /// confused with each other.
    @Test func repeatedLongKeysParseAsWritten() throws {
        let text = #"[{"stabilizationWindowSeconds": 1, "stabilizationWindowSecondz": 2}, {"stabilizationWindowSeconds": 3, "stabilization\u0057indowSeconds": 4, "stabilizationWindowSecondsé": 5}]"#
        let v = try JSONText.parse(text)
        #expect(v.arrayValue?[0].objectValue?.keys == ["stabilizationWindowSeconds", "stabilizationWindowSecondz"])
        #expect(v.arrayValue?[1]["stabilizationWindowSeconds"] == .int(4))  // the escaped key is the same key; last wins
        #expect(v.arrayValue?[1]["stabilizationWindowSecondsé"] == .int(5))
        #expect(v.arrayValue?[0]["stabilizationWindowSecondz"] == .int(2))
    }

    /// An omitted value is left out and nothing else changes, wherever the path leads
    /// (objects, arrays, the same name at other depths).
    @Test func omittingLeavesOutExactlyThePath() throws {
        for seed in UInt64(0)..<200 {
            var rng = SeededGenerator(seed: seed)
            let skipped = randomJSON(&rng, depth: 0)
            let kept = randomJSON(&rng, depth: 0)
            let item: JSONValue = ["metadata": ["name": "a", "managedFields": skipped, "labels": ["managedFields": kept]], "managedFields": kept]
            let list: JSONValue = ["kind": "List", "items": [item, ["metadata": ["name": "b"]], item], "managedFields": kept]
            let parsed = try JSONText.parse(JSONText.serialize(list, pretty: seed % 2 == 0), omitting: ["items", "*", "metadata", "managedFields"])
            var metadata = try #require(item["metadata"]?.objectValue)
            metadata["managedFields"] = nil
            var expectedItem = try #require(item.objectValue)
            expectedItem["metadata"] = .object(metadata)
            let expected: JSONValue = ["kind": "List", "items": [.object(expectedItem), ["metadata": ["name": "b"]], .object(expectedItem)], "managedFields": kept]
            #expect(parsed == expected)
        }
        // A path that does not match (an object where it expects an array) omits nothing.
        let text = #"{"items": {"x": {"metadata": {"managedFields": [1]}}}}"#
        #expect(try JSONText.parse(text, omitting: ["items", "*", "metadata", "managedFields"]) == JSONText.parse(text))
    }

    /// Skipping does not build the value, but malformed JSON inside it is still refused.
    @Test(arguments: [
        #"{"a": {"b": [1, 2}}"#, #"{"a": {"b": "open}}"#, #"{"a": {"b": {"k" 1}}}"#, #"{"a": {"b": tru}}"#, #"{"a": {"b": [1,]}}"#,
        #"{"a": {"b": 01x}}"#, "{\"a\": {\"b\": \"\u{01}\"}}", #"{"a": {"b": }}"#, #"{"a": {"b": [{"c": 1} {"d": 2}]}}"#, #"{"a": {"b": "x\"#,
    ])
    func omittedValuesMustStillBeWellFormed(_ text: String) {
        #expect(throws: JSONText.ParseError.self) { try JSONText.parse(text, omitting: ["a", "b"]) }
    }

    @Test func rejectsDeepNestingWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONText.ParseError.self) { try JSONText.parse(deep) }
        #expect(throws: JSONText.ParseError.self) { try JSONText.parse(#"{"a": "# + deep + "}", omitting: ["a"]) }
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONText.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func escapesControlCharactersAndKeepsUnicode() throws {
        let value = JSONValue.string("a\u{01}\u{1f}\"\\\n\r\tü😀")
        let text = JSONText.serialize(value)
        #expect(text == #""a\u0001\u001f\"\\\n\r\tü😀""#)
        #expect(try JSONText.parse(text) == value)
    }

    @Test func integersAtTheEdgesOfInt64() throws {
        #expect(try JSONText.parse("9223372036854775807") == .int(.max))
        #expect(try JSONText.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONText.parse("-999999999999999999") == .int(-999_999_999_999_999_999))
        #expect(try JSONText.parse("9223372036854775808") == .double(9223372036854775808))
    }

    /// Large objects switch to an index; order, lookup, replacement and removal must not change.
    @Test func largeObjectsKeepOrderThroughEdits() throws {
        var o = JSONObject()
        let names = (0..<40).map { "k\($0)" }.shuffled()
        for (i, n) in names.enumerated() { o[n] = .int(Int64(i)) }
        #expect(o.keys == names)
        o[names[3]] = "replaced"
        o[names[10]] = nil
        o[names[30]] = nil
        o["new"] = true
        let expected = names.enumerated().filter { $0.offset != 10 && $0.offset != 30 }.map(\.element) + ["new"]
        #expect(o.keys == expected)
        #expect(o[names[3]] == "replaced" && o[names[10]] == nil && o[names[39]] == .int(39) && o["new"] == true)
        var reversed = JSONObject()
        for k in expected.reversed() { reversed[k] = o[k] }
        #expect(reversed == o && reversed.hashValue == o.hashValue)
        #expect(try JSONText.parse(JSONText.serialize(.object(o))) == .object(o))
        while o.count > 3 { o[o.keys[0]] = nil }
        #expect(o.keys == Array(expected.suffix(3)))
    }

    @Test func roundTripsRandomValues() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SeededGenerator(seed: seed)
            let value = randomJSON(&rng, depth: 0)
            let text = JSONText.serialize(value)
            #expect((try? JSONText.parse(text)) == value)
            #expect((try? JSONText.parse(JSONText.serialize(value, pretty: true))) == value)
            // YAML is a superset of JSON, and our YAML writer must quote what would change type.
            let yaml = YAMLDocuments.serialize(value)
            #expect((try? YAMLDocuments.read(yaml))?.first?.value == value, "YAML:\n\(yaml)")
        }
    }
}


/// Strings chosen to break naive YAML writers: they read back as other types unless quoted.
let trickyStrings = [
    "yes", "no", "on", "off", "true", "False", "null", "~", "123", "0x1F", "1.5", "1e3", ".inf", "-", "a: b", "#c", "- x",
    "[x]", "{y}", " lead", "trail ", "multi\nline", "tab\there", "ünïcødé", "", "'", "\"", "*alias", "&anchor", "!tag", "%",
    "@", "`", "2024-01-01", "12:30",
]

func randomJSON(_ rng: inout SeededGenerator, depth: Int) -> JSONValue {
    let pick = Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng)
    switch pick {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2: return .int(Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &rng))
    case 3: return .double(Double(Int.random(in: -100_000...100_000, using: &rng)) / 64.0 + 0.5)
    case 4:
        if Bool.random(using: &rng) { return .string(trickyStrings.randomElement(using: &rng)!) }
        return .string(String((0..<Int.random(in: 0...12, using: &rng)).map { _ in "abcXYZ09 -_.:/\"\\é".randomElement(using: &rng)! }))
    case 5:
        return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomJSON(&rng, depth: depth + 1) })
    default:
        var o = JSONObject()
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            o[trickyStrings.randomElement(using: &rng)! + String(Int.random(in: 0...9, using: &rng))] = randomJSON(&rng, depth: depth + 1)
        }
        return .object(o)
    }
}
