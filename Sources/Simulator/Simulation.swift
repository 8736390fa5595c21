import LLMOpsCore

/// What a scaling policy sees at each tick: the signals a real autoscaler can scrape.
public struct Observation: Sendable {
    public var time: Double
    /// Replicas that exist and are not draining (starting or ready).
    public var replicas: Int
    public var readyReplicas: Int
    /// Arrivals per second over the last tick and the last minute.
    public var rateLastTick: Double
    public var rateLastMinute: Double
    /// Prompt plus output tokens of the requests that arrived in the last tick, per second.
    public var tokensPerSecondLastTick: Double = 0
    /// Requests in the system (queued anywhere, prefilling or decoding).
    public var inFlight: Int
    /// Requests waiting for admission (replica queues and the router's queue).
    public var queueDepth: Int
    public var kvUtilization: Double
    /// 95th-percentile TTFT of requests that got their first token in the last minute.
    public var ttftP95LastMinute: Double?
    /// 95th-percentile time per output token of requests that finished in the last minute.
    public var itlP95LastMinute: Double? = nil
}

/// A scaling policy under evaluation: called every `tickSeconds`, returns desired replicas.
public protocol SimulatedPolicy {
    var name: String { get }
    var tickSeconds: Double { get }
    /// Seconds from creating a replica to it serving, for this policy's replicas.
    var coldStartSeconds: Double { get }
    mutating func desiredReplicas(_ observation: Observation) -> Int
}

/// Everything fixed across policies in one comparison.
public struct SimulationSetup: Sendable {
    public var requests: [TraceRequest]
    public var replica: ReplicaModel
    public var slo: LatencySLO
    public var maxReplicas: Int
    public var initialReplicas: Int
    /// Seconds at the start that every policy runs but nothing is counted for: requests that
    /// arrive before it are served but not judged, and replicas are billed from it on. A
    /// running operator has seen the traffic before the window it is judged on (its burst
    /// history, its forecaster's level); without a warm-up, a one-hour trace judges a freshly
    /// started one on its first minutes.
    public var warmupSeconds: Double

    public init(requests: [TraceRequest], replica: ReplicaModel, slo: LatencySLO, maxReplicas: Int = 64, initialReplicas: Int = 1, warmupSeconds: Double = 0) {
        self.requests = requests
        self.replica = replica
        self.slo = slo
        self.maxReplicas = maxReplicas
        self.initialReplicas = initialReplicas
        self.warmupSeconds = max(0, warmupSeconds)
    }
}

/// Replicas over time, for charts.
public struct TimelinePoint: Sendable, Hashable, Codable {
    public var time: Double
    public var replicas: Int
    public var readyReplicas: Int
    public var requestsPerSecond: Double
}

public struct SimulationResult: Sendable {
    public var policy: String
    /// The configuration every replica of the run used.
    public var gpuType: String
    public var tensorParallel: Int
    public var gpuHours: Double
    public var costDollars: Double
    public var sloAttainment: Double
    public var ttftP50Ms: Double
    public var ttftP95Ms: Double
    public var ttftP99Ms: Double
    public var itlP95Ms: Double
    /// Share of judged requests whose time to first token missed its objective (rejected
    /// requests count as missing both), and likewise for inter-token latency: which objective
    /// a run missed on.
    public var ttftMissShare: Double = 0
    public var itlMissShare: Double = 0
    /// Busy share of billed GPU time: the time replicas spent executing prefill or decode
    /// steps over the time they were billed (cold start and idle time included), what
    /// `nvidia-smi` would average to. Decode keeps an engine busy at any batch size, so this
    /// is high whenever anything runs; `meanUtilization` is the figure to compare policies by.
    public var engineBusyShare: Double
    /// Capacity utilisation: requests served over what the billed replica-time could have
    /// served at the SLO (replica-seconds × the simulator's measured SLO capacity of one
    /// replica for this request mix). 100 % means every billed second carried a full replica's
    /// SLO load. Filled in by `Evaluation`; NaN from a bare `simulate` call.
    public var meanUtilization: Double = .nan
    /// Billed replica-seconds (GPU-seconds / tensor-parallel degree).
    public var replicaSeconds: Double = 0
    public var servedRequests: Int = 0
    public var scaleEvents: Int
    public var rejected: Int
    public var timeline: [TimelinePoint]
    /// What the policy saw at each tick (for forecaster evaluation).
    public var observations: [Observation]
}

/// Runs one policy over the trace. Deterministic: no randomness, events in a fixed order.
public func simulate<P: SimulatedPolicy>(_ setup: SimulationSetup, policy: P) -> SimulationResult {
    var copy = policy
    return simulate(setup, updating: &copy)
}

/// Runs a policy and leaves it in its final state (e.g. a learning policy after an episode).
public func simulate<P: SimulatedPolicy>(_ setup: SimulationSetup, updating policy: inout P) -> SimulationResult {
    let requests = setup.requests
    var records = Array(repeating: RequestRecord(), count: requests.count)
    var replicas: [SimReplica] = []
    var nextID = 0
    var pending: [Int] = []  // router queue while no replica is ready
    var pendingHead = 0
    var scaleEvents = 0
    var timeline: [TimelinePoint] = []
    var observations: [Observation] = []
    var firstTokenTimes: [(Double, Double)] = []  // (time of first token, ttft), for the TTFT window
    var finishTimes: [(Double, Double)] = []  // (finish time, time per output token), for the ITL window
    var awaitingFinish: [Int] = []  // requests with a first token whose finish is not yet collected
    var ttftScan = 0
    var arrivalsInTick = 0
    var tokensInTick = 0
    var minuteArrivals: [Int] = []

    // Replicas not yet terminated, in creation order: every arrival advances and scans these,
    // so at production scale (hundreds of replicas created and removed over a run) the
    // terminated ones must not be walked again. `replicas` keeps them all for billing.
    var live: [SimReplica] = []
    func addReplica(at t: Double, coldStart: Double) {
        let r = SimReplica(id: nextID, model: setup.replica, createdAt: t, readyAt: t + coldStart)
        replicas.append(r)
        live.append(r)
        nextID += 1
    }
    for _ in 0..<setup.initialReplicas { addReplica(at: -1e6, coldStart: 0) }  // warm at the start
    for r in replicas { r.clock = 0 }

    func active() -> [SimReplica] { live.filter { !$0.draining && $0.terminatedAt == nil } }

    func dropTerminated() { live.removeAll { $0.terminatedAt != nil } }

    func advanceAll(to t: Double) {
        var ended = false
        live.withUnsafeBufferPointer { buffer in
            for r in buffer {
                r.advance(to: t, requests: requests, records: &records)
                if r.terminatedAt != nil { ended = true }
            }
        }
        if ended { dropTerminated() }
    }

    func route(_ i: Int) {
        // The ready replica with the fewest requests outstanding (lowest id on ties).
        let target: SimReplica? = live.withUnsafeBufferPointer { buffer in
            var best: SimReplica?
            var least = Int.max
            for r in buffer where !r.draining && r.isReady {
                let n = r.outstanding
                if n < least {
                    best = r
                    least = n
                }
            }
            return best
        }
        guard let target else {
            pending.append(i)
            return
        }
        if !target.fits(requests[i]) {
            records[i].rejected = true
            return
        }
        target.enqueue(i)
    }

    func dispatchPending() {
        while pendingHead < pending.count, live.contains(where: { !$0.draining && $0.isReady }) {
            let i = pending[pendingHead]
            pendingHead += 1
            route(i)
        }
    }

    // Engine time spent before the judged window (none without a warm-up).
    var busyAtWarmup: Double? = setup.warmupSeconds > 0 ? nil : 0
    func tick(_ t: Double) {
        advanceAll(to: t)
        if busyAtWarmup == nil, t >= setup.warmupSeconds { busyAtWarmup = replicas.reduce(0.0) { $0 + $1.busySeconds } }
        dispatchPending()
        let act = active()
        let ready = act.filter(\.isReady)
        while ttftScan < firstTokenTimes.count && firstTokenTimes[ttftScan].0 < t - 60 { ttftScan += 1 }
        // Only the 95th percentiles are needed: selected, not sorted (a minute at production
        // scale holds tens of thousands of requests, and the oracle ticks every 2 s).
        var recent = firstTokenTimes[ttftScan...].map(\.1)
        awaitingFinish.removeAll { i in
            guard !records[i].finish.isNaN else { return false }
            finishTimes.append((records[i].finish, (records[i].finish - records[i].firstToken) / Double(requests[i].outputTokens - 1)))
            return true
        }
        finishTimes.removeAll { $0.0 < t - 60 }
        var recentITL = finishTimes.compactMap { $0.0 <= t ? $0.1 : nil }
        minuteArrivals.append(arrivalsInTick)
        let ticksPerMinute = max(1, Int((60 / policy.tickSeconds).rounded()))
        if minuteArrivals.count > ticksPerMinute { minuteArrivals.removeFirst(minuteArrivals.count - ticksPerMinute) }
        let obs = Observation(
            time: t, replicas: act.count, readyReplicas: ready.count, rateLastTick: Double(arrivalsInTick) / policy.tickSeconds,
            rateLastMinute: Double(minuteArrivals.reduce(0, +)) / (Double(minuteArrivals.count) * policy.tickSeconds),
            tokensPerSecondLastTick: Double(tokensInTick) / policy.tickSeconds,
            inFlight: act.reduce(0) { $0 + $1.outstanding } + (pending.count - pendingHead),
            queueDepth: act.reduce(0) { $0 + $1.queued } + (pending.count - pendingHead),
            kvUtilization: ready.isEmpty ? 0 : ready.reduce(0) { $0 + $1.kvUtilization } / Double(ready.count),
            ttftP95LastMinute: Order.quantile(&recent, 0.95), itlP95LastMinute: Order.quantile(&recentITL, 0.95))
        observations.append(obs)
        arrivalsInTick = 0
        tokensInTick = 0
        let desired = max(0, min(setup.maxReplicas, policy.desiredReplicas(obs)))
        if desired > act.count {
            for _ in 0..<(desired - act.count) { addReplica(at: t, coldStart: policy.coldStartSeconds) }
            scaleEvents += 1
        } else if desired < act.count {
            // Remove replicas still starting first (newest first), then the least loaded.
            let victims = act.sorted {
                ($0.isReady ? 1 : 0, $0.outstanding, -$0.id) < ($1.isReady ? 1 : 0, $1.outstanding, -$1.id)
            }.prefix(act.count - desired)
            for v in victims {
                v.draining = true
                if !v.isReady || v.outstanding == 0 { v.terminatedAt = t }
            }
            dropTerminated()
            scaleEvents += 1
        }
        timeline.append(TimelinePoint(time: t, replicas: desired, readyReplicas: ready.count, requestsPerSecond: obs.rateLastMinute))
    }

    // Collect first-token times as they appear, in order, for the TTFT window: scanned lazily.
    var recordScan = 0
    func collectFirstTokens(upTo limit: Int) {
        // Requests are served in arrival order per replica, so scanning records up to the
        // newest arrival and keeping those with a first token yet unseen is enough.
        while recordScan < limit, !records[recordScan].firstToken.isNaN || records[recordScan].rejected {
            if !records[recordScan].rejected {
                firstTokenTimes.append((records[recordScan].firstToken, records[recordScan].firstToken - requests[recordScan].arrival))
                if requests[recordScan].outputTokens > 1 { awaitingFinish.append(recordScan) }
            }
            recordScan += 1
        }
    }

    var nextTick = policy.tickSeconds
    let end = requests.last?.arrival ?? 0
    for (i, r) in requests.enumerated() {
        while nextTick <= r.arrival {
            collectFirstTokens(upTo: i)
            tick(nextTick)
            nextTick += policy.tickSeconds
        }
        advanceAll(to: r.arrival)
        dispatchPending()
        route(i)
        arrivalsInTick += 1
        tokensInTick += r.inputTokens + r.outputTokens
    }
    // Let the last requests finish; replicas keep billing until the trace is served.
    while nextTick <= end + policy.tickSeconds {
        collectFirstTokens(upTo: requests.count)
        tick(nextTick)
        nextTick += policy.tickSeconds
    }
    var horizon = nextTick
    for _ in 0..<100_000 {
        advanceAll(to: horizon)
        dispatchPending()
        if live.allSatisfy({ $0.outstanding == 0 }) && pendingHead == pending.count { break }
        horizon += 60
    }
    let finishTime = max(end, replicas.map(\.clock).max() ?? end)

    // Outcome statistics.
    var ttfts: [Double] = [], itls: [Double] = []
    var met = 0, rejected = 0, judged = 0, ttftMissed = 0, itlMissed = 0
    let warmup = setup.warmupSeconds
    for (i, rec) in records.enumerated() where requests[i].arrival >= warmup {
        judged += 1
        if rec.rejected || rec.finish.isNaN || rec.firstToken.isNaN {
            rejected += 1
            continue
        }
        let ttft = rec.firstToken - requests[i].arrival
        let itl = requests[i].outputTokens > 1 ? (rec.finish - rec.firstToken) / Double(requests[i].outputTokens - 1) : 0
        ttfts.append(ttft)
        itls.append(itl)
        if ttft > setup.slo.ttftSeconds { ttftMissed += 1 }
        if itl > setup.slo.itlSeconds { itlMissed += 1 }
        if ttft <= setup.slo.ttftSeconds && itl <= setup.slo.itlSeconds { met += 1 }
    }
    ttfts.sort()
    itls.sort()
    func q(_ xs: [Double], _ p: Double) -> Double { xs.isEmpty ? .nan : xs[min(xs.count - 1, Int(Double(xs.count) * p))] * 1000 }
    let billedSeconds = replicas.reduce(0.0) { acc, r in acc + max(0, (r.terminatedAt ?? finishTime) - max(r.createdAt, warmup)) }
    let gpuSeconds = billedSeconds * Double(setup.replica.tensorParallel)
    let busySeconds = replicas.reduce(0.0) { $0 + $1.busySeconds } - (busyAtWarmup ?? 0)
    var result = SimulationResult(
        policy: policy.name, gpuType: setup.replica.gpu.name, tensorParallel: setup.replica.tensorParallel, gpuHours: gpuSeconds / 3600, costDollars: gpuSeconds / 3600 * setup.replica.gpu.pricePerHour,
        sloAttainment: judged == 0 ? 1 : Double(met) / Double(judged), ttftP50Ms: q(ttfts, 0.5), ttftP95Ms: q(ttfts, 0.95),
        ttftP99Ms: q(ttfts, 0.99), itlP95Ms: q(itls, 0.95),
        engineBusyShare: billedSeconds > 0 ? min(1, busySeconds / billedSeconds) : 0, replicaSeconds: billedSeconds,
        servedRequests: judged - rejected, scaleEvents: scaleEvents, rejected: rejected,
        timeline: timeline, observations: observations)
    if judged > 0 {
        result.ttftMissShare = Double(ttftMissed + rejected) / Double(judged)
        result.itlMissShare = Double(itlMissed + rejected) / Double(judged)
    }
    return result
}

/// Order statistics without a full sort.
enum Order {
    /// The value a sort would put at index min(n-1, ⌊n·q⌋), or nil for no values; `xs` is
    /// reordered. Quickselect with a median-of-three pivot: linear on average.
    static func quantile(_ xs: inout [Double], _ q: Double) -> Double? {
        guard !xs.isEmpty else { return nil }
        let k = min(xs.count - 1, Int(Double(xs.count) * q))
        var lo = 0, hi = xs.count - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if xs[mid] < xs[lo] { xs.swapAt(mid, lo) }
            if xs[hi] < xs[lo] { xs.swapAt(hi, lo) }
            if xs[hi] < xs[mid] { xs.swapAt(hi, mid) }
            let pivot = xs[mid]
            var i = lo, j = hi
            while i <= j {
                while xs[i] < pivot { i += 1 }
                while xs[j] > pivot { j -= 1 }
                if i <= j {
                    xs.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return xs[k] }
        }
        return xs[k]
    }
}
