import Foundation
import KubeClient
import KubeModel
import KubeTestSupport
import Testing

@testable import KubeRuntime

@Suite struct EventRecorderTests {
    @Test func repeatsRaiseTheCountOfOneEvent() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let target = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "subject", namespace: "default")))
        let recorder = EventRecorder(client: cluster.client, component: "llmops-operator", instance: "test")
        for _ in 0..<3 { await recorder.record(target, reason: "ScaledUp", message: "2 -> 3 replicas") }
        await recorder.record(target, type: .warning, reason: "SLOAtRisk", message: "p99 TTFT 900ms > 500ms")
        let events = try await cluster.client.list(Event.self, namespace: "default").items
            .filter { $0.involvedObject.uid == target.metadata.uid }
            .sorted { ($0.reason ?? "") < ($1.reason ?? "") }
        #expect(events.map(\.reason) == ["SLOAtRisk", "ScaledUp"])
        #expect(events.map(\.count) == [1, 3])
        #expect(events.map(\.type) == ["Warning", "Normal"])
        #expect(events[1].involvedObject.kind == "ConfigMap" && events[1].involvedObject.name == "subject")
        #expect(events[1].source?.component == "llmops-operator")
    }
}
