import Foundation
import KubeClient
import KubeModel
import Logging
import Synchronization

/// Writes core/v1 Events about objects, so `kubectl describe` and `kubectl events` show what
/// a controller did. A repeat of the same event (same object, type, reason and message)
/// raises the count on the existing Event instead of creating another, as client-go's
/// correlator does. Failures are logged, never thrown: events are best effort.
public final class EventRecorder: Sendable {
    public enum EventType: String, Sendable {
        case normal = "Normal", warning = "Warning"
    }

    private let client: KubeClient
    private let component: String
    private let instance: String
    private let logger: Logger
    private struct Seen {
        var name: String
        var namespace: String
        var count: Int32
    }
    private let seen = Mutex<[String: Seen]>([:])
    private let lastStamp = Mutex<UInt64>(0)
    /// Past this many distinct events the memory of repeats starts over (bounded memory).
    static let memory = 4096

    public init(client: KubeClient, component: String, instance: String = ProcessInfo.processInfo.hostName, logger: Logger = Logger(label: "llmops.events")) {
        self.client = client
        self.component = component
        self.instance = instance
        self.logger = logger
    }

    /// client-go names an Event `<object>.<UnixNano hex>`. The wall clock here may tick in
    /// microseconds, so stamps are kept strictly increasing: a ReplicaSet creating 100 Pods
    /// at once records 100 Events, not one per clock tick.
    private func nextStamp() -> UInt64 {
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        return lastStamp.withLock { last in
            last = max(last + 1, now)
            return last
        }
    }

    public func record<T: KubeResource>(_ object: T, type: EventType = .normal, reason: String, message: String) async {
        let meta = object.metadata
        let namespace = meta.namespace ?? "default"
        let key = "\(meta.uid ?? "")|\(T.resourceType.kind)|\(namespace)|\(meta.name ?? "")|\(type.rawValue)|\(reason)|\(message)"
        let now = Timestamp.now()
        if let previous = seen.withLock({ $0[key] }) {
            let patch = Patch.merge(["count": .int(Int64(previous.count + 1)), "lastTimestamp": .string(now.rfc3339)])
            do {
                _ = try await client.patch(Event.self, name: previous.name, namespace: previous.namespace, patch)
                seen.withLock { $0[key]?.count = previous.count + 1 }
                return
            } catch let error as KubeAPIError where error.isNotFound {
                // Expired or deleted: start a new one below.
            } catch {
                logger.warning("could not update event \(previous.name): \(error)")
                return
            }
        }
        var event = Event(
            metadata: ObjectMeta(name: "\(meta.name ?? "object").\(String(nextStamp(), radix: 16))", namespace: namespace),
            involvedObject: .init(
                apiVersion: T.resourceType.apiVersion, kind: T.resourceType.kind, namespace: meta.namespace, name: meta.name, uid: meta.uid,
                resourceVersion: meta.resourceVersion))
        event.type = type.rawValue
        event.reason = reason
        event.message = message
        event.count = 1
        event.firstTimestamp = now
        event.lastTimestamp = now
        event.source = .init(component: component, host: instance)
        event.reportingComponent = component
        event.reportingInstance = instance
        do {
            let created = try await client.create(event)
            seen.withLock { s in
                if s.count >= Self.memory { s.removeAll() }
                s[key] = Seen(name: created.metadata.name ?? "", namespace: namespace, count: 1)
            }
        } catch {
            logger.warning("could not record event \(reason) for \(namespace)/\(meta.name ?? ""): \(error)")
        }
    }
}
