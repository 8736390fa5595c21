import Synchronization

/// The complete lines of a streamed body, passed from the task that reads the body to the task
/// that decodes it. The decoder takes everything that arrived since its last take, so batches
/// form by themselves under load: while one batch is decoded the reader gathers the next.
/// (The body itself cannot say what has "arrived together": the HTTP decoder hands each chunk
/// over on its own, and an API server writes every watch event as its own chunk.)
///
/// The reader waits once `limit` bytes are pending, so a slow consumer holds back the
/// connection instead of growing memory.
final class LineBatches: Sendable {
    private struct State {
        var lines: [[UInt8]] = []
        var bytes = 0
        var end: (any Error)?? = nil
        var taker: CheckedContinuation<[[UInt8]]?, any Error>?
        var readers: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int = 8 << 20) {
        self.limit = limit
    }

    /// Adds lines; returns once there is room for more.
    func append(_ lines: [[UInt8]]) async {
        guard !lines.isEmpty else { return }
        let size = lines.reduce(0) { $0 + $1.count }
        let (taker, full) = state.withLock { s -> (CheckedContinuation<[[UInt8]]?, any Error>?, Bool) in
            if let t = s.taker {
                s.taker = nil
                return (t, false)
            }
            s.lines.append(contentsOf: lines)
            s.bytes += size
            return (nil, s.bytes > limit)
        }
        taker?.resume(returning: lines)
        // Suspending costs a trip through the executor, so only a full buffer does it.
        guard full else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { s -> Bool in
                guard s.bytes > limit, s.end == nil else { return false }
                s.readers.append(c)
                return true
            }
            if !wait { c.resume() }
        }
    }

    /// Ends the stream, normally (nil) or with an error; lines already added are still taken.
    func finish(_ error: (any Error)?) {
        let (taker, readers) = state.withLock { s -> (CheckedContinuation<[[UInt8]]?, any Error>?, [CheckedContinuation<Void, Never>]) in
            if s.end == nil { s.end = .some(error) }
            defer {
                s.taker = nil
                s.readers = []
            }
            return (s.taker, s.readers)
        }
        for r in readers { r.resume() }
        guard let taker else { return }
        if let error { taker.resume(throwing: error) } else { taker.resume(returning: nil) }
    }

    /// Every line added since the last take, waiting for at least one; nil once finished and
    /// empty. Only one task takes.
    func take() async throws -> [[UInt8]]? {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<[[UInt8]]?, any Error>) in
            let (result, readers) = state.withLock { s -> (Result<[[UInt8]]?, any Error>?, [CheckedContinuation<Void, Never>]) in
                if !s.lines.isEmpty {
                    defer {
                        s.lines = []
                        s.bytes = 0
                        s.readers = []
                    }
                    return (.success(s.lines), s.readers)
                }
                if let end = s.end {
                    if let error = end { return (.failure(error), []) }
                    return (.success(nil), [])
                }
                s.taker = c
                return (nil, [])
            }
            for r in readers { r.resume() }
            if let result { c.resume(with: result) }
        }
    }
}
