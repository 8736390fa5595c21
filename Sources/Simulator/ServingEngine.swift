import LLMOpsCore

/// One vLLM-like replica driven by the caller's clock, for servers that answer requests as
/// they arrive (the simulated vLLM endpoints of `llmops up`). It is the simulator's own replica
/// model, so a live Pod and a simulated fleet behave alike. Not thread-safe: own it from one
/// actor.
public final class ServingEngine {
    /// Where one request stands, in the engine's time (seconds).
    public struct Progress: Sendable, Equatable {
        public var firstToken: Double?
        public var finish: Double?
        /// Output tokens produced so far.
        public var generated: Int
    }

    public let model: ReplicaModel
    private let maxBatch: Int
    private var replica: SimReplica
    private var requests: [TraceRequest] = []
    private var records: [RequestRecord] = []
    /// Identifier of `requests[0]`: ids stay unique when the arrays are emptied.
    private var base = 0
    private var now = 0.0

    public init(model: ReplicaModel, maxBatch: Int = 256, at time: Double = 0) {
        self.model = model
        self.maxBatch = maxBatch
        self.now = time
        replica = SimReplica(id: 0, model: model, createdAt: time, readyAt: time, maxBatch: maxBatch)
        replica.tracksProgress = true
    }

    /// Tokens a sequence may hold (prompt plus output); a longer request is refused.
    public var maxSequenceTokens: Int { replica.kvCapacity }
    public var running: Int { replica.running + replica.prefilling }
    public var waiting: Int { replica.queued }
    /// Share of the KV cache reserved by admitted sequences, 0...1.
    public var kvCacheUsage: Double { replica.kvUtilization }

    /// Queues a request arriving at `time`; nil when it can never fit the KV cache.
    public func submit(inputTokens: Int, outputTokens: Int, at time: Double) -> Int? {
        let request = TraceRequest(arrival: time, inputTokens: max(1, inputTokens), outputTokens: max(1, outputTokens))
        guard replica.fits(request) else { return nil }
        advance(to: time)
        requests.append(request)
        records.append(RequestRecord())
        replica.enqueue(requests.count - 1)
        return base + requests.count - 1
    }

    /// Forgets finished requests once nothing is outstanding, so memory stays bounded however
    /// long the server runs. Call it only when no caller still asks for an old request's
    /// progress: their ids stop resolving.
    public func compactIfIdle() {
        guard replica.outstanding == 0, !requests.isEmpty else { return }
        base += requests.count
        requests.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        replica = SimReplica(id: 0, model: model, createdAt: now, readyAt: now, maxBatch: maxBatch)
        replica.tracksProgress = true
    }

    /// Runs the replica up to `time`.
    public func advance(to time: Double) {
        guard time > now else { return }
        now = time
        replica.advance(to: time, requests: requests, records: &records)
    }

    public func progress(_ id: Int) -> Progress? {
        let i = id - base
        guard i >= 0, i < records.count else { return nil }
        let r = records[i]
        let first = r.firstToken.isNaN ? nil : r.firstToken
        let finish = r.finish.isNaN ? nil : r.finish
        let out = requests[i].outputTokens
        var generated = 0
        if finish != nil {
            generated = out
        } else if first != nil {
            let remaining = (replica.completionStep[i] ?? replica.steps) - replica.steps
            generated = max(1, min(out, out - remaining))
        }
        return Progress(firstToken: first, finish: finish, generated: generated)
    }
}
