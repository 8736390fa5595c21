import Foundation
import KubeClient
import KubeModel
import KubeTestSupport
import Logging
import ServiceLifecycle
import KubeClient
import Testing

@testable import KubeRuntime

/// Copies `data.input` to `data.output` (the reconcile under test).
@Sendable func copyInput(_ client: KubeClient, _ request: ReconcileRequest) async throws -> ReconcileResult {
    var cm: ConfigMap
    do {
        cm = try await client.get(ConfigMap.self, name: request.name, namespace: request.namespace)
    } catch let error as KubeAPIError where error.isNotFound {
        return .done
    }
    let input = cm.data?["input"] ?? ""
    guard cm.data?["output"] != input else { return .done }
    cm.data?["output"] = input
    _ = try await client.update(cm)
    return .done
}

@Suite struct ControllerTests {
    /// One change is one add to the work queue: an update's old and new versions map to the
    /// same key, which must not be added twice (a worker taking it in between would reconcile
    /// twice for one change).
    @Test func oneChangeIsOneQueueAdd() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let manager = Manager(client: cluster.client)
        let reconciles = LockedValue(0)
        manager.controller("adds").for(ConfigMap.self, options: .init(namespace: "default")).complete { request, _ in
            if request.name == "counted" { reconciles.withLock { $0 += 1 } }
            return .done
        }
        let run = Task { try await manager.run() }
        defer { manager.stop() }
        var cm = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "counted", namespace: "default"), data: ["n": "0"]))
        #expect(await eventually { reconciles.withLock { $0 } == 1 })
        for i in 1...20 {
            cm.data = ["n": "\(i)"]
            cm = try await cluster.client.update(cm)
            #expect(await eventually { reconciles.withLock { $0 } == i + 1 })
        }
        let line = manager.metrics.exposition().split(separator: "\n").first { $0.hasPrefix("workqueue_adds_total") && $0.contains("name=\"adds\"") }
        #expect(line.map { $0.split(separator: " ").last == "21" } == true, "\(line ?? "no workqueue_adds_total")")
        #expect(reconciles.withLock { $0 } == 21)
        manager.stop()
        _ = try? await run.value
    }

    @Test func reconcilesEveryObjectAndNeverOneKeyTwiceAtOnce() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let manager = Manager(client: cluster.client)
        let active = LockedValue<[ReconcileRequest: Int]>([:])
        let overlaps = LockedValue(0)
        manager.controller("copier").for(ConfigMap.self, options: .init(namespace: "default")).concurrency(8).complete { request, _ in
            if active.withLock({ a -> Int in a[request, default: 0] += 1; return a[request]! }) > 1 { overlaps.withLock { $0 += 1 } }
            defer { active.withLock { $0[request]! -= 1 } }
            try await Task.sleep(for: .milliseconds(2))
            return try await copyInput(cluster.client, request)
        }
        let run = Task { try await manager.run() }
        defer { manager.stop() }
        for i in 0..<30 { _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "cm-\(i)", namespace: "default"), data: ["input": "v1"])) }
        // Change inputs while reconciles run: each key gets events during its own reconcile.
        for i in 0..<30 { _ = try await cluster.client.patch(ConfigMap.self, name: "cm-\(i)", .merge(["data": ["input": "v2"]])) }
        let converged = await eventually(timeout: .seconds(20)) {
            let items = (try? await cluster.client.list(ConfigMap.self, namespace: "default").items) ?? []
            return items.filter { $0.metadata.name!.hasPrefix("cm-") }.allSatisfy { $0.data?["output"] == "v2" } && items.count >= 30
        }
        #expect(converged)
        #expect(overlaps.withLock { $0 } == 0)
        manager.stop()
        try await run.value
    }

    @Test func errorsBackOffAndSuccessResets() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let manager = Manager(client: cluster.client)
        let attempts = LockedValue<[ContinuousClock.Instant]>([])
        let controller = manager.controller("flaky").for(ConfigMap.self, options: .init(namespace: "default"))
            .rateLimiter(RateLimiter(baseDelay: .milliseconds(20), maxDelay: .seconds(10)))
            .complete { request, _ in
                guard request.name == "flaky" else { return .done }
                let n = attempts.withLock { $0.append(.now); return $0.count }
                if n < 5 { throw KubeAPIError.server(.init(code: 500, reason: "InternalError", message: "try again"), retryAfter: nil) }
                return .done
            }
        let run = Task { try await manager.run() }
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "flaky", namespace: "default")))
        #expect(await eventually { attempts.withLock { $0.count } >= 5 })
        let times = attempts.withLock { $0 }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        // 20, 40, 80, 160 ms: each wait at least the backoff step.
        for (i, gap) in gaps.enumerated() { #expect(gap >= .milliseconds(20 << i) - .milliseconds(2), "gap \(i): \(gap)") }
        #expect(await eventually { controller.queue.retries(ReconcileRequest(namespace: "default", name: "flaky")) == 0 }, "success forgets the failures")
        let metrics = manager.metrics.exposition()
        #expect(metrics.contains(#"controller_runtime_reconcile_errors_total{controller="flaky"} 4"#), "\(metrics)")
        #expect(metrics.contains(#"workqueue_retries_total{name="flaky",controller="flaky"} 4"#) || metrics.contains(#"workqueue_retries_total{controller="flaky",name="flaky"} 4"#))
        manager.stop()
        try await run.value
    }

    @Test func terminalErrorsAreNotRetriedAndRequeueAfterComesBack() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let manager = Manager(client: cluster.client)
        let calls = LockedValue<[String: Int]>([:])
        manager.controller("kinds").for(ConfigMap.self, options: .init(namespace: "default")).complete { request, _ in
            calls.withLock { $0[request.name, default: 0] += 1 }
            switch request.name {
            case "terminal": throw TerminalError(KubeAPIError.invalid(.init(code: 422, reason: "Invalid", message: "no")))
            case "timer": return calls.withLock { $0["timer"]! } < 3 ? .requeueAfter(.milliseconds(50)) : .done
            default: return .done
            }
        }
        let run = Task { try await manager.run() }
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "terminal", namespace: "default")))
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "timer", namespace: "default")))
        #expect(await eventually { calls.withLock { $0["timer"] } == 3 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(calls.withLock { $0["terminal"] } == 1)
        manager.stop()
        try await run.value
    }

    @Test func ownsMapsChildrenToTheirControllingOwner() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let manager = Manager(client: cluster.client)
        let requests = LockedValue<[String]>([])
        manager.controller("parents").for(Namespace.self, options: .init(labelSelector: "team")).owns(ConfigMap.self).complete { request, _ in
            requests.withLock { $0.append(request.description) }
            return .done
        }
        let run = Task { try await manager.run() }
        let parent = try await cluster.client.create(Namespace(metadata: ObjectMeta(name: "team-a", labels: ["team": "a"])))
        #expect(await eventually { requests.withLock { $0.contains("team-a") } })
        requests.withLock { $0 = [] }
        var child = ConfigMap(metadata: ObjectMeta(name: "child", namespace: "default"))
        child.metadata.ownerReferences = [parent.controllerReference()!]
        _ = try await cluster.client.create(child)
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "orphan", namespace: "default")))
        #expect(await eventually { requests.withLock { $0 } == ["team-a"] })
        try await Task.sleep(for: .milliseconds(200))
        #expect(requests.withLock { $0 } == ["team-a"], "the orphan maps to nothing")
        manager.stop()
        try await run.value
    }

    @Test func gracefulShutdownDrainsInFlightReconcilesAndServesProbes() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        var options = Manager.Options(healthPort: 0)
        options.shutdownTimeout = .seconds(5)
        let manager = Manager(client: cluster.client, options: options)
        let started = LockedValue(0), finished = LockedValue(0), cancelled = LockedValue(0)
        manager.controller("slow").for(ConfigMap.self, options: .init(namespace: "default")).concurrency(4).complete { _, _ in
            started.withLock { $0 += 1 }
            do { try await Task.sleep(for: .milliseconds(500)) } catch { cancelled.withLock { $0 += 1 }; throw error }
            finished.withLock { $0 += 1 }
            return .done
        }
        let group = ServiceGroup(configuration: .init(services: [manager], logger: Logger(label: "test")))
        let run = Task { try await group.run() }
        #expect(await eventually { manager.healthPort != nil })
        let port = manager.healthPort!
        #expect(await eventually { (try? await httpGet(port, "/readyz"))?.0 == 200 })
        #expect(try await httpGet(port, "/healthz").0 == 200)
        for i in 0..<4 { _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "s-\(i)", namespace: "default"))) }
        #expect(await eventually { started.withLock { $0 } == 4 })
        let (code, body) = try await httpGet(port, "/metrics")
        #expect(code == 200 && body.contains("controller_runtime_active_workers") && body.contains("workqueue_adds_total"))
        await group.triggerGracefulShutdown()
        try await run.value
        #expect(finished.withLock { $0 } == 4 && cancelled.withLock { $0 } == 0, "in-flight reconciles finished, none was cut off")
    }
}

/// A plain GET against the manager's health server.
func httpGet(_ port: Int, _ path: String) async throws -> (Int, String) {
    try await plainGet("http://127.0.0.1:\(port)\(path)")
}
