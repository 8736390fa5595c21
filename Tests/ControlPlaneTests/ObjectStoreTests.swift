import ControlPlane
import Foundation
import KubeModel
import Testing

func tempDB() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmops-store-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("state.db").path
}

func object(_ name: String, _ n: Int64 = 0) -> JSONValue {
    ["metadata": ["name": .string(name)], "spec": ["n": .int(n)]]
}

func rv(_ o: JSONValue) -> Int64 { Int64(o["metadata"]!["resourceVersion"]!.stringValue!)! }

let deployments = "llmops.io/llmdeployments"

@Suite struct ObjectStoreTests {
    @Test func crudWithOneGlobalRevision() async throws {
        let store = try ObjectStore(path: tempDB())
        let a = try await store.create(StoreKey(resource: deployments, namespace: "ns1", name: "a"), object("a"))
        let p = try await store.create(StoreKey(resource: "core/pods", namespace: "ns1", name: "p"), object("p"))
        let a2 = try await store.update(StoreKey(resource: deployments, namespace: "ns1", name: "a"), object("a", 1), expectedRevision: rv(a))
        #expect([rv(a), rv(p), rv(a2)] == [1, 2, 3])
        #expect(try await store.get(StoreKey(resource: deployments, namespace: "ns1", name: "a"))["spec"]?["n"] == .int(1))
        let deleted = try await store.delete(StoreKey(resource: deployments, namespace: "ns1", name: "a"))
        #expect(rv(deleted) == 4)
        await #expect(throws: StoreError.notFound("\(deployments)/ns1/a")) { try await store.get(StoreKey(resource: deployments, namespace: "ns1", name: "a")) }
        #expect(await store.revision == 4)
    }

    @Test func optimisticConcurrencyAndExistence() async throws {
        let store = try ObjectStore(path: tempDB())
        let key = StoreKey(resource: deployments, namespace: "ns", name: "x")
        let first = try await store.create(key, object("x"))
        await #expect(throws: StoreError.alreadyExists(key.path)) { try await store.create(key, object("x")) }
        _ = try await store.update(key, object("x", 2), expectedRevision: rv(first))
        do {
            _ = try await store.update(key, object("x", 3), expectedRevision: rv(first))
            Issue.record("stale update succeeded")
        } catch {
            #expect(error == .conflict(key.path, current: 2))
            #expect(error.retryable)
        }
        await #expect(throws: StoreError.self) { try await store.delete(key, expectedRevision: 1) }
        await #expect(throws: StoreError.notFound("\(deployments)/ns/none")) { try await store.update(StoreKey(resource: deployments, namespace: "ns", name: "none"), object("none")) }
    }

    @Test func listsByResourceAndNamespace() async throws {
        let store = try ObjectStore(path: tempDB())
        for ns in ["a", "b"] {
            for n in ["x", "y"] { _ = try await store.create(StoreKey(resource: deployments, namespace: ns, name: n), object(n)) }
        }
        _ = try await store.create(StoreKey(resource: "llmops.io/llmdeploymentsx", namespace: "a", name: "z"), object("z"))
        #expect(try await store.list(prefix: StoreKey.prefix(resource: deployments, namespace: "a")).items.count == 2)
        let all = try await store.list(prefix: deployments + "/")
        #expect(all.items.count == 4)
        #expect(all.revision == 5)
    }

    /// Lists are served from memory: after random creates and deletes, and again after a
    /// restart that rebuilds memory from SQLite, every prefix, page and count must match a
    /// plain model of the same operations.
    @Test func pagedListsMatchAModelBeforeAndAfterRestart() async throws {
        let path = tempDB()
        var model: [String: Int64] = [:]
        var rng = SystemRandomNumberGenerator()
        let resources = [deployments, "llmops.io/llmdeploymentsx", "core/pods"]
        let namespaces = ["a", "b", "ab"]
        func check(_ store: ObjectStore) async throws {
            for resource in resources {
                for prefix in [resource + "/"] + namespaces.map({ StoreKey.prefix(resource: resource, namespace: $0) }) {
                    let expected = model.keys.filter { $0.hasPrefix(prefix) }.sorted()
                    #expect(await store.list(prefix: prefix).items.compactMap { $0["metadata"]?["name"]?.stringValue } == expected.map { String($0.split(separator: "/").last!) })
                    var paged: [String] = []
                    var after: String?
                    while true {
                        let page = await store.entries(prefix: prefix, after: after, limit: 3).items
                        paged += page.map(\.key)
                        guard page.count == 3 else { break }
                        after = page.last!.key
                        #expect(await store.count(prefix: prefix, after: after) == expected.count - paged.count)
                    }
                    #expect(paged == expected)
                    for item in await store.entries(prefix: prefix).items {
                        #expect(try JSONText.parse(item.encoded) == item.value && rv(item.value) == model[item.key])
                    }
                }
            }
        }
        do {
            let store = try ObjectStore(path: path)
            for _ in 0..<300 {
                let key = StoreKey(resource: resources.randomElement(using: &rng)!, namespace: namespaces.randomElement(using: &rng)!, name: "o\(Int.random(in: 0..<25, using: &rng))")
                if model[key.path] != nil, Bool.random(using: &rng) {
                    _ = try await store.delete(key)
                    model[key.path] = nil
                } else if model[key.path] == nil {
                    model[key.path] = rv(try await store.create(key, object(key.name)))
                }
            }
            try await check(store)
        }
        try await check(try ObjectStore(path: path))
    }

    /// Later pages of a list show the first page's revision: objects changed, deleted or
    /// created since are shown as they were, also across a compaction up to that revision
    /// (which must keep, or put back, the versions such a page needs) and a restart.
    @Test func snapshotAtAnEarlierRevisionSurvivesChangesCompactionAndRestart() async throws {
        let path = tempDB()
        let prefix = StoreKey.prefix(resource: deployments, namespace: "s")
        func key(_ n: String) -> StoreKey { StoreKey(resource: deployments, namespace: "s", name: n) }
        var atR: [String: Int64] = [:]
        let r: Int64
        do {
            let store = try ObjectStore(path: path)
            for i in 0..<8 { _ = try await store.create(key("o\(i)"), object("o\(i)", Int64(i))) }
            r = await store.revision
            for i in 0..<8 { atR[key("o\(i)").path] = Int64(i) }
            // o1 is written once before the compaction point is reached, o2..o5 only after.
            _ = try await store.update(key("o1"), object("o1", 100))
            try await store.compact(upTo: r)
            _ = try await store.update(key("o2"), object("o2", 200))  // its log entry was compacted: put back
            _ = try await store.update(key("o2"), object("o2", 201))
            _ = try await store.delete(key("o3"))
            _ = try await store.create(key("o3b"), object("o3b", 300))
            _ = try await store.update(key("o1"), object("o1", 101))
        }
        let store = try ObjectStore(path: path)
        func values(after: String?) async throws -> [String: Int64] {
            var out: [String: Int64] = [:]
            for e in try await store.entries(prefix: prefix, after: after, at: r) {
                #expect(try JSONText.parse(e.encoded) == e.value)
                out[e.key] = e.value["spec"]?["n"]?.intValue
            }
            return out
        }
        #expect(try await values(after: nil) == atR)
        #expect(try await values(after: key("o2").path) == atR.filter { $0.key > key("o2").path })
        // The current state is untouched by all this.
        #expect(await store.list(prefix: prefix).items.compactMap { $0["spec"]?["n"]?.intValue } == [0, 101, 201, 300, 4, 5, 6, 7])
        try await store.compact(upTo: r + 1)
        await #expect(throws: StoreError.self) { try await store.entries(prefix: prefix, after: nil, at: r) }
    }

    @Test func watchReplaysThenFollowsWithoutGapsOrDuplicates() async throws {
        let store = try ObjectStore(path: tempDB())
        let prefix = StoreKey.prefix(resource: deployments, namespace: "w")
        for i in 0..<5 { _ = try await store.create(StoreKey(resource: deployments, namespace: "w", name: "o\(i)"), object("o\(i)")) }
        _ = try await store.create(StoreKey(resource: deployments, namespace: "other", name: "o"), object("o"))
        let stream = try await store.watch(prefix: prefix, fromRevision: 2)
        // Concurrent writers while the watcher reads.
        let writer = Task {
            for i in 5..<105 { _ = try await store.create(StoreKey(resource: deployments, namespace: "w", name: "o\(i)"), object("o\(i)")) }
            _ = try await store.delete(StoreKey(resource: deployments, namespace: "w", name: "o0"))
        }
        var seen: [Int64] = []
        var types: [WatchEventType] = []
        for await event in stream {
            seen.append(event.resourceVersion)
            types.append(event.type)
            if event.type == .deleted { break }
        }
        try await writer.value
        // Events 3, 4, 5 from the log (the 'other' namespace at 6 excluded), then 7...107 live.
        #expect(seen == [3, 4, 5] + Array(7...107))
        #expect(types.last == .deleted && types.dropLast().allSatisfy { $0 == .added })
    }

    @Test func compactedRevisionsAreGone() async throws {
        let store = try ObjectStore(path: tempDB())
        for i in 0..<10 { _ = try await store.create(StoreKey(resource: deployments, namespace: "c", name: "o\(i)"), object("o\(i)")) }
        try await store.compact(upTo: 6)
        await #expect(throws: StoreError.gone(requested: 3, oldest: 6)) { try await store.watch(prefix: "", fromRevision: 3) }
        let stream = try await store.watch(prefix: "", fromRevision: 6)
        var it = stream.makeAsyncIterator()
        #expect(await it.next()?.resourceVersion == 7)
        #expect(StoreError.gone(requested: 3, oldest: 6).retryable == false)
    }

    @Test func restartServesTheSameObjectsAndRevisions() async throws {
        let path = tempDB()
        do {
            let store = try ObjectStore(path: path)
            for i in 0..<20 { _ = try await store.create(StoreKey(resource: deployments, namespace: "r", name: "o\(i)"), object("o\(i)", Int64(i))) }
            try await store.compact(upTo: 5)
        }
        let reopened = try ObjectStore(path: path)
        #expect(await reopened.revision == 20)
        #expect(await reopened.compactedRevision == 5)
        let o7 = try await reopened.get(StoreKey(resource: deployments, namespace: "r", name: "o7"))
        #expect(rv(o7) == 8 && o7["spec"]?["n"] == .int(7))
        let next = try await reopened.create(StoreKey(resource: deployments, namespace: "r", name: "new"), object("new"))
        #expect(rv(next) == 21)
    }

    @Test func unreadablePathIsAClearError() {
        #expect(throws: StoreError.self) { try ObjectStore(path: "/nonexistent-dir/state.db") }
    }
}

@Suite struct StoreDurabilityTests {
    static let writer: URL = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("StoreCrashWriter")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/StoreCrashWriter")
    }()

    /// kill -9 at arbitrary moments: every write the store acknowledged is there after restart.
    @Test(arguments: [150, 400, 900])
    func killNineLosesNoAcknowledgedWrite(acknowledgedBeforeKill: Int) async throws {
        let path = tempDB()
        let p = Process()
        p.executableURL = Self.writer
        p.arguments = [path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var acknowledged: [(rv: Int64, name: String, n: Int64)] = []
        var buffer = Data()
        let handle = out.fileHandleForReading
        while acknowledged.count < acknowledgedBeforeKill {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...nl)
                let f = line.split(separator: " ")
                if f.count == 3, let r = Int64(f[0]), let n = Int64(f[2]) { acknowledged.append((r, String(f[1]), n)) }
            }
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        #expect(acknowledged.count >= acknowledgedBeforeKill)

        let store = try ObjectStore(path: path)
        let last = acknowledged.last!
        #expect(await store.revision >= last.rv)
        // The newest acknowledged write of each object is present (or a later one).
        var newest: [String: (Int64, Int64)] = [:]
        for a in acknowledged { newest[a.name] = (a.rv, a.n) }
        for (name, (ackRV, n)) in newest {
            let o = try await store.get(StoreKey(resource: "llmops.io/llmdeployments", namespace: "crash", name: name))
            #expect(rv(o) >= ackRV)
            if rv(o) == ackRV { #expect(o["spec"]?["n"] == .int(n)) }
        }
        // And the event log holds every acknowledged revision, in order.
        let stream = try await store.watch(prefix: "", fromRevision: 0)
        var it = stream.makeAsyncIterator()
        var replayed: Set<Int64> = []
        let total = await store.revision
        while replayed.count < Int(total), let e = await it.next() { replayed.insert(e.resourceVersion) }
        #expect(acknowledged.allSatisfy { replayed.contains($0.rv) })
    }
}
