import Foundation
import KubeClient
import KubeModel
import Logging
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does:
/// the holder renews every `retryPeriod`; others take over once the lease has not been
/// renewed for `leaseDuration` as measured on their own clock (not the holder's timestamps,
/// so clock skew between nodes does not matter).
public final class LeaderElector: Sendable {
    public struct Configuration: Sendable {
        public var leaseName: String
        public var namespace: String
        /// Unique per process, e.g. the pod name plus a random suffix.
        public var identity: String
        public var leaseDuration: Duration = .seconds(15)
        public var renewDeadline: Duration = .seconds(10)
        public var retryPeriod: Duration = .seconds(2)

        public init(leaseName: String, namespace: String, identity: String) {
            self.leaseName = leaseName
            self.namespace = namespace
            self.identity = identity
        }
    }

    public let configuration: Configuration
    private let client: KubeClient
    private let logger: Logger
    private struct Observation {
        var spec: Lease.Spec?
        var at: ContinuousClock.Instant
        var leading = false
    }
    private let observed = Mutex(Observation(spec: nil, at: .now))
    private let statusGauge: (@Sendable (Bool) -> Void)?

    public init(client: KubeClient, configuration: Configuration, logger: Logger = Logger(label: "llmops.leader-election"), onStatus: (@Sendable (Bool) -> Void)? = nil) {
        precondition(configuration.leaseDuration > configuration.renewDeadline && configuration.renewDeadline > configuration.retryPeriod,
            "leaseDuration > renewDeadline > retryPeriod, as client-go requires")
        self.client = client
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "lease"] = "\(configuration.namespace)/\(configuration.leaseName)"
        logger[metadataKey: "identity"] = "\(configuration.identity)"
        self.logger = logger
        self.statusGauge = onStatus
    }

    public var isLeader: Bool { observed.withLock { $0.leading } }

    /// When this process last wrote the lease as its holder (wall clock), if it ever did.
    public var lastRenewal: MicroTime? {
        observed.withLock { $0.spec?.holderIdentity == configuration.identity ? $0.spec?.renewTime : nil }
    }

    /// Returns once this process holds the lease; throws `CancellationError` if cancelled first.
    public func acquire() async throws {
        logger.info("waiting to acquire the lease")
        while true {
            try Task.checkCancellation()
            if await tryAcquireOrRenew() {
                logger.info("acquired the lease")
                setLeading(true)
                return
            }
            try await Task.sleep(for: configuration.retryPeriod * Double.random(in: 1.0...1.2))
        }
    }

    /// Renews until a renewal has not succeeded for `renewDeadline` (leadership lost) or the
    /// task is cancelled. Returns true if leadership was lost.
    public func holdLeadership() async -> Bool {
        var lastRenewal = ContinuousClock.now
        while true {
            do { try await Task.sleep(for: configuration.retryPeriod) } catch { return false }
            if await tryAcquireOrRenew() {
                lastRenewal = .now
            } else if ContinuousClock.now - lastRenewal >= configuration.renewDeadline {
                logger.error("failed to renew the lease within \(configuration.renewDeadline); leadership lost")
                setLeading(false)
                return true
            }
        }
    }

    /// Gives the lease up so a successor need not wait for it to expire (graceful shutdown).
    public func release() async {
        guard isLeader else { return }
        do {
            var lease = try await client.get(Lease.self, name: configuration.leaseName, namespace: configuration.namespace)
            guard lease.spec?.holderIdentity == configuration.identity else { return }
            let now = MicroTime(secondsSinceEpoch: Date().timeIntervalSince1970)
            lease.spec = Lease.Spec(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions)
            _ = try await client.update(lease)
            logger.info("released the lease")
        } catch {
            logger.warning("could not release the lease: \(error)")
        }
        setLeading(false)
    }

    private func setLeading(_ leading: Bool) {
        observed.withLock { $0.leading = leading }
        statusGauge?(leading)
    }

    /// One attempt; true if this process holds the lease afterwards.
    func tryAcquireOrRenew() async -> Bool {
        let c = configuration
        let wallNow = MicroTime(secondsSinceEpoch: Date().timeIntervalSince1970)
        let seconds = Int32(c.leaseDuration.components.seconds)
        do {
            var lease: Lease
            do {
                lease = try await client.get(Lease.self, name: c.leaseName, namespace: c.namespace)
            } catch let error as KubeAPIError where error.isNotFound {
                let spec = Lease.Spec(holderIdentity: c.identity, leaseDurationSeconds: seconds, acquireTime: wallNow, renewTime: wallNow, leaseTransitions: 0)
                let created = try await client.create(Lease(metadata: ObjectMeta(name: c.leaseName, namespace: c.namespace), spec: spec))
                observe(created.spec)
                return true
            }
            let spec = lease.spec ?? Lease.Spec()
            let holder = spec.holderIdentity ?? ""
            let observedAt = observe(spec)
            let duration = spec.leaseDurationSeconds.map { Duration.seconds(Int64($0)) } ?? c.leaseDuration
            if !holder.isEmpty, holder != c.identity, ContinuousClock.now < observedAt + duration {
                return false  // someone else holds a live lease
            }
            let mine = holder == c.identity
            lease.spec = Lease.Spec(
                holderIdentity: c.identity, leaseDurationSeconds: seconds, acquireTime: mine ? (spec.acquireTime ?? wallNow) : wallNow,
                renewTime: wallNow, leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1))
            let updated = try await client.update(lease)
            observe(updated.spec)
            return true
        } catch {
            logger.debug("lease attempt failed: \(error)")
            return false
        }
    }

    /// Records what the lease says and, if that changed, when this process first saw it.
    @discardableResult
    private func observe(_ spec: Lease.Spec?) -> ContinuousClock.Instant {
        observed.withLock { o in
            if o.spec != spec {
                o.spec = spec
                o.at = .now
            }
            return o.at
        }
    }
}
