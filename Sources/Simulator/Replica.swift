import LLMOpsCore

/// Per-request timing as the simulation fills it in.
struct RequestRecord {
    var firstToken: Double = .nan
    var finish: Double = .nan
    var rejected = false
}

/// One simulated serving replica behaving like vLLM: FCFS admission limited by KV-cache
/// capacity and a batch-size cap, chunked prefill that shares steps with decode (a step's time
/// is the larger of its memory and compute time, as in SARATHI-style schedulers), and
/// continuous batching. Decode-only stretches are advanced in one jump to the next completion
/// or outside event, so a run costs per request, not per token.
final class SimReplica {
    let id: Int
    let model: ReplicaModel
    let createdAt: Double
    let readyAt: Double
    var draining = false
    var terminatedAt: Double?
    var clock: Double

    private var waiting: [Int] = []
    private var waitingHead = 0
    private var prefill: [(request: Int, remaining: Int)] = []
    private var prefillHead = 0
    private var completions = MinHeap()
    private(set) var running = 0
    private(set) var steps = 0
    /// Seconds spent executing steps (prefill or decode): the engine's busy time, what
    /// `nvidia-smi` reports as utilisation when divided by wall time.
    private(set) var busySeconds = 0.0
    /// The step each decoding request's completion falls on, for callers that stream tokens.
    private(set) var completionStep: [Int: Int] = [:]
    /// Whether to keep `completionStep` (live serving); batch simulation does without it.
    var tracksProgress = false
    private var kvReserved = 0
    /// Sum of current context lengths of decoding sequences, for the step's KV reads.
    private var context = 0.0
    let kvCapacity: Int
    let maxBatch: Int
    let prefillChunk: Int

    init(id: Int, model: ReplicaModel, createdAt: Double, readyAt: Double, maxBatch: Int = 256) {
        self.id = id
        self.model = model
        self.createdAt = createdAt
        self.readyAt = readyAt
        self.clock = createdAt
        self.kvCapacity = Int(model.kvCacheTokens)
        self.maxBatch = maxBatch
        // The same chunk size the capacity model assumes.
        self.prefillChunk = max(1, Int(model.efficiency.prefillChunkTokens))
    }

    var isReady: Bool { clock >= readyAt }
    var queued: Int { waiting.count - waitingHead }
    var prefilling: Int { prefill.count - prefillHead }
    var outstanding: Int { queued + prefilling + running }
    var kvUtilization: Double { kvCapacity > 0 ? Double(kvReserved) / Double(kvCapacity) : 0 }

    func fits(_ r: TraceRequest) -> Bool { r.inputTokens + r.outputTokens <= kvCapacity }

    func enqueue(_ index: Int) { waiting.append(index) }

    /// Runs the replica until `time` (or until idle); completed work is written to `records`.
    func advance(to time: Double, requests: [TraceRequest], records: inout [RequestRecord]) {
        if clock < readyAt {
            clock = min(time, readyAt)
            if time < readyAt { return }
        }
        while clock < time {
            admit(requests)
            if prefillHead < prefill.count {
                prefillStep(requests, &records)
                continue
            }
            guard running > 0 else {
                if draining && terminatedAt == nil && outstanding == 0 { terminatedAt = clock }
                clock = time
                break
            }
            let dt = model.decodeStepSeconds(batch: Double(running), context: context / Double(running))
            let toCompletion = max(1, completions.peek!.step - steps)
            let toTime = max(1, Int(((time - clock) / dt).rounded(.up)))
            // Stop early at the next step boundary if queued requests could be admitted then.
            let n = queued > 0 && canAdmitNext(requests) ? 1 : min(toCompletion, toTime)
            clock += Double(n) * dt
            busySeconds += Double(n) * dt
            steps += n
            context += Double(n * running)
            finishCompleted(requests, &records)
        }
        if draining && terminatedAt == nil && outstanding == 0 { terminatedAt = clock }
    }

    private func canAdmitNext(_ requests: [TraceRequest]) -> Bool {
        guard waitingHead < waiting.count, running + prefilling < maxBatch else { return false }
        let r = requests[waiting[waitingHead]]
        return kvReserved + r.inputTokens + r.outputTokens <= kvCapacity
    }

    private func admit(_ requests: [TraceRequest]) {
        while canAdmitNext(requests) {
            let i = waiting[waitingHead]
            waitingHead += 1
            // The whole sequence is reserved at admission: no preemption is modelled.
            kvReserved += requests[i].inputTokens + requests[i].outputTokens
            prefill.append((i, max(1, requests[i].inputTokens)))
        }
        if waitingHead > 1024 && waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }

    private func prefillStep(_ requests: [TraceRequest], _ records: inout [RequestRecord]) {
        var budget = prefillChunk
        var done: [Int] = []
        while budget > 0 && prefillHead < prefill.count {
            let use = min(budget, prefill[prefillHead].remaining)
            prefill[prefillHead].remaining -= use
            budget -= use
            if prefill[prefillHead].remaining == 0 {
                done.append(prefill[prefillHead].request)
                prefillHead += 1
            }
        }
        if prefillHead > 256 && prefillHead * 2 > prefill.count {
            prefill.removeFirst(prefillHead)
            prefillHead = 0
        }
        let chunk = Double(prefillChunk - budget)
        let decode = running > 0 ? model.decodeStepSeconds(batch: Double(running), context: context / Double(running)) : 0
        let stepTime = max(decode, model.prefillSeconds(tokens: chunk + Double(running)))
        clock += stepTime
        busySeconds += stepTime
        steps += 1
        context += Double(running)
        for i in done {
            // Prefill emits the first token; the rest come one per decode step.
            records[i].firstToken = clock
            let remaining = requests[i].outputTokens - 1
            if remaining <= 0 {
                records[i].finish = clock
                kvReserved -= requests[i].inputTokens + requests[i].outputTokens
            } else {
                running += 1
                context += Double(requests[i].inputTokens + 1)
                completions.push(step: steps + remaining, request: i)
                if tracksProgress { completionStep[i] = steps + remaining }
            }
        }
        finishCompleted(requests, &records)
    }

    private func finishCompleted(_ requests: [TraceRequest], _ records: inout [RequestRecord]) {
        while let top = completions.peek, top.step <= steps {
            _ = completions.pop()
            let r = requests[top.request]
            records[top.request].finish = clock
            if tracksProgress { completionStep[top.request] = nil }
            running -= 1
            kvReserved -= r.inputTokens + r.outputTokens
            context -= Double(r.inputTokens + r.outputTokens)
            if running == 0 { context = 0 }
        }
    }
}

/// A binary min-heap of (completion step, request).
struct MinHeap {
    private var items: [(step: Int, request: Int)] = []

    var peek: (step: Int, request: Int)? { items.first }

    mutating func push(step: Int, request: Int) {
        items.append((step, request))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].step <= items[i].step { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> (step: Int, request: Int)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l].step < items[m].step { m = l }
                if r < items.count && items[r].step < items[m].step { m = r }
                if m == i { break }
                items.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}
