// swift-tools-version: 6.1
import PackageDescription

// One module per concern; see README.md ("Layout") for who may import whom.
// Modules are added as they gain real code: KubeClient, KubeRuntime and Controllers join
// the graph with the issues that build them; ControlPlane so far holds the durable store.
let package = Package(
    name: "llmops",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "llmops", targets: ["llmops"]),
        .library(name: "KubeModel", targets: ["KubeModel"]),
        .library(name: "LLMOpsAPI", targets: ["LLMOpsAPI"]),
        .library(name: "LLMOpsCore", targets: ["LLMOpsCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Generic Kubernetes object model, OpenAPI schemas, schema validation, YAML decoding.
        // The Common Expression Language with Kubernetes' libraries: pure, no dependencies.
        .target(name: "CEL"),
        .target(name: "KubeModel", dependencies: ["CEL", .product(name: "Yams", package: "Yams")]),
        // The llmops.io/v1alpha1 resources and the CRDs generated from them.
        .target(name: "LLMOpsAPI", dependencies: ["KubeModel"]),
        // Pure optimization core: no I/O, no clock, no global state.
        .target(name: "LLMOpsCore"),
        // SQLite's C API from the system library (libsqlite3-dev), for the durable store.
        .systemLibrary(name: "CSQLite"),
        // The embedded Kubernetes-compatible control plane: durable object store first.
        .target(
            name: "ControlPlane",
            dependencies: [
                "KubeModel", "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // Kubernetes API client: kubeconfig/in-cluster configuration, HTTPS transport, typed
        // requests, Status errors as Swift errors, watch streams. Knows nothing of LLMs.
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Controller runtime: informers, work queue, controller builder, leader election, event
        // recorder, metrics and health endpoints, graceful shutdown. Knows nothing of LLMs.
        .target(
            name: "KubeRuntime",
            dependencies: [
                "KubeModel", "KubeClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Test helper: writes to an ObjectStore until SIGKILLed (durability test).
        .executableTarget(name: "StoreCrashWriter", dependencies: ["ControlPlane", "KubeModel"]),
        // Trace-driven discrete-event serving simulator and the autoscaling evaluation.
        // The discrete-event loop touches a few replica fields per request and replica; the
        // runtime exclusivity checks on those class fields were a fifth of a production-scale
        // run (perf). The code is single-threaded per simulation and compiles clean under the
        // static checks, which stay on.
        .target(
            name: "Simulator", dependencies: ["LLMOpsCore", "KubeModel"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // What `llmops up --gpus` adds around the API server: simulated GPU nodes, kubelets with
        // simulated vLLM servers, scheduler, workload controllers. Every part is an API client.
        .target(
            name: "LocalCluster",
            dependencies: [
                "KubeModel", "KubeClient", "KubeRuntime", "LLMOpsCore", "Simulator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The operator's controllers: read caches, call the core, apply children, write status.
        .target(
            name: "Controllers",
            dependencies: [
                "KubeModel", "KubeClient", "KubeRuntime", "LLMOpsAPI", "LLMOpsCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "llmops",
            dependencies: [
                "KubeModel", "LLMOpsAPI", "LLMOpsCore", "Simulator", "ControlPlane", "KubeClient", "KubeRuntime", "LocalCluster", "Controllers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `hack/bench-runtime.sh`: a no-op controller, compared with kopf in the same run.
        .executableTarget(
            name: "RuntimeBenchmark",
            dependencies: ["KubeRuntime", "KubeClient", "KubeModel", "LLMOpsAPI", .product(name: "Logging", package: "swift-log")]
        ),
        // `hack/bench-core.sh`: one full-cluster decision of the core, timed in release mode.
        .executableTarget(name: "CoreBenchmark", dependencies: ["LLMOpsCore"]),
        .executableTarget(name: "CELBenchmark", dependencies: ["KubeModel"]),
        .testTarget(
            name: "KubeModelTests",
            dependencies: ["KubeModel", "LLMOpsCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "LLMOpsAPITests",
            dependencies: [
                "LLMOpsAPI", "KubeModel", "LLMOpsCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "LLMOpsCoreTests",
            dependencies: ["LLMOpsCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "LLMOpsCore"]),
        .testTarget(name: "CELTests", dependencies: ["CEL"]),
        .testTarget(name: "ControlPlaneTests", dependencies: ["ControlPlane", "KubeModel", "StoreCrashWriter"]),
        .testTarget(name: "CLITests", dependencies: ["llmops"]),
        .testTarget(name: "LocalClusterTests", dependencies: ["LocalCluster", "KubeModel"]),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "KubeModel", "LLMOpsAPI", "LLMOpsCore"]),
        // The operator against a simulated cluster and a real API server, through the fault proxy.
        .testTarget(
            name: "OperatorTests",
            dependencies: [
                "Controllers", "LocalCluster", "KubeClient", "KubeModel", "KubeRuntime", "KubeTestSupport", "LLMOpsAPI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: ["KubeClient", "KubeModel", "ControlPlane", "LLMOpsAPI", "KubeTestSupport"]
        ),
        .testTarget(
            name: "KubeRuntimeTests",
            dependencies: [
                "KubeRuntime", "KubeClient", "KubeModel", "ControlPlane", "KubeTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Shared by the client and runtime tests: an embedded control plane per test and the
        // fault-injecting HTTP proxy that sits between client and server.
        .target(
            name: "KubeTestSupport",
            dependencies: [
                "KubeClient", "KubeModel", "ControlPlane",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/KubeTestSupport"
        ),
    ]
)
