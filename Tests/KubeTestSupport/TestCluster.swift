import AsyncHTTPClient
import ControlPlane
import Foundation
import KubeClient
import KubeModel

/// An embedded control plane in a fresh temp directory and a client for it, per test.
public final class TestCluster: Sendable {
    public let plane: LocalControlPlane
    public let configuration: ClientConfiguration
    public let client: KubeClient
    public let directory: URL
    /// Extra clients handed out; shut down with the cluster (async-http-client insists).
    private let extra = LockedValue<[KubeClient]>([])
    /// Fault proxies handed out; stopped with the cluster.
    private let proxies = LockedValue<[FaultProxy]>([])

    public static func start(qps: Double = 1000, burst: Int = 1000) async throws -> TestCluster {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kube-test-\(UUID().uuidString)")
        let plane = try await LocalControlPlane.start(dataDirectory: dir, port: 0)
        var config = try ClientConfiguration.from(KubeConfig(yaml: plane.kubeconfig))
        config.qps = qps
        config.burst = burst
        return TestCluster(plane: plane, configuration: config, client: try KubeClient(config), directory: dir)
    }

    private init(plane: LocalControlPlane, configuration: ClientConfiguration, client: KubeClient, directory: URL) {
        self.plane = plane
        self.configuration = configuration
        self.client = client
        self.directory = directory
    }

    /// Another client for the same server, e.g. through a proxy (`server`) or with other limits.
    public func client(server: String? = nil, qps: Double = 1000, burst: Int = 1000, timeout: Duration = .seconds(30)) throws -> KubeClient {
        var config = configuration
        if let server { config.server = server }
        config.qps = qps
        config.burst = burst
        config.timeout = timeout
        let client = try KubeClient(config)
        extra.withLock { $0.append(client) }
        return client
    }

    /// A fault-injecting proxy in front of this cluster's server; stopped with the cluster.
    public func faultProxy(plan: FaultProxy.Plan = FaultProxy.Plan()) async throws -> FaultProxy {
        let proxy = try await FaultProxy.start(upstream: configuration.server, caPEM: configuration.certificateAuthorityPEM, plan: plan)
        proxies.withLock { $0.append(proxy) }
        return proxy
    }

    /// Installs the repository's CRDs (from `crds/`).
    public func installCRDs() async throws {
        let root = repositoryRoot
        for file in ["llmops.io_llmdeployments.yaml", "llmops.io_scalingpolicies.yaml", "llmops.io_canaryruns.yaml"] {
            let text = try String(contentsOf: root.appendingPathComponent("crds/\(file)"), encoding: .utf8)
            let crd = try YAMLDocuments.read(text).first { $0.value != .null }!.value
            _ = try await client.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd)
        }
    }

    public func shutdown() async {
        for p in proxies.value { await p.stop() }
        for c in extra.value { await c.shutdown() }
        await client.shutdown()
        try? await plane.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The checkout's root folder (for crds/ and manifests/).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(timeout: Duration = .seconds(10), every: Duration = .milliseconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: every)
    }
    return try await condition()
}

/// A plain-HTTP GET: status code and body text.
public func plainGet(_ url: String) async throws -> (Int, String) {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    return (Int(response.status.code), String(buffer: body))
}
