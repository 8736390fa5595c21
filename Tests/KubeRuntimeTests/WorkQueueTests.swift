import Foundation
import KubeClient
import Testing

@testable import KubeRuntime

@Suite struct WorkQueueTests {
    @Test func backoffDoublesFrom5msTo1000sAndResetsOnForget() {
        var limiter = RateLimiter<String>(qps: 1e9, burst: 1_000_000)
        let delays = (0..<5).map { _ in limiter.when("a", now: 0) }
        #expect(delays == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(80)])
        for _ in 0..<30 { _ = limiter.when("a", now: 0) }
        #expect(limiter.when("a", now: 0) == .seconds(1000))
        #expect(limiter.when("b", now: 0) == .milliseconds(5), "keys back off independently")
        limiter.forget("a")
        #expect(limiter.retries("a") == 0)
        #expect(limiter.when("a", now: 0) == .milliseconds(5))
    }

    @Test func overallBucketThrottlesManyFailingKeys() {
        var limiter = RateLimiter<Int>()
        let delays = (0..<150).map { limiter.when($0, now: 0) }
        #expect(delays.prefix(100).allSatisfy { $0 == .milliseconds(5) })
        #expect(delays[100] == .milliseconds(100) && delays[149] == .seconds(5))
    }

    @Test func addsDeduplicateWhileWaiting() async {
        let q = WorkQueue<String>()
        q.add("a")
        q.add("a")
        q.add("b")
        #expect(q.depth == 2)
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
    }

    @Test func aKeyAddedWhileProcessingWaitsForDone() async {
        let q = WorkQueue<String>()
        q.add("a")
        let first = await q.get()
        q.add("a")
        #expect(q.depth == 0, "not handed out a second time while in flight")
        q.done(first!)
        #expect(q.depth == 1)
        #expect(await q.get() == "a")
    }

    @Test func delayedAddsKeepTheEarliestDeadline() async throws {
        let q = WorkQueue<String>()
        // The later deadline is an hour away: any wait far below it shows the earlier one won,
        // however loaded the machine running the tests is.
        q.add("a", after: .seconds(3600))
        q.add("a", after: .milliseconds(20))
        let start = ContinuousClock.now
        #expect(await q.get() == "a")
        #expect(ContinuousClock.now - start < .seconds(600))
    }

    @Test func neverTwoWorkersOnOneKey() async {
        let q = WorkQueue<Int>()
        let active = LockedValue<[Int: Int]>([:])
        let overlaps = LockedValue(0)
        let processed = LockedValue(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while let k = await q.get() {
                        let concurrent = active.withLock { a -> Int in
                            a[k, default: 0] += 1
                            return a[k]!
                        }
                        if concurrent > 1 { overlaps.withLock { $0 += 1 } }
                        await Task.yield()
                        active.withLock { $0[k]! -= 1 }
                        processed.withLock { $0 += 1 }
                        q.done(k)
                    }
                }
            }
            group.addTask {
                for i in 0..<5000 {
                    q.add(i % 5)
                    if i % 50 == 0 { await Task.yield() }
                }
                while q.depth > 0 || q.inFlight > 0 { try? await Task.sleep(for: .milliseconds(5)) }
                q.shutdown()
            }
        }
        #expect(overlaps.withLock { $0 } == 0)
        #expect(processed.withLock { $0 } >= 5, "every key was processed at least once")
    }

    @Test func shutdownReleasesWaitersAndDrainWaitsForInFlight() async {
        let q = WorkQueue<String>()
        q.add("a")
        let item = await q.get()
        let waiting = Task { await q.get() }
        try? await Task.sleep(for: .milliseconds(20))
        q.shutdown()
        #expect(await waiting.value == nil)
        q.add("b")
        #expect(q.depth == 0, "adds after shutdown are ignored")
        let drained = Task { await q.drain() }
        try? await Task.sleep(for: .milliseconds(20))
        q.done(item!)
        await drained.value
        #expect(q.inFlight == 0)
    }
}
