import Foundation
import KubeClient
import KubeModel
import KubeTestSupport
import KubeClient
import Testing

@testable import KubeRuntime

@Suite struct InformerTests {
    @Test func seesCreateUpdateDeleteInOrderAndIndexes() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let c = cluster.client
        _ = try await c.create(ConfigMap(metadata: ObjectMeta(name: "before", namespace: "default"), data: ["n": "0"]))
        var options = Informer<ConfigMap>.Options()
        options.indexers["app"] = { [$0.metadata.labels?["app"] ?? ""] }
        let informer = Informer<ConfigMap>(client: c, options: options)
        let seen = LockedValue<[String]>([])
        informer.addHandler { e in
            let line: String
            switch e {
            case .added(let o): line = "added \(o.metadata.name!) \(o.data?["n"] ?? "")"
            case .updated(_, let o): line = "updated \(o.metadata.name!) \(o.data?["n"] ?? "")"
            case .deleted(let o): line = "deleted \(o.metadata.name!)"
            }
            seen.withLock { $0.append(line) }
        }
        let run = Task { await informer.run() }
        defer { run.cancel() }
        await informer.waitForSync()
        #expect(informer.cache.get(namespace: "default", name: "before") != nil)

        var cm = try await c.create(ConfigMap(metadata: ObjectMeta(name: "x", namespace: "default", labels: ["app": "web"]), data: ["n": "1"]))
        cm.data = ["n": "2"]
        cm = try await c.update(cm)
        cm.data = ["n": "3"]
        _ = try await c.update(cm)
        try await c.delete(ConfigMap.self, name: "x")
        let expected = ["added before 0", "added x 1", "updated x 2", "updated x 3", "deleted x"]
        #expect(await eventually { seen.withLock { $0 } == expected }, "\(seen.withLock { $0 })")
        #expect(informer.cache.get(namespace: "default", name: "x") == nil)

        _ = try await c.create(ConfigMap(metadata: ObjectMeta(name: "y", namespace: "default", labels: ["app": "web"])))
        #expect(await eventually { informer.cache.byIndex("app", "web").map { $0.metadata.name } == ["y"] })
        #expect(informer.cache.list(namespace: "default").count == 2)
        #expect(informer.cache.list(namespace: "kube-system").isEmpty)
    }

    /// By default the cache holds no managedFields (memory), and writing a cached object back
    /// must not lose the server's record of who owns what.
    @Test func cacheDropsManagedFieldsAndWritesKeepThem() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let c = cluster.client
        _ = try await c.apply(ConfigMap(metadata: ObjectMeta(name: "owned", namespace: "default"), data: ["a": "1"]), fieldManager: "gitops")
        let stripped = Informer<ConfigMap>(client: c, options: .init(namespace: "default"))
        var keepOptions = Informer<ConfigMap>.Options(namespace: "default")
        keepOptions.keepManagedFields = true
        let whole = Informer<ConfigMap>(client: c, options: keepOptions)
        let runs = [Task { await stripped.run() }, Task { await whole.run() }]
        defer { runs.forEach { $0.cancel() } }
        await stripped.waitForSync()
        await whole.waitForSync()
        var cached = try #require(stripped.cache.get(namespace: "default", name: "owned"))
        #expect(cached.metadata.managedFields == nil)
        #expect(whole.cache.get(namespace: "default", name: "owned")?.metadata.managedFields?.isEmpty == false)

        cached.data?["b"] = "2"
        _ = try await c.update(cached, fieldManager: "controller")
        let managers = try await c.get(ConfigMap.self, name: "owned", namespace: "default").metadata.managedFields?.compactMap { $0["manager"]?.stringValue }
        #expect(managers == ["gitops", "controller"])
        // Watched changes arrive without them too.
        #expect(await eventually { stripped.cache.get(namespace: "default", name: "owned")?.data?["b"] == "2" })
        #expect(stripped.cache.get(namespace: "default", name: "owned")?.metadata.managedFields == nil)
    }

    /// The API server reports an expired version as an ERROR event inside a 200 watch; the
    /// client must surface it as Gone (not as a broken stream) so the informer lists again.
    @Test func listsAgainAfterA410InsideTheWatchStream() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let proxy = try await cluster.faultProxy()
        let viaProxy = try cluster.client(server: proxy.server)
        proxy.expireNextWatchesInStream(1)
        let informer = Informer<ConfigMap>(client: viaProxy, options: .init(namespace: "default"))
        let run = Task { await informer.run() }
        defer { run.cancel() }
        await informer.waitForSync()
        #expect(await eventually { informer.lists >= 2 }, "relisted after the in-stream 410")
        #expect(proxy.injected["goneInStream"] == 1)
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "after-gone", namespace: "default")))
        #expect(await eventually { informer.cache.get(namespace: "default", name: "after-gone") != nil })
    }

    @Test func listsAgainAfterAForced410AndMissesNothing() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let proxy = try await cluster.faultProxy()
        let viaProxy = try cluster.client(server: proxy.server)
        let informer = Informer<ConfigMap>(client: viaProxy, options: .init(namespace: "default"))
        let run = Task { await informer.run() }
        defer { run.cancel() }
        await informer.waitForSync()
        #expect(informer.lists == 1)

        // The next watch request is answered 410: the informer must list again, and objects
        // created or deleted in between must still show up in the cache.
        proxy.expireNextWatches(1)
        proxy.setPlan({ var p = FaultProxy.Plan(); p.dropWatchesAfter = .milliseconds(300); return p }())
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "during", namespace: "default")))
        #expect(await eventually { informer.lists >= 2 }, "relisted after 410")
        proxy.setPlan(FaultProxy.Plan())
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "after", namespace: "default")))
        #expect(await eventually { informer.cache.get(namespace: "default", name: "after") != nil && informer.cache.get(namespace: "default", name: "during") != nil })
        #expect(proxy.injected["gone"] == 1)
    }

    @Test func resyncReplaysTheCache() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "r", namespace: "default")))
        let informer = Informer<ConfigMap>(client: cluster.client, options: .init(namespace: "default", resyncPeriod: .milliseconds(100)))
        let resyncs = LockedValue(0)
        informer.addHandler { e in
            if case .updated(let old, let new) = e, old.metadata.resourceVersion == new.metadata.resourceVersion { resyncs.withLock { $0 += 1 } }
        }
        let run = Task { await informer.run() }
        defer { run.cancel() }
        #expect(await eventually { resyncs.withLock { $0 } >= 2 })
    }
}
