import ControlPlane
import Foundation
import KubeModel
import Testing

/// CRDs written as other projects write them (issue 15): a schema that does not declare
/// `metadata`, transition rules, and error messages for the core group.
@Suite struct ThirdPartyCRDTests {
    /// The CronTab example of the Kubernetes documentation: its schema declares only `spec`.
    static let cronTab = """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"crontabs.stable.example.com"},
         "spec":{"group":"stable.example.com","scope":"Namespaced","names":{"plural":"crontabs","singular":"crontab","kind":"CronTab","shortNames":["ct"]},
          "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
            "spec":{"type":"object","properties":{"cronSpec":{"type":"string"},"image":{"type":"string"},"replicas":{"type":"integer"},
              "schedule":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf","message":"schedule is immutable"}]}}}}}}}]}}
        """

    @Test func rootFieldsAreKeptWhenTheSchemaDoesNotDeclareThem() async throws {
        let s = try await makeServer()
        #expect(await call(s, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Self.cronTab).status == 201)
        let path = "/apis/stable.example.com/v1/namespaces/default/crontabs"
        let created = await call(s, "POST", path, #"{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object","labels":{"a":"b"}},"spec":{"cronSpec":"* * * * */5","image":"my-awesome-cron-image","schedule":"daily"}}"#)
        #expect(created.status == 201, "\(created.body)")
        #expect(created.body["metadata"]?["name"]?.stringValue == "my-new-cron-object")
        #expect(created.body["metadata"]?["labels"]?["a"]?.stringValue == "b")
        #expect(created.body["apiVersion"]?.stringValue == "stable.example.com/v1" && created.body["kind"]?.stringValue == "CronTab")
        let read = await call(s, "GET", path + "/my-new-cron-object")
        #expect(read.body["spec"]?["image"]?.stringValue == "my-awesome-cron-image")
        // metadata is still validated as ObjectMeta.
        let bad = await call(s, "POST", path, #"{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"Bad_Name"}}"#)
        #expect(bad.status == 422 && bad.body["message"]?.stringValue?.contains("metadata.name") == true)
    }

    @Test func transitionRulesRunOnlyOnUpdate() async throws {
        let s = try await makeServer()
        #expect(await call(s, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Self.cronTab).status == 201)
        let path = "/apis/stable.example.com/v1/namespaces/default/crontabs"
        let created = await call(s, "POST", path, #"{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"c"},"spec":{"schedule":"daily"}}"#)
        #expect(created.status == 201, "\(created.body)")
        let same = await call(s, "PATCH", path + "/c", #"{"spec":{"image":"x"}}"#, contentType: "application/merge-patch+json")
        #expect(same.status == 200, "\(same.body)")
        let changed = await call(s, "PATCH", path + "/c", #"{"spec":{"schedule":"hourly"}}"#, contentType: "application/merge-patch+json")
        #expect(changed.status == 422)
        #expect(changed.body["message"]?.stringValue?.contains("spec.schedule: Invalid value") == true)
        #expect(changed.body["message"]?.stringValue?.contains("schedule is immutable") == true)
        // A field set for the first time has no old value: the rule does not apply to it.
        let other = await call(s, "POST", path, #"{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"d"},"spec":{"image":"y"}}"#)
        #expect(other.status == 201)
        #expect(await call(s, "PATCH", path + "/d", #"{"spec":{"schedule":"weekly"}}"#, contentType: "application/merge-patch+json").status == 200)
    }

    @Test func coreKindsAreNamedWithoutAStrayDot() async throws {
        let s = try await makeServer()
        let r = await call(s, "POST", "/api/v1/namespaces", #"{"metadata":{"name":"Not_Valid"}}"#)
        #expect(r.status == 422)
        #expect(r.body["message"]?.stringValue?.hasPrefix(#"Namespace "Not_Valid" is invalid"#) == true, "\(r.body)")
    }
}
