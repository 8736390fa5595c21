import Foundation
import KubeModel
import Testing

private struct Sample: Codable, Equatable {
    struct Port: Codable, Equatable {
        var name: String?
        var port: Int32
    }
    enum Mode: String, Codable { case fast, slow }
    var metadata: ObjectMeta
    var mode: Mode
    var replicas: Int
    var ratio: Double
    var ports: [Port]
    var tags: [String: String]?
    var spec: JSONValue?
    var optionalNumber: Int64?
}

@Suite struct JSONValueDecoderTests {
    let document = #"""
        {"metadata": {"name": "a", "labels": {"x": "y"}, "creationTimestamp": "2026-01-02T03:04:05Z", "generation": 3},
         "mode": "fast", "replicas": 2.0, "ratio": 1, "ports": [{"port": 80}, {"name": "m", "port": 9090}],
         "tags": null, "spec": {"any": [1, "two", {"three": null}]}, "unknown": true}
        """#

    @Test func decodesLikeFoundationAndPassesJSONValueThrough() throws {
        let value = try JSONText.parse(document)
        let ours = try JSONValueDecoder().decode(Sample.self, from: value)
        let foundation = try JSONDecoder().decode(Sample.self, from: Data(document.utf8))
        #expect(ours == foundation)
        #expect(ours.spec == value["spec"])
        #expect(ours.replicas == 2 && ours.ratio == 1 && ours.tags == nil && ours.optionalNumber == nil)
        #expect(ours.metadata.creationTimestamp != nil && ours.metadata.labels == ["x": "y"])
    }

    @Test func errorsNameTheFieldPath() throws {
        var bad = try JSONText.parse(document)
        if case .object(var o) = bad {
            o["ports"] = [["port": "eighty"]]
            bad = .object(o)
        }
        let error = try #require(throws: DecodingError.self) { try JSONValueDecoder().decode(Sample.self, from: bad) }
        guard case .typeMismatch(_, let context) = error else { Issue.record("unexpected \(error)"); return }
        #expect(context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == ["ports", "0", "port"])
    }

    /// Scalars, string maps and string arrays skip the nested decoder; they must still decode
    /// as Foundation does, and their errors must still name the path.
    @Test func directlyDecodedTypesMatchFoundationAndNameThePath() throws {
        struct Shapes: Codable, Equatable {
            var names: [String]
            var map: [String: String]
            var small: Int32
            var big: Int64?
            var flag: Bool
            var text: String
            var number: Double
            var nested: [[String]]
            var maps: [[String: String]]?
        }
        let text = #"{"names": ["a", "é"], "map": {"k": "v", "z": ""}, "small": 7, "big": 9007199254740993, "flag": false, "text": "t", "number": 2, "nested": [["x"], []], "maps": [{"a": "b"}]}"#
        let ours = try JSONValueDecoder().decode(Shapes.self, from: JSONText.parse(text))
        #expect(ours == (try JSONDecoder().decode(Shapes.self, from: Data(text.utf8))))
        #expect(ours.big == 9_007_199_254_740_993)

        let valid = try #require(JSONText.parse(text).objectValue)
        func path(_ key: String, _ value: JSONValue) throws -> [String] {
            var o = valid
            o[key] = value
            let error = try #require(throws: DecodingError.self) { try JSONValueDecoder().decode(Shapes.self, from: .object(o)) }
            switch error {
            case .typeMismatch(_, let c), .dataCorrupted(let c), .keyNotFound(_, let c), .valueNotFound(_, let c):
                return c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            @unknown default: return []
            }
        }
        #expect(try path("names", ["a", 1]) == ["names", "1"])
        #expect(try path("map", ["k": true]) == ["map", "k"])
        #expect(try path("small", .int(1 << 40)) == ["small"])
        #expect(try path("flag", "false") == ["flag"])
        #expect(try path("text", .int(1)) == ["text"])
        #expect(try path("nested", [["x"], [.null]]) == ["nested", "1", "0"])
        #expect(try path("maps", [["a": "b"], ["c": .int(1)]]) == ["maps", "1", "c"])
    }

    @Test func refusesLossyNumbers() throws {
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Int8.self, from: .int(300)) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Int.self, from: .double(1.5)) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Sample.self, from: ["mode": "fast"]) }
    }
}
