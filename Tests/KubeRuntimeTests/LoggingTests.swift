import KubeClient
import KubeModel
import KubeTestSupport
import Logging
import Testing

@testable import KubeRuntime

/// Keeps every record, with the metadata the logger carried at the time.
struct CapturingLogHandler: LogHandler {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let records: LockedValue<[Record]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" })) }
    }
}

@Suite struct LoggingTests {
    /// Every line logged for a reconcile, by the reconciler or by the runtime about it, names
    /// the controller and the object (namespace and name).
    @Test func reconcileLinesCarryTheObjectKey() async throws {
        let cluster = try await TestCluster.start()
        defer { Task { await cluster.shutdown() } }
        let records = LockedValue<[CapturingLogHandler.Record]>([])
        let logger = Logger(label: "test") { _ in CapturingLogHandler(records: records) }
        let manager = Manager(client: cluster.client, logger: logger)
        let attempts = LockedValue(0)
        manager.controller("logs").for(ConfigMap.self, options: .init(namespace: "default")).complete { request, log in
            guard request.name == "logged" else { return .done }
            log.info("reconciling")
            // The first attempt fails, so the runtime logs a retry for this object too.
            if attempts.withLock({ n -> Int in n += 1; return n }) == 1 { throw KubeAPIError.transport("injected") }
            return .done
        }
        let run = Task { try await manager.run() }
        defer { manager.stop() }
        _ = try await cluster.client.create(ConfigMap(metadata: ObjectMeta(name: "logged", namespace: "default")))
        #expect(await eventually { attempts.withLock { $0 } >= 2 })
        let about = records.withLock { $0 }.filter { $0.message == "reconciling" || $0.message.contains("reconcile failed") }
        #expect(about.contains { $0.message.contains("reconcile failed, retrying") && $0.level == .warning })
        #expect(about.count >= 3)
        for r in about {
            #expect(r.metadata["controller"] == "logs" && r.metadata["namespace"] == "default" && r.metadata["name"] == "logged", "\(r.message): \(r.metadata)")
        }
        manager.stop()
        _ = try? await run.value
    }
}
