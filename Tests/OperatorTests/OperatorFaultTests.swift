import Controllers
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import KubeTestSupport
import LLMOpsAPI
import LocalCluster
import Logging
import Testing

/// The operator against a simulated GPU cluster, talking to the API server through a proxy
/// that answers 500s, 429s with Retry-After and 409s on writes, and cuts every watch stream.
/// The cluster's own components talk to the server directly. The operator must still bring
/// the LLMDeployment up exactly once, write its status, and put a hand-edited Deployment back.
@Suite(.serialized) struct OperatorFaultTests {
    static let manifest = """
        apiVersion: llmops.io/v1alpha1
        kind: LLMDeployment
        metadata: {name: chat, namespace: default}
        spec:
          model: {name: meta-llama/Llama-3.1-8B-Instruct, source: hf://meta-llama/Llama-3.1-8B-Instruct, parameterCount: 8B, contextLength: 8192}
          engine: {kind: vllm, image: vllm/vllm-openai:v0.8.5}
          slo: {ttftP95Ms: 800, itlP95Ms: 60}
          gpu: {allowedTypes: [L40S]}
          replicas: 2
        ---
        apiVersion: llmops.io/v1alpha1
        kind: ScalingPolicy
        metadata: {name: chat, namespace: default}
        spec:
          targetRef: {name: chat}
          minReplicas: 2
          maxReplicas: 4
          mode: reactive
        """

    @Test func convergesThroughInjectedAPIFaults() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        try await cluster.installCRDs()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let speedup = 50.0
        let local = LocalCluster(
            client: cluster.client, options: .init(topology: try ClusterTopology.parse("l40s:2x4"), clock: SimulationClock(speedup: speedup)), logger: logger)
        let localRun = Task { try await local.run() }
        defer { localRun.cancel() }

        var plan = FaultProxy.Plan()
        plan.serverErrorEvery = 7
        plan.throttleEvery = 11
        plan.conflictEvery = 5
        plan.dropWatchesAfter = .seconds(2)
        let proxy = try await cluster.faultProxy(plan: plan)
        var options = Operator.Options()
        options.clock = OperatorClock(speedup: speedup)
        let op = Operator(client: try cluster.client(server: proxy.server, timeout: .seconds(5)), options: options, logger: logger)
        let opRun = Task { try await op.run() }
        defer { opRun.cancel() }

        for doc in try YAMLDocuments.read(Self.manifest) {
            let kind = doc.value["kind"]?.stringValue == "LLMDeployment" ? "llmdeployments" : "scalingpolicies"
            _ = try await cluster.client.request("POST", "/apis/llmops.io/v1alpha1/namespaces/default/\(kind)", body: doc.value)
        }
        let client = cluster.client
        func owned() async throws -> [Deployment] {
            try await client.list(Deployment.self, namespace: "default", options: .init(labelSelector: "llmops.io/deployment=chat")).items
        }
        let ready = await eventually(timeout: .seconds(90), every: .milliseconds(250)) {
            guard let l = try? await client.get(LLMDeployment.self, name: "chat", namespace: "default") else { return false }
            return l.status?.conditions?.contains { $0.type == "Ready" && $0.status == .true } == true && l.status?.readyReplicas == 2
        }
        #expect(ready, "faults injected: \(proxy.injected)")
        let deployments = try await owned()
        #expect(deployments.count == 1, "one Deployment, created once: \(deployments.map { $0.metadata.name ?? "" })")
        let policyActive = await eventually(timeout: .seconds(30), every: .milliseconds(250)) {
            let sp = try? await client.get(ScalingPolicy.self, name: "chat", namespace: "default")
            return sp?.status?.conditions?.contains { $0.type == "AbleToScale" && $0.status == .true } == true
        }
        #expect(policyActive)

        // Watches are cut every 2 s; the hand edit below must reach the operator through a
        // watch that was cut and resumed at least once.
        #expect(await eventually(timeout: .seconds(30), every: .milliseconds(100)) { (proxy.injected["watchDropped"] ?? 0) > 0 })
        // A hand edit of a field the operator owns is put back, through the same faults. Faults
        // hit every Nth request, and a quick convergence may not have reached every kind yet:
        // hand edits go on (a few at most) until each kind has been injected at least once.
        let name = try #require(deployments.first?.metadata.name)
        let kinds = ["serverError", "throttled", "conflict", "watchDropped"]
        for round in 0..<8 {
            _ = try await client.patch(Deployment.self, name: name, namespace: "default", .merge(["spec": ["replicas": .int(Int64(3 + round % 2))]]))
            let restored = await eventually(timeout: .seconds(30), every: .milliseconds(250)) {
                (try? await client.get(Deployment.self, name: name, namespace: "default"))?.spec?.replicas == 2
            }
            #expect(restored, "hand edit \(round + 1) put back; faults injected: \(proxy.injected)")
            if !restored || kinds.allSatisfy({ (proxy.injected[$0] ?? 0) > 0 }) { break }
        }
        let injected = proxy.injected
        for fault in kinds {
            #expect((injected[fault] ?? 0) > 0, "\(fault) was injected: \(injected)")
        }
        FileHandle.standardError.write(Data("faults injected: \(injected)\n".utf8))
        opRun.cancel()
        localRun.cancel()
        _ = await opRun.result
        _ = await localRun.result
    }
}
