import Foundation
import KubeClient
import KubeModel
import KubeTestSupport
import Testing

@testable import KubeRuntime

/// The controller talks to the server through a proxy that injects 500s, 429s with
/// Retry-After, 409s on writes, slow answers and cut watch streams. Every object must still
/// converge to its latest input: no reconcile is lost.
@Suite struct FaultInjectionTests {
    @Test func convergesThroughInjectedFaults() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        var plan = FaultProxy.Plan()
        plan.serverErrorEvery = 7
        plan.throttleEvery = 11
        plan.conflictEvery = 5
        plan.slowEvery = 13
        plan.slowBy = .milliseconds(200)
        plan.dropWatchesAfter = .milliseconds(700)
        let proxy = try await cluster.faultProxy(plan: plan)
        let client = try cluster.client(server: proxy.server, timeout: .seconds(5))
        let manager = Manager(client: client)
        manager.controller("copier").for(ConfigMap.self, options: .init(namespace: "default")).concurrency(4)
            .rateLimiter(RateLimiter(baseDelay: .milliseconds(5), maxDelay: .seconds(2)))
            .complete { request, _ in try await copyInput(client, request) }
        let run = Task { try await manager.run() }
        let n = 40
        for i in 0..<n { _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "f-\(i)", namespace: "default"), data: ["input": "v1"])) }
        try await Task.sleep(for: .milliseconds(500))
        for i in 0..<n { _ = try await cluster.client.patch(ConfigMap.self, name: "f-\(i)", .merge(["data": ["input": .string("v2-\(i)")]])) }
        let converged = await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            let items = (try? await cluster.client.list(ConfigMap.self, namespace: "default").items) ?? []
            let mine = items.filter { $0.metadata.name!.hasPrefix("f-") }
            return mine.count == n && mine.allSatisfy { $0.data?["output"] == $0.data?["input"] && $0.data?["input"]?.hasPrefix("v2-") == true }
        }
        let injected = proxy.injected
        #expect(converged, "faults injected: \(injected)")
        for fault in ["serverError", "throttled", "conflict", "slow", "watchDropped"] {
            #expect((injected[fault] ?? 0) > 0, "\(fault) was injected: \(injected)")
        }
        manager.stop()
        try await run.value
    }
}
