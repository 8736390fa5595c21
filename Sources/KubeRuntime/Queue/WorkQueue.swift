import KubeClient
import Synchronization

/// client-go's work queue: a key waiting to be processed is held once however often it is
/// added; a key being processed is never handed to a second worker, and if it changed
/// meanwhile it is queued again when the first worker finishes. Delayed and rate-limited
/// adds go through `RateLimiter`.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    private struct State: ~Copyable {
        var queue: [Key] = []
        var head = 0
        var dirty: Set<Key> = []
        var processing: [Key: ContinuousClock.Instant] = [:]
        var addedAt: [Key: ContinuousClock.Instant] = [:]
        var waiters: [CheckedContinuation<Key?, Never>] = []
        var delayed: [Key: (due: ContinuousClock.Instant, task: Task<Void, Never>)] = [:]
        var limiter: RateLimiter<Key>
        var shuttingDown = false
        var drained: [CheckedContinuation<Void, Never>] = []

        var count: Int { queue.count - head }

        mutating func pop() -> Key? {
            guard head < queue.count else { return nil }
            let k = queue[head]
            head += 1
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return k
        }
    }

    private let state: Mutex<State>
    private let origin = ContinuousClock.now
    let metrics: QueueMetrics?

    public init(rateLimiter: RateLimiter<Key> = RateLimiter(), metrics: QueueMetrics? = nil) {
        state = Mutex(State(limiter: rateLimiter))
        self.metrics = metrics
    }

    /// Queues `key` unless it is already waiting. Ignored after shutdown.
    public func add(_ key: Key) {
        let now = ContinuousClock.now
        let waiter: CheckedContinuation<Key?, Never>? = state.withLock { s in
            if s.shuttingDown || s.dirty.contains(key) { return nil }
            metrics?.adds.increment()
            s.dirty.insert(key)
            if s.processing[key] != nil {  // re-queued by done()
                s.addedAt[key] = now
                return nil
            }
            if !s.waiters.isEmpty {
                s.processing[key] = now
                s.dirty.remove(key)
                return s.waiters.removeFirst()
            }
            s.addedAt[key] = now
            s.queue.append(key)
            metrics?.depth.record(s.count)
            return nil
        }
        if let waiter {
            metrics?.queueLatency.recordNanoseconds(0)
            waiter.resume(returning: key)
        }
    }

    /// Queues `key` after `delay`; an earlier pending delay for the same key wins.
    public func add(_ key: Key, after delay: Duration) {
        guard delay > .zero else { return add(key) }
        let due = ContinuousClock.now + delay
        state.withLock { s in
            guard !s.shuttingDown else { return }
            if let pending = s.delayed[key], pending.due <= due { return }
            s.delayed[key]?.task.cancel()
            let task = Task { [weak self] in
                guard (try? await Task.sleep(until: due, clock: .continuous)) != nil, let self else { return }
                let fire = self.state.withLock { s -> Bool in
                    guard s.delayed[key]?.due == due else { return false }
                    s.delayed[key] = nil
                    return true
                }
                if fire { self.add(key) }
            }
            s.delayed[key] = (due, task)
        }
    }

    /// Queues `key` after its rate-limited delay (a retry after a failure).
    public func addRateLimited(_ key: Key) {
        let now = (ContinuousClock.now - origin).seconds
        let delay = state.withLock { $0.limiter.when(key, now: now) }
        metrics?.retries.increment()
        add(key, after: delay)
    }

    /// Clears `key`'s failure count (after a success).
    public func forget(_ key: Key) { state.withLock { $0.limiter.forget(key) } }

    public func retries(_ key: Key) -> Int { state.withLock { $0.limiter.retries(key) } }

    /// The next key to process, waiting for one; nil once the queue is shut down.
    public func get() async -> Key? {
        await withCheckedContinuation { (c: CheckedContinuation<Key?, Never>) in
            let now = ContinuousClock.now
            let (key, ready, addedAt): (Key?, Bool, ContinuousClock.Instant?) = state.withLock { s in
                if let k = s.pop() {
                    s.dirty.remove(k)
                    s.processing[k] = now
                    metrics?.depth.record(s.count)
                    return (k, true, s.addedAt.removeValue(forKey: k))
                }
                if s.shuttingDown { return (nil, true, nil) }
                s.waiters.append(c)
                return (nil, false, nil)
            }
            if let addedAt { metrics?.queueLatency.recordInterval(now - addedAt) }
            if ready { c.resume(returning: key) }
        }
    }

    /// Marks `key` finished; if it was added meanwhile it goes back in the queue.
    public func done(_ key: Key) {
        let now = ContinuousClock.now
        let (waiter, started, drained): (CheckedContinuation<Key?, Never>?, ContinuousClock.Instant?, [CheckedContinuation<Void, Never>]) =
            state.withLock { s in
                let started = s.processing.removeValue(forKey: key)
                var waiter: CheckedContinuation<Key?, Never>?
                if s.dirty.contains(key) {
                    if !s.waiters.isEmpty {
                        s.dirty.remove(key)
                        s.processing[key] = now
                        waiter = s.waiters.removeFirst()
                    } else {
                        s.queue.append(key)
                        metrics?.depth.record(s.count)
                    }
                }
                var drained: [CheckedContinuation<Void, Never>] = []
                if s.shuttingDown && s.processing.isEmpty {
                    drained = s.drained
                    s.drained = []
                }
                return (waiter, started, drained)
            }
        if let started { metrics?.workDuration.recordInterval(now - started) }
        waiter?.resume(returning: key)
        for d in drained { d.resume() }
    }

    public var depth: Int { state.withLock { $0.count } }

    /// Keys handed out and not yet done.
    public var inFlight: Int { state.withLock { $0.processing.count } }

    /// The age of the oldest in-flight item and the sum of all in-flight ages (seconds).
    public var unfinishedWork: (longest: Double, total: Double) {
        let now = ContinuousClock.now
        return state.withLock { s in
            let ages = s.processing.values.map { (now - $0).seconds }
            return (ages.max() ?? 0, ages.reduce(0, +))
        }
    }

    /// Stops handing out work: waiting workers get nil, delayed adds are dropped. Items being
    /// processed may finish; `drain()` waits for them.
    public func shutdown() {
        let (waiters, delayed) = state.withLock { s -> ([CheckedContinuation<Key?, Never>], [Task<Void, Never>]) in
            s.shuttingDown = true
            s.queue = []
            s.head = 0
            s.dirty = []
            defer {
                s.waiters = []
                s.delayed = [:]
            }
            return (s.waiters, s.delayed.values.map(\.task))
        }
        for t in delayed { t.cancel() }
        for w in waiters { w.resume(returning: nil) }
    }

    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// After `shutdown()`, returns once every in-flight item is done.
    public func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.processing.isEmpty { return true }
                s.drained.append(c)
                return false
            }
            if done { c.resume() }
        }
    }
}
