import Foundation
import KubeClient
import KubeModel
import KubeTestSupport
import Testing

@testable import KubeRuntime

@Suite struct LeaderElectionTests {
    func config(_ identity: String, lease: Int = 3) -> LeaderElector.Configuration {
        var c = LeaderElector.Configuration(leaseName: "llmops-operator", namespace: "default", identity: identity)
        c.leaseDuration = .seconds(lease)
        c.renewDeadline = .seconds(lease - 1)
        c.retryPeriod = .milliseconds(250)
        return c
    }

    @Test func standbyTakesOverWithinTheLeaseDurationWhenTheLeaderDies() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let a = LeaderElector(client: cluster.client, configuration: config("a"))
        let b = LeaderElector(client: cluster.client, configuration: config("b"))
        try await a.acquire()
        let holding = Task { await a.holdLeadership() }
        let standby = Task { try await b.acquire() }
        try await Task.sleep(for: .seconds(1))
        #expect(a.isLeader && !b.isLeader, "only one leader while the lease is renewed")

        // Kill the leader: it stops renewing and never releases.
        holding.cancel()
        try await standby.value
        #expect(b.isLeader)
        let lease = try await cluster.client.get(Lease.self, name: "llmops-operator", namespace: "default")
        #expect(lease.spec?.holderIdentity == "b" && lease.spec?.leaseTransitions == 1)
        // Measured from the leader's last renewal as the lease recorded it (the kill itself may
        // come later, after a renewal delayed by a loaded machine): the standby must wait for
        // expiry, and not much longer.
        let lastRenewal = a.lastRenewal!
        let takeover = lease.spec!.acquireTime!.secondsSinceEpoch - lastRenewal.secondsSinceEpoch
        #expect(takeover >= 3 && takeover <= 8, "took \(takeover) s after the last renewal")
    }

    @Test func gracefulReleaseHandsOverAtOnce() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        // A long lease: without the release the standby would wait 30 s.
        let a = LeaderElector(client: cluster.client, configuration: config("a", lease: 30))
        let b = LeaderElector(client: cluster.client, configuration: config("b", lease: 30))
        try await a.acquire()
        let standby = Task { try await b.acquire() }
        try await Task.sleep(for: .milliseconds(400))
        let releasedAt = ContinuousClock.now
        await a.release()
        try await standby.value
        #expect(ContinuousClock.now - releasedAt < .seconds(15), "no wait for expiry after a release")
        #expect(!a.isLeader && b.isLeader)
    }

    @Test func managersRunControllersOnlyWhileLeading() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let calls = LockedValue<[String: Int]>([:])
        func manager(_ id: String) -> Manager {
            let m = Manager(client: cluster.client, options: .init(leaderElection: config(id)))
            m.controller("c").for(ConfigMap.self, options: .init(namespace: "default")).complete { _, _ in
                calls.withLock { $0[id, default: 0] += 1 }
                return .done
            }
            return m
        }
        let first = manager("first"), second = manager("second")
        let runFirst = Task { try await first.run() }
        #expect(await eventually { first.leaderElector!.isLeader })
        let runSecond = Task { try await second.run() }
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "x", namespace: "default")))
        #expect(await eventually { calls.withLock { $0["first"] ?? 0 } >= 1 })
        #expect(calls.withLock { $0["second"] } == nil, "the standby does not reconcile")
        first.stop()
        try await runFirst.value  // releases the lease
        #expect(await eventually { second.leaderElector!.isLeader })
        #expect(await eventually { calls.withLock { $0["second"] ?? 0 } >= 1 }, "the new leader reconciles what exists")
        second.stop()
        try await runSecond.value
    }
}
