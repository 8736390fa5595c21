import ControlPlane
import Foundation
import KubeModel
import Testing

let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// An API handler on a fresh store, with a fixed clock and predictable uids, and the
/// namespaces the tests write to (objects need an existing namespace).
func makeServer(path: String = tempDB(), namespaces: [String] = ["default", "inference", "a", "b"]) async throws -> APIHandler {
    let counter = Counter()
    let handler = try await APIHandler(store: try ObjectStore(path: path), now: { Timestamp(secondsSinceEpoch: 1_700_000_000) }, newUID: { counter.next() })
    for ns in namespaces { _ = await call(handler, "POST", "/api/v1/namespaces", #"{"metadata":{"name":"\#(ns)"}}"#) }
    return handler
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> String {
        lock.lock()
        defer { lock.unlock() }
        n += 1
        return "uid-\(n)-abcdefgh"
    }
}

/// Calls the handler; the body returned is the one a client would read from the wire.
func call(_ s: APIHandler, _ method: String, _ path: String, _ body: String = "", contentType: String = "application/json", query: [String: String] = [:]) async -> APIResponse {
    var response = await s.handle(APIRequest(method: method, path: path, query: query, body: Array(body.utf8), contentType: contentType))
    if let encoded = response.encodedBody { response.body = (try? JSONText.parse(encoded)) ?? "unparseable body" }
    return response
}

func yamlFile(_ relative: String) throws -> String { try String(contentsOf: repo.appendingPathComponent(relative), encoding: .utf8) }

/// The first document of a YAML file as JSON text.
func json(ofYAML text: String) throws -> String {
    JSONText.serialize(try YAMLDocuments.read(text).first { $0.value != .null }!.value)
}

let llmdPath = "/apis/llmops.io/v1alpha1/namespaces/inference/llmdeployments"

func installCRDs(_ s: APIHandler) async throws {
    for f in ["llmops.io_llmdeployments.yaml", "llmops.io_scalingpolicies.yaml", "llmops.io_canaryruns.yaml"] {
        let r = await call(s, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", try json(ofYAML: try yamlFile("crds/\(f)")))
        #expect(r.status == 201, "\(f): \(r.body)")
        let conditions = r.body["status"]?["conditions"]?.arrayValue ?? []
        #expect(conditions.contains { $0["type"] == "Established" && $0["status"] == "True" })
    }
}

@Suite struct APIHandlerTests {
    @Test func crdsBecomeServedAndCustomResourcesAreDefaulted() async throws {
        let s = try await makeServer()
        try await installCRDs(s)
        let r = await call(s, "POST", llmdPath, try json(ofYAML: try yamlFile("manifests/samples/llmdeployment-llama-8b.yaml")))
        #expect(r.status == 201, "\(r.body)")
        let meta = r.body["metadata"]!
        #expect(meta["generation"] == .int(1))
        #expect(meta["uid"]?.stringValue?.hasPrefix("uid-") == true)
        #expect(meta["creationTimestamp"] == "2023-11-14T22:13:20Z")
        #expect(meta["resourceVersion"]?.stringValue != nil)
        // Schema defaults applied by the server.
        #expect(r.body["spec"]?["slo"]?["attainment"] == .double(0.99))
        #expect(r.body["spec"]?["gpu"]?["allowMixed"] == .bool(false))
        let got = await call(s, "GET", llmdPath + "/llama-3-1-8b-chat")
        #expect(got.status == 200 && got.body["kind"] == "LLMDeployment")
        #expect(await s.servedResources.contains { $0.kind == "CanaryRun" && $0.statusSubresource })
    }

    @Test func invalidObjectsGet422WithFieldPaths() async throws {
        let s = try await makeServer()
        try await installCRDs(s)
        let bad = #"{"apiVersion":"llmops.io/v1alpha1","kind":"LLMDeployment","metadata":{"name":"x"},"spec":{"model":{"name":"m","source":"hf://m","parameterCount":"8B"},"slo":{"ttftP95Ms":-1,"itlP95Ms":50},"gpu":{"allowedTypes":["TPU"]}}}"#
        let r = await call(s, "POST", llmdPath, bad)
        #expect(r.status == 422)
        #expect(r.body["reason"] == "Invalid")
        let fields = Set((r.body["details"]?["causes"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue })
        // The enum violation is a shape error, so the CEL rules were skipped and the "<nil>"
        // cause says so, as kube-apiserver's does.
        #expect(fields == ["spec.slo.ttftP95Ms", "spec.gpu.allowedTypes[0]", "<nil>"])
        let policy = #"{"apiVersion":"llmops.io/v1alpha1","kind":"ScalingPolicy","metadata":{"name":"p"},"spec":{"targetRef":{"name":"x"},"minReplicas":5,"maxReplicas":2}}"#
        let p = await call(s, "POST", "/apis/llmops.io/v1alpha1/namespaces/inference/scalingpolicies", policy)
        #expect(p.status == 422)
        #expect(p.body["message"]?.stringValue?.contains("minReplicas must be less than or equal to maxReplicas") == true)
    }

    @Test func unknownFieldsArePrunedOrRejectedWhenStrict() async throws {
        let s = try await makeServer()
        try await installCRDs(s)
        var doc = try YAMLDocuments.read(try yamlFile("manifests/samples/canaryrun-model-revision.yaml"))[0].value.objectValue!
        var spec = doc["spec"]!.objectValue!
        spec["surprise"] = true
        doc["spec"] = .object(spec)
        let body = JSONText.serialize(.object(doc))
        let strict = await call(s, "POST", "/apis/llmops.io/v1alpha1/namespaces/inference/canaryruns", body, query: ["fieldValidation": "Strict"])
        #expect(strict.status == 400)
        #expect(strict.body["message"]?.stringValue?.contains("unknown field \"spec.surprise\"") == true)
        let lenient = await call(s, "POST", "/apis/llmops.io/v1alpha1/namespaces/inference/canaryruns", body)
        #expect(lenient.status == 201)
        #expect(lenient.body["spec"]?["surprise"] == nil)
        #expect(lenient.warnings == ["unknown field \"spec.surprise\""])
    }

    @Test func optimisticConcurrencyGenerationAndStatusSubresource() async throws {
        let s = try await makeServer()
        try await installCRDs(s)
        let created = await call(s, "POST", llmdPath, try json(ofYAML: try yamlFile("manifests/samples/llmdeployment-llama-8b.yaml")))
        let name = llmdPath + "/llama-3-1-8b-chat"
        #expect(await call(s, "POST", llmdPath, try json(ofYAML: try yamlFile("manifests/samples/llmdeployment-llama-8b.yaml"))).body["reason"] == "AlreadyExists")

        // Merge patch of the spec bumps generation; status in a main-resource patch is ignored.
        let p1 = await call(s, "PATCH", name, #"{"spec":{"replicas":3},"status":{"readyReplicas":9}}"#, contentType: "application/merge-patch+json")
        #expect(p1.status == 200, "\(p1.body)")
        #expect(p1.body["metadata"]?["generation"] == .int(2))
        #expect(p1.body["status"] == nil)
        // Status through /status: no generation bump, spec untouched.
        let st = await call(s, "PATCH", name + "/status", #"{"status":{"readyReplicas":2,"observedGeneration":2}}"#, contentType: "application/merge-patch+json")
        #expect(st.status == 200, "\(st.body)")
        #expect(st.body["status"]?["readyReplicas"] == .int(2))
        #expect(st.body["metadata"]?["generation"] == .int(2))
        // A PUT with the original (stale) resourceVersion conflicts.
        let stale = await call(s, "PUT", name, JSONText.serialize(created.body))
        #expect(stale.status == 409 && stale.body["reason"] == "Conflict")
        // JSON patch with a test that fails leaves the object unchanged.
        let jp = await call(s, "PATCH", name, #"[{"op":"test","path":"/spec/replicas","value":7},{"op":"replace","path":"/spec/replicas","value":1}]"#, contentType: "application/json-patch+json")
        #expect(jp.status == 422)
        let ok = await call(s, "PATCH", name, #"[{"op":"replace","path":"/spec/replicas","value":4}]"#, contentType: "application/json-patch+json")
        #expect(ok.body["spec"]?["replicas"] == .int(4) && ok.body["metadata"]?["generation"] == .int(3))
        // Strategic merge patch is for built-in kinds only.
        #expect(await call(s, "PATCH", name, "{}", contentType: "application/strategic-merge-patch+json").status == 415)
    }

    @Test func finalizersHoldDeletion() async throws {
        let s = try await makeServer()
        #expect(await call(s, "POST", "/api/v1/namespaces", #"{"metadata":{"name":"team"}}"#).status == 201)
        let cm = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"prices","finalizers":["llmops.io/cleanup"],"labels":{"app":"llmops"}},"data":{"H100":"6.5"}}"#
        #expect(await call(s, "POST", "/api/v1/namespaces/team/configmaps", cm).status == 201)
        let d = await call(s, "DELETE", "/api/v1/namespaces/team/configmaps/prices")
        #expect(d.status == 202)
        #expect(d.body["metadata"]?["deletionTimestamp"] != nil)
        #expect(await call(s, "GET", "/api/v1/namespaces/team/configmaps/prices").status == 200)
        let release = await call(s, "PATCH", "/api/v1/namespaces/team/configmaps/prices", #"{"metadata":{"finalizers":null}}"#, contentType: "application/merge-patch+json")
        #expect(release.status == 200, "\(release.body)")
        #expect(await call(s, "GET", "/api/v1/namespaces/team/configmaps/prices").status == 404)
    }

    @Test func listsFilterByLabelAndNamespace() async throws {
        let s = try await makeServer()
        for (ns, name, app) in [("a", "one", "x"), ("a", "two", "y"), ("b", "three", "x")] {
            let r = await call(s, "POST", "/api/v1/namespaces/\(ns)/configmaps", #"{"metadata":{"name":"\#(name)","labels":{"app":"\#(app)"}}}"#)
            #expect(r.status == 201)
        }
        let all = await call(s, "GET", "/api/v1/configmaps", query: ["labelSelector": "app=x"])
        #expect(all.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue }.sorted() == ["one", "three"])
        #expect(all.body["kind"] == "ConfigMapList")
        let inA = await call(s, "GET", "/api/v1/namespaces/a/configmaps", query: ["labelSelector": "app in (x,y),app!=y"])
        #expect(inA.body["items"]?.arrayValue?.count == 1)
        #expect(await call(s, "GET", "/api/v1/configmaps", query: ["labelSelector": "app=(bad"]).status == 400)
        // Field selectors: the indexed fields only.
        let byName = await call(s, "GET", "/api/v1/configmaps", query: ["fieldSelector": "metadata.name!=one,metadata.namespace=a"])
        #expect(byName.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["two"])
        let unsupported = await call(s, "GET", "/api/v1/configmaps", query: ["fieldSelector": "data.x=1"])
        #expect(unsupported.status == 400 && unsupported.body["message"]?.stringValue?.contains("field label not supported: data.x") == true)
        #expect(await call(s, "GET", "/api/v1/configmaps", query: ["fieldSelector": "nonsense"]).status == 400)
        // Paging: every object exactly once, one list resourceVersion, then a clean end.
        var names: [String] = []
        var token = ""
        var versions = Set<String>()
        repeat {
            let page = await call(s, "GET", "/api/v1/configmaps", query: ["limit": "2", "continue": token])
            #expect(page.status == 200, "\(page.body)")
            names += page.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
            versions.insert(page.body["metadata"]?["resourceVersion"]?.stringValue ?? "")
            token = page.body["metadata"]?["continue"]?.stringValue ?? ""
            if !token.isEmpty { #expect(page.body["metadata"]?["remainingItemCount"] == .int(1)) }
        } while !token.isEmpty && names.count < 10
        #expect(names == ["one", "two", "three"] && versions.count == 1)
        #expect(await call(s, "GET", "/api/v1/configmaps", query: ["limit": "2", "continue": "garbage"]).status == 400)
        #expect(await call(s, "GET", "/api/v1/configmaps", query: ["limit": "-1"]).status == 400)
    }

    @Test(arguments: [
        ("GET", "/api/v1/namespaces/default/widgets", "", 404),
        ("GET", "/nothing/here", "", 404),
        ("GET", "/api/v1/namespaces/default/configmaps/..", "", 404),
        ("GET", "/api/v1/namespaces/default/configmaps/Bad_Name", "", 400),
        ("POST", "/api/v1/namespaces/default/configmaps", "{not json", 400),
        ("POST", "/api/v1/namespaces/default/configmaps", "[1,2]", 400),
        ("POST", "/api/v1/namespaces/default/configmaps", "", 400),
        ("POST", "/api/v1/namespaces/default/configmaps", #"{"kind":"Secret","metadata":{"name":"x"}}"#, 400),
        ("POST", "/api/v1/namespaces/default/configmaps", #"{"metadata":{"name":"x","namespace":"other"}}"#, 400),
        ("POST", "/api/v1/namespaces/default/configmaps", #"{"metadata":{}}"#, 422),
        ("POST", "/api/v1/namespaces/default/configmaps", #"{"metadata":{"name":"UPPER"}}"#, 422),
        ("POST", "/api/v1/namespaces/default/nodes", #"{"metadata":{"name":"n"}}"#, 400),
        ("PUT", "/api/v1/namespaces/default/configmaps", "{}", 405),
        ("PUT", "/api/v1/namespaces/default/configmaps/missing", #"{"metadata":{"name":"missing"}}"#, 404),
        ("DELETE", "/api/v1/namespaces/default/configmaps/missing", "", 404),
        ("GET", "/api/v1/namespaces/default/configmaps/x/scale", "", 404),
    ])
    func badRequestsGetTheRightStatus(_ method: String, _ path: String, _ body: String, _ code: Int) async throws {
        let s = try await makeServer()
        let r = await call(s, method, path, body)
        #expect(r.status == code, "\(method) \(path): \(r.body)")
        #expect(r.body["kind"] == "Status")
        #expect(r.body["code"] == .int(Int64(code)))
    }

    @Test func restartServesStoredCRDs() async throws {
        let path = tempDB()
        do {
            let s = try await makeServer(path: path)
            try await installCRDs(s)
            #expect(await call(s, "POST", llmdPath, try json(ofYAML: try yamlFile("manifests/samples/llmdeployment-llama-8b.yaml"))).status == 201)
        }
        let again = try await makeServer(path: path)
        let r = await call(again, "GET", llmdPath + "/llama-3-1-8b-chat")
        #expect(r.status == 200, "\(r.body)")
    }
}
