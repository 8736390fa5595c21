import Foundation
@testable import KubeClient
import KubeModel
import KubeTestSupport
import LLMOpsAPI
import Testing

/// The typed client against the embedded control plane (`llmops up` in-process).
@Suite struct ClientTests {
    @Test func configMapLifecycleAndTypedErrors() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let c = cluster.client
        var cm = ConfigMap(metadata: ObjectMeta(name: "settings", namespace: "default", labels: ["app": "a"]), data: ["k": "v"])
        let created = try await c.create(cm)
        #expect(created.metadata.uid != nil && created.metadata.resourceVersion != nil)
        await #expect { try await c.create(cm) } throws: { ($0 as? KubeAPIError)?.isAlreadyExists == true }

        var fetched = try await c.get(ConfigMap.self, name: "settings")
        #expect(fetched.data == ["k": "v"])
        fetched.data?["k"] = "w"
        let updated = try await c.update(fetched)
        #expect(updated.data?["k"] == "w")
        // The copy read before the update is stale now.
        await #expect { try await c.update(fetched) } throws: { ($0 as? KubeAPIError)?.isConflict == true }

        cm.metadata.name = "other"
        cm.metadata.labels = ["app": "b"]
        _ = try await c.create(cm)
        let selected = try await c.list(ConfigMap.self, namespace: "default", options: .init(labelSelector: "app=a"))
        #expect(selected.items.map { $0.metadata.name } == ["settings"])
        #expect(!selected.resourceVersion.isEmpty)

        let merged = try await c.patch(ConfigMap.self, name: "settings", .merge(["data": ["extra": "1"]]))
        #expect(merged.data == ["k": "w", "extra": "1"])
        let jsonPatched = try await c.patch(ConfigMap.self, name: "settings", .json([["op": "remove", "path": "/data/extra"]]))
        #expect(jsonPatched.data == ["k": "w"])

        try await c.delete(ConfigMap.self, name: "settings", options: .init(preconditionUID: created.metadata.uid))
        await #expect { try await c.get(ConfigMap.self, name: "settings") } throws: { ($0 as? KubeAPIError)?.isNotFound == true }
        await #expect { try await c.delete(ConfigMap.self, name: "settings") } throws: { ($0 as? KubeAPIError)?.isNotFound == true }
    }

    @Test func pagedListsFollowContinueTokens() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        for i in 0..<25 { _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "cm-\(i)", namespace: "default"))) }
        let page = try await cluster.client.list(ConfigMap.self, namespace: "default", options: .init(limit: 10))
        #expect(page.items.count == 10 && page.continueToken != nil)
        let all = try await cluster.client.listAll(ConfigMap.self, namespace: "default", options: .init(limit: 10))
        #expect(Set(all.items.compactMap(\.metadata.name)) == Set((0..<25).map { "cm-\($0)" }))
        #expect(all.resourceVersion == page.resourceVersion)
    }

    @Test func customResourcesWithStatusScaleApplyAndValidation() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        try await cluster.installCRDs()
        let c = cluster.client
        _ = try await c.create(Namespace(metadata: ObjectMeta(name: "inference")))
        let sample = try sampleDeployment()
        let created = try await c.create(sample)
        #expect(created.spec.engine == sample.spec.engine, "server-side defaults came back typed")

        var withStatus = created
        withStatus.status = LLMDeploymentStatus()
        withStatus.status?.replicas = 2
        withStatus.spec.replicas = 99  // ignored: the status subresource only writes status
        let afterStatus = try await c.updateStatus(withStatus)
        #expect(afterStatus.status?.replicas == 2 && afterStatus.spec.replicas == created.spec.replicas)
        #expect(afterStatus.metadata.generation == created.metadata.generation)

        let scaled = try await c.updateScale(LLMDeployment.self, name: created.metadata.name!, namespace: "inference", replicas: 3)
        #expect(scaled.spec.replicas == 3)
        #expect(try await c.scale(LLMDeployment.self, name: created.metadata.name!, namespace: "inference").status?.replicas == 2)

        var bad = sample
        bad.metadata.name = "bad"
        bad.spec.replicas = -1
        await #expect {
            try await c.create(bad)
        } throws: { error in
            guard case .invalid(let d)? = error as? KubeAPIError else { return false }
            return d.causes.contains { $0.field == "spec.replicas" }
        }

        // Server-side apply: a second manager touching the same field conflicts unless forced.
        var mine = ConfigMap(metadata: ObjectMeta(name: "applied", namespace: "default"), data: ["owner": "first"])
        _ = try await c.apply(mine, fieldManager: "first")
        mine.data = ["owner": "second"]
        await #expect { try await c.apply(mine, fieldManager: "second") } throws: { ($0 as? KubeAPIError)?.isConflict == true }
        let forced = try await c.apply(mine, fieldManager: "second", force: true)
        #expect(forced.data?["owner"] == "second")
    }

    @Test func watchStreamsEventsInOrderFromAVersion() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let c = cluster.client
        let start = try await c.list(ConfigMap.self, namespace: "default").resourceVersion
        let stream = try await c.watch(ConfigMap.self, namespace: "default", options: .init(resourceVersion: start, timeoutSeconds: 30))
        var cm = try await c.create(ConfigMap(metadata: ObjectMeta(name: "w", namespace: "default"), data: ["n": "1"]))
        cm.data = ["n": "2"]
        _ = try await c.update(cm)
        try await c.delete(ConfigMap.self, name: "w")
        var seen: [String] = []
        for try await event in stream {
            switch event {
            case .added(let o): seen.append("ADDED \(o.data?["n"] ?? "")")
            case .modified(let o): seen.append("MODIFIED \(o.data?["n"] ?? "")")
            case .deleted: seen.append("DELETED")
            case .bookmark: continue
            }
            if seen.count == 3 { break }
        }
        #expect(seen == ["ADDED 1", "MODIFIED 2", "DELETED"])
    }

    /// A watch from an old version replays its backlog in large chunks, handed on as batches:
    /// the events must still come out complete and in order.
    @Test func watchBacklogArrivesCompleteAndInOrder() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let c = cluster.client
        let start = try await c.list(ConfigMap.self, namespace: "default").resourceVersion
        for i in 0..<300 { _ = try await c.create(ConfigMap(metadata: ObjectMeta(name: "b\(i)", namespace: "default"), data: ["i": "\(i)"])) }
        let stream = try await c.watch(ConfigMap.self, namespace: "default", options: .init(resourceVersion: start, timeoutSeconds: 30))
        var seen: [Int] = []
        var versions: [Int64] = []
        for try await event in stream {
            guard case .added(let o) = event else { continue }
            seen.append(Int(o.data?["i"] ?? "") ?? -1)
            versions.append(Int64(o.metadata.resourceVersion ?? "") ?? -1)
            if seen.count == 300 { break }
        }
        #expect(seen == Array(0..<300))
        #expect(versions == versions.sorted() && Set(versions).count == 300)
        // The batch decoder itself: a batch this long is decoded in parallel halves, and the
        // order must survive; managedFields are skipped only when asked.
        let lines = (0..<40).map { i in
            Array(#"{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x\#(i)","managedFields":[{"manager":"m","fieldsV1":{"f:data":{}}}]}}}"#.utf8)
        }
        #expect(lines.count >= KubeClient.parallelDecodeThreshold)
        for omit in [false, true] {
            let events = try await KubeClient.decodeWatchLines(ConfigMap.self, lines[...], omitManagedFields: omit)
            let objects = events.compactMap { e -> ConfigMap? in if case .added(let o) = e { return o } else { return nil } }
            #expect(objects.map { $0.metadata.name ?? "" } == (0..<40).map { "x\($0)" })
            #expect(objects.allSatisfy { ($0.metadata.managedFields == nil) == omit })
        }
    }

    @Test func wrongTokenIsUnauthorizedAndDeadServerIsATransportError() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        var config = cluster.configuration
        config.credentials = .bearer("wrong")
        let intruder = try KubeClient(config)
        defer { Task { await intruder.shutdown() } }
        await #expect {
            try await intruder.get(Namespace.self, name: "default")
        } throws: { if case .unauthorized? = $0 as? KubeAPIError { true } else { false } }

        var dead = cluster.configuration
        dead.server = "https://127.0.0.1:1"
        let nowhere = try KubeClient(dead)
        defer { Task { await nowhere.shutdown() } }
        await #expect {
            try await nowhere.get(Namespace.self, name: "default")
        } throws: { ($0 as? KubeAPIError)?.isRetryable == true }
    }

    @Test func throttleHoldsRequestsToTheConfiguredRate() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let slow = try cluster.client(qps: 20, burst: 2)
        defer { Task { await slow.shutdown() } }
        let start = ContinuousClock.now
        for _ in 0..<8 { _ = try await slow.get(Namespace.self, name: "default") }
        // 2 free, 6 more at 20/s: at least 0.3 s, however fast the server is.
        #expect(ContinuousClock.now - start >= .milliseconds(290))
    }
}

func sampleDeployment() throws -> LLMDeployment {
    let root = repositoryRoot
    let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("manifests/samples").path).sorted()
    for f in files where f.hasSuffix(".yaml") {
        let text = try String(contentsOf: root.appendingPathComponent("manifests/samples/\(f)"), encoding: .utf8)
        for doc in try YAMLDocuments.read(text) where doc.value["kind"]?.stringValue == "LLMDeployment" {
            var d = try JSONDecoder().decode(LLMDeployment.self, from: Data(JSONText.serialize(doc.value).utf8))
            d.metadata.namespace = "inference"
            return d
        }
    }
    throw CocoaError(.fileNoSuchFile)
}
