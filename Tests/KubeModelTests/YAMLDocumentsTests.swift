import KubeModel
import Testing

@Suite struct YAMLDocumentsTests {
    @Test func readsTypedScalarsAndPositions() throws {
        let docs = try YAMLDocuments.read(
            """
            a: 1
            b: "1"
            c:
              - x: yes
                y: 2.5
            ---
            second: doc
            """)
        #expect(docs.count == 2)
        #expect(docs[0].value["a"] == .int(1))
        #expect(docs[0].value["b"] == .string("1"))
        #expect(docs[0].value["c"]?.arrayValue?.first?["x"] == .bool(true))
        #expect(docs[0].positions["c[0].y"] == SourcePosition(line: 5, column: 5))
        #expect(docs[0].position(of: "c[0].missing") == SourcePosition(line: 4, column: 5))
        #expect(docs[1].value["second"] == .string("doc"))
    }

    @Test func duplicateKeysAreAnError() {
        #expect(throws: YAMLReadError.self) { try YAMLDocuments.read("a: 1\nb: 2\na: 3\n") }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)
        #expect(throws: YAMLReadError.self) { try YAMLDocuments.read(deep) }
        let blocks = (0..<400).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"
        #expect(throws: YAMLReadError.self) { try YAMLDocuments.read(blocks) }
    }

    @Test func aliasBombIsRefused() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1..<9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]") }
        #expect(throws: YAMLReadError.self) { try YAMLDocuments.read(lines.joined(separator: "\n")) }
    }

    @Test func fieldPaths() {
        #expect(FieldPath.child("metadata.labels", "app.kubernetes.io/name") == "metadata.labels[app.kubernetes.io/name]")
        #expect(FieldPath.parent(of: "spec.steps[2].weight") == "spec.steps[2]")
        #expect(FieldPath.parent(of: "spec.steps[2]") == "spec.steps")
        #expect(FieldPath.parent(of: "metadata.labels[a.b/c]") == "metadata.labels")
        #expect(FieldPath.parent(of: "spec") == "")
    }
}
