import KubeModel
import Testing

/// Strategic merge patch and server-side apply field ownership, on plain JSON.
@Suite struct StrategicMergePatchTests {
    let rules = ListRules { path in
        switch path {
        case ["spec", "containers"]: .map(keys: ["name"])
        case ["spec", "containers", "env"]: .map(keys: ["name"])
        case ["metadata", "finalizers"]: .set
        default: .atomic
        }
    }
    let pod = try! JSONText.parse(
        #"{"metadata":{"name":"p","finalizers":["a"]},"spec":{"containers":[{"name":"a","image":"x:1","env":[{"name":"K","value":"1"}]},{"name":"b","image":"y"}],"tolerations":[{"key":"t"}]}}"#
    )

    func patch(_ json: String) throws -> JSONValue { try StrategicMergePatch.apply(pod, try JSONText.parse(json), rules: rules) }

    @Test func keyedListsMergeElementByElement() throws {
        let out = try patch(#"{"spec":{"containers":[{"name":"a","image":"x:2","env":[{"name":"J","value":"2"}]}]}}"#)
        let containers = out["spec"]?["containers"]?.arrayValue ?? []
        #expect(containers.count == 2)
        #expect(containers[0]["image"] == "x:2" && containers[1]["image"] == "y")
        #expect(containers[0]["env"]?.arrayValue?.count == 2)
    }

    @Test func directivesDeleteReplaceAndRetain() throws {
        let deleted = try patch(#"{"spec":{"containers":[{"name":"b","$patch":"delete"}]}}"#)
        #expect(deleted["spec"]?["containers"]?.arrayValue?.map { $0["name"] } == ["a"])
        let replaced = try patch(#"{"spec":{"containers":[{"name":"c","image":"z"},{"$patch":"replace"}]}}"#)
        #expect(replaced["spec"]?["containers"]?.arrayValue?.map { $0["name"] } == ["c"])
        let mapReplaced = try patch(#"{"metadata":{"$patch":"replace","name":"q"}}"#)
        #expect(mapReplaced["metadata"] == ["name": "q"])
        let retained = try patch(#"{"spec":{"$retainKeys":["containers"],"tolerations":null}}"#)
        #expect(retained["spec"]?.objectValue?.keys == ["containers"])
        let fromSet = try patch(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#)
        #expect(fromSet["metadata"]?["finalizers"] == [])
        let ordered = try patch(#"{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}}"#)
        #expect(ordered["spec"]?["containers"]?.arrayValue?.map { $0["name"] } == ["b", "a"])
    }

    @Test func setsUnionAndAtomicListsReplace() throws {
        let out = try patch(#"{"metadata":{"finalizers":["b","a"]},"spec":{"tolerations":[{"key":"u"}]}}"#)
        #expect(out["metadata"]?["finalizers"] == ["a", "b"])
        #expect(out["spec"]?["tolerations"] == [["key": "u"]])
    }

    @Test func badPatchesAreRejectedWithThePath() {
        #expect(throws: JSONPatch.Failure.self) { try patch(#"{"spec":{"containers":["not-an-object"]}}"#) }
        #expect(throws: JSONPatch.Failure.self) { try patch(#"{"spec":{"$patch":"explode"}}"#) }
        #expect(throws: JSONPatch.Failure.self) { try patch(#"[1]"#) }
    }
}

@Suite struct ManagedFieldsTests {
    let rules = ListRules { $0 == ["spec", "ports"] ? .map(keys: ["port"]) : .atomic }

    func context(_ manager: String) -> ManagedFields.Context {
        ManagedFields.Context(manager: manager, apiVersion: "v1", time: "2026-01-01T00:00:00Z", rules: rules)
    }

    func apply(_ live: JSONValue?, _ json: String, as manager: String, force: Bool = false) throws -> Result<JSONValue, ManagedFields.Conflicts> {
        try ManagedFields.apply(live: live, applied: try JSONText.parse(json), force: force, context(manager))
    }

    func managers(_ o: JSONValue) -> [String] { o["metadata"]?["managedFields"]?.arrayValue?.compactMap { $0["manager"]?.stringValue } ?? [] }

    @Test func applyOwnsWhatItSetsAndRemovesWhatItDrops() throws {
        let first = try apply(nil, #"{"metadata":{"name":"s","labels":{"a":"1"}},"spec":{"replicas":1,"ports":[{"port":80},{"port":443}]}}"#, as: "ci").get()
        #expect(managers(first) == ["ci"])
        let second = try apply(first, #"{"metadata":{"name":"s"},"spec":{"ports":[{"port":80,"name":"http"}]}}"#, as: "ci").get()
        #expect(second["spec"]?["replicas"] == nil, "dropped fields go")
        #expect(second["metadata"]?["labels"] == nil)
        #expect(second["spec"]?["ports"] == [["port": 80, "name": "http"]])
    }

    @Test func conflictsNameTheOwnerAndForceTakesOver() throws {
        let applied = try apply(nil, #"{"spec":{"replicas":1,"ports":[{"port":80}]}}"#, as: "ci").get()
        // Another writer changes replicas with an update: it now owns that field.
        var edited = applied
        if case .object(var o) = edited, case .object(var spec)? = o["spec"] {
            spec["replicas"] = 5
            o["spec"] = .object(spec)
            edited = .object(o)
        }
        let updated = ManagedFields.recordUpdate(old: applied, new: edited, context("hpa"))
        #expect(managers(updated) == ["ci", "hpa"])
        guard case .failure(let refused) = try apply(updated, #"{"spec":{"replicas":2,"ports":[{"port":80}]}}"#, as: "ci") else {
            Issue.record("expected a conflict")
            return
        }
        #expect(refused.conflicts.map(\.description) == [#"conflict with "hpa" using v1: .spec.replicas"#])
        // Applying the same value co-owns; force takes the field.
        #expect((try? apply(updated, #"{"spec":{"replicas":5,"ports":[{"port":80}]}}"#, as: "ci").get()) != nil)
        let forced = try apply(updated, #"{"spec":{"replicas":2,"ports":[{"port":80}]}}"#, as: "ci", force: true).get()
        #expect(forced["spec"]?["replicas"] == 2)
        #expect(managers(forced) == ["ci"], "hpa lost its only field")
    }

    @Test func fieldsOwnedByOthersSurviveAnApplyThatDropsThem() throws {
        let first = try apply(nil, #"{"spec":{"replicas":1,"paused":true}}"#, as: "a").get()
        let shared = try apply(first, #"{"spec":{"paused":true}}"#, as: "b").get()
        let dropped = try apply(shared, #"{"spec":{"replicas":1}}"#, as: "a").get()
        #expect(dropped["spec"]?["paused"] == true)
    }

    @Test func fieldsV1RoundTripsAndDisplaysKeyedElements() throws {
        let o = try apply(nil, #"{"spec":{"ports":[{"port":80,"name":"http"}]}}"#, as: "ci").get()
        let fields = o["metadata"]?["managedFields"]?[0]?["fieldsV1"]
        #expect(fields?["f:spec"]?["f:ports"]?[#"k:{"port":80}"#]?["f:name"] == [:])
        // Re-reading the encoding gives the same ownership: a second apply of the same config changes nothing.
        let again = try apply(o, #"{"spec":{"ports":[{"port":80,"name":"http"}]}}"#, as: "ci").get()
        #expect(again == o)
        #expect(ManagedFields.display(["f:spec", "f:ports", #"k:{"port":80}"#, "f:name"]) == ".spec.ports[port=80].name")
    }
}

extension JSONValue {
    fileprivate subscript(index: Int) -> JSONValue? { arrayValue.flatMap { index < $0.count ? $0[index] : nil } }
}

@Suite struct JSONPatchTests {
    @Test func removeDeletesTheMemberRatherThanNullingIt() throws {
        let doc = try JSONText.parse(#"{"data":{"k":"v","extra":"1"},"list":[1,2,3]}"#)
        let ops = try JSONText.parse(#"[{"op":"remove","path":"/data/extra"},{"op":"remove","path":"/list/1"}]"#)
        let out = try JSONPatch.apply(doc, operations: ops)
        #expect(JSONText.serialize(out) == #"{"data":{"k":"v"},"list":[1,3]}"#)
    }
}
