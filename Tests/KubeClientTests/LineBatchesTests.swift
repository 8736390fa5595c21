@testable import KubeClient
import KubeTestSupport
import Synchronization
import Testing

/// The hand-off between a watch's body reader and its decoder.
@Suite struct LineBatchesTests {
    private func line(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// What arrives while the decoder is busy comes out as one batch, in order.
    @Test func takesEverythingPendingAsOneBatchInOrder() async throws {
        let lines = LineBatches()
        await lines.append([line("a"), line("b")])
        await lines.append([line("c")])
        #expect(try await lines.take() == [line("a"), line("b"), line("c")])
        // A waiting taker gets the next append as it is.
        let taker = Task { try await lines.take() }
        try await Task.sleep(for: .milliseconds(20))
        await lines.append([line("d")])
        #expect(try await taker.value == [line("d")])
        lines.finish(nil)
        #expect(try await lines.take() == nil)
    }

    /// Lines added before an error are still delivered; the error comes after them.
    @Test func anErrorEndsTheStreamAfterWhatArrivedBeforeIt() async throws {
        struct Broke: Error {}
        let lines = LineBatches()
        await lines.append([line("x")])
        lines.finish(Broke())
        #expect(try await lines.take() == [line("x")])
        await #expect(throws: Broke.self) { try await lines.take() }
    }

    /// Past the limit the reader waits until the decoder takes, so a slow consumer holds the
    /// connection back instead of buffering without bound.
    @Test func theReaderWaitsPastTheLimitUntilTheDecoderTakes() async throws {
        let lines = LineBatches(limit: 10)
        let appended = Atomic(0)
        let reader = Task {
            for i in 0..<5 {
                await lines.append([Array(repeating: UInt8(ascii: "a") + UInt8(i), count: 8)])
                appended.add(1, ordering: .sequentiallyConsistent)
            }
        }
        // 8 bytes fit; the second append passes the limit and waits.
        #expect(await eventually { appended.load(ordering: .sequentiallyConsistent) == 1 })
        try await Task.sleep(for: .milliseconds(50))
        #expect(appended.load(ordering: .sequentiallyConsistent) == 1)
        var taken: [[UInt8]] = []
        while taken.count < 5, let batch = try await lines.take() { taken += batch }
        await reader.value
        #expect(taken.map { $0[0] } == (0..<5).map { UInt8(ascii: "a") + UInt8($0) })
        // Finishing releases a reader that is still waiting.
        let blocked = LineBatches(limit: 1)
        let stuck = Task { await blocked.append([line("too long")]) }
        try await Task.sleep(for: .milliseconds(20))
        blocked.finish(nil)
        await stuck.value
    }
}
