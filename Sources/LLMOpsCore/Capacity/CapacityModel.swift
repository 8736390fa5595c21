import Foundation

/// The request mix a replica set must serve.
public struct LoadProfile: Sendable, Hashable {
    public var requestsPerSecond: Double
    public var meanInputTokens: Double
    public var meanOutputTokens: Double
    /// Coefficient of variation of prompt length (standard deviation / mean); 1 is
    /// exponential-like, which the Azure 2023 traces roughly show.
    public var inputCV: Double
    /// A high quantile of prompt length (at the SLO's attainment level), which sets the tail
    /// of prefill time.
    public var inputTailTokens: Double
    /// Output lengths of equally likely strata of requests (e.g. the midpoints of 20 quantile
    /// bands), for the per-request ITL tail: short answers have few decode steps, so one long
    /// prompt prefilled beside them moves their average a lot. Empty: assume an exponential
    /// distribution with the mean output length.
    public var outputStrata: [Double]
    /// Prompt lengths of equally likely strata, likewise; empty: exponential with the mean.
    public var inputStrata: [Double]
    /// Request rates of equally likely stretches of time (e.g. per-minute rates in 20 quantile
    /// bands): how the load moves around its mean. An autoscaled fleet pays for
    /// ceil(rate / capacity) replicas at each moment, so a configuration with big replicas
    /// wastes more of them when the load is small or moves. Empty: a constant load.
    public var rateStrata: [Double] = []
    /// How far the rate can rise above its recent level before new replicas could serve: the
    /// high quantile of (peak one-minute rate within a cold start ahead) / (rate of the last
    /// five minutes). A fleet must hold this much capacity in reserve, since no autoscaler
    /// reacts faster than a cold start; 1 means a load that only drifts.
    public var burstFactor: Double = 1
    /// The lowest constant rate that would have served the history behind `burstFactor` within
    /// the bursts' share of the miss budget (`BurstReserve.staticCapacity`), or nil. The
    /// reserve never exceeds it: that much capacity already serves every burst of that
    /// history, while `burstFactor` × a recent rate that itself holds a burst (just after one)
    /// would reserve for bursts on top of bursts.
    public var burstPeakRequestsPerSecond: Double?
    /// Index of dispersion of arrivals: the variance of the number of requests arriving in a
    /// short window over its mean, with the rate's movement over longer times taken out. 1 when
    /// requests arrive one at a time at random (Poisson); E[X²]/E[X] when they arrive in groups
    /// of X together (a client that fans one action out into many requests, an agent's
    /// parallel tool calls). A request then waits behind the rest of its group as well as the
    /// queue (M^X/G/1), and the prefill chunks that slow a running request's decode steps come
    /// in groups. Used as it is when `dispersionByWindow` is empty.
    public var arrivalDispersion: Double = 1
    /// The same measured over each of `dispersionWindows`, when known. Requests that arrive
    /// within less time than a replica takes to prefill their group queue as if they arrived
    /// together; spread wider, the replica keeps up with them. The model therefore reads the
    /// dispersion at the window a group's prefill takes on the configuration at hand
    /// (`dispersion(prefillSeconds:)`): on the Azure code trace it is 1.6 over 0.125 s but 15
    /// over 2 s, so one window for every GPU would either miss the groups a slow GPU queues or
    /// charge a fast one for groups it clears as they arrive.
    public var dispersionByWindow: [Double] = []
    /// Windows of `dispersionByWindow`, seconds.
    public static let dispersionWindows: [Double] = [0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8]

    /// The dispersion of groups of geometric size with mean m, E[X²]/E[X] = 2m − 1, and back:
    /// the shape that D alone pins down, which the model, the spec's requestsPerGroup and the
    /// calibration all assume.
    public static func dispersion(groupMean m: Double) -> Double { 2 * m - 1 }
    public static func groupMean(dispersion d: Double) -> Double { (d + 1) / 2 }

    /// Whether requests arrive in groups at any window.
    public var arrivesInGroups: Bool { max(arrivalDispersion, dispersionByWindow.max() ?? 1) > 1 }

    /// The dispersion the model uses for a replica whose mean prompt prefill takes
    /// `prefillSeconds`: with groups of geometric size of mean m = (D + 1)/2, a group takes
    /// about m prefills, so D is read at that window, a fixed point found by iteration
    /// (interpolated in log-window, clamped at the ends).
    public func dispersion(prefillSeconds: Double) -> Double {
        let windows = Self.dispersionWindows
        guard dispersionByWindow.count == windows.count, prefillSeconds > 0 else { return arrivalDispersion }
        func at(_ w: Double) -> Double {
            if w <= windows[0] { return dispersionByWindow[0] }
            guard let i = windows.firstIndex(where: { $0 >= w }) else { return dispersionByWindow.last! }
            let f = log(w / windows[i - 1]) / log(windows[i] / windows[i - 1])
            return dispersionByWindow[i - 1] + f * (dispersionByWindow[i] - dispersionByWindow[i - 1])
        }
        var d = at(prefillSeconds)
        for _ in 0..<20 {
            let next = at(Self.groupMean(dispersion: max(d, 1)) * prefillSeconds)
            if abs(next - d) < 1e-3 * d { return next }
            d = next
        }
        return d
    }

    /// The load one replica of `replicas` sees when the router spreads every group across them
    /// (least-loaded or at random, each member lands on a given replica with chance 1/n): a
    /// request's companions on its replica are (X − 1)/n on average, so the dispersion above
    /// Poisson falls by n. The rate is unchanged (it is the per-replica rate already).
    public func spread(over replicas: Int) -> LoadProfile {
        var copy = self
        let n = Double(max(1, replicas))
        copy.arrivalDispersion = 1 + (arrivalDispersion - 1) / n
        copy.dispersionByWindow = dispersionByWindow.map { 1 + ($0 - 1) / n }
        return copy
    }

    public init(
        requestsPerSecond: Double, meanInputTokens: Double, meanOutputTokens: Double, inputCV: Double = 1, inputTailTokens: Double? = nil,
        inputStrata: [Double] = [], outputStrata: [Double] = []
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.meanInputTokens = meanInputTokens
        self.meanOutputTokens = meanOutputTokens
        self.inputCV = inputCV
        // Without a measured tail, assume an exponential-like tail: the 99th percentile of an
        // exponential distribution is ln(100) ≈ 4.6 × its mean.
        self.inputTailTokens = inputTailTokens ?? meanInputTokens * 4.6
        self.inputStrata = inputStrata
        self.outputStrata = outputStrata
    }

    public var outputLengthStrata: [Double] { outputStrata.isEmpty ? Self.exponentialStrata(mean: meanOutputTokens) : outputStrata }
    public var inputLengthStrata: [Double] { inputStrata.isEmpty ? Self.exponentialStrata(mean: meanInputTokens) : inputStrata }

    static let strataCount = 20

    /// Midpoint quantiles of 20 equal-probability bands of an exponential distribution.
    static func exponentialStrata(mean: Double) -> [Double] {
        (0..<strataCount).map { k in max(1, -mean * log(1 - (Double(k) + 0.5) / Double(strataCount))) }
    }

    /// Strata from observed lengths (any order): the midpoint of each of 20 quantile bands.
    public static func strata(of lengths: [Double]) -> [Double] {
        guard !lengths.isEmpty else { return [] }
        let sorted = lengths.sorted()
        return (0..<strataCount).map { k in sorted[min(sorted.count - 1, Int((Double(k) + 0.5) / Double(strataCount) * Double(sorted.count)))] }
    }

    public func validate() -> CoreError? {
        if !(requestsPerSecond.isFinite && requestsPerSecond >= 0) {
            return .invalidInput(field: "load.requestsPerSecond", reason: "must be a non-negative number")
        }
        if !(meanInputTokens.isFinite && meanInputTokens >= 1) { return .invalidInput(field: "load.meanInputTokens", reason: "must be at least 1") }
        if !(meanOutputTokens.isFinite && meanOutputTokens >= 1) { return .invalidInput(field: "load.meanOutputTokens", reason: "must be at least 1") }
        if !(inputCV.isFinite && inputCV >= 0) { return .invalidInput(field: "load.inputCV", reason: "must be a non-negative number") }
        if !(inputTailTokens.isFinite && inputTailTokens >= meanInputTokens * 0.5) {
            return .invalidInput(field: "load.inputTailTokens", reason: "must be a finite quantile near or above the mean")
        }
        for (field, strata) in [("load.inputStrata", inputStrata), ("load.outputStrata", outputStrata)]
        where strata.contains(where: { !($0.isFinite && $0 >= 1) }) {
            return .invalidInput(field: field, reason: "every length must be a finite number of at least 1 token")
        }
        if !(burstFactor.isFinite && burstFactor >= 1) {
            return .invalidInput(field: "load.burstFactor", reason: "must be a finite number of at least 1")
        }
        if let peak = burstPeakRequestsPerSecond, !(peak.isFinite && peak >= 0) {
            return .invalidInput(field: "load.burstPeakRequestsPerSecond", reason: "must be a finite, non-negative number of requests per second")
        }
        if !(arrivalDispersion.isFinite && arrivalDispersion > 0) {
            return .invalidInput(field: "load.arrivalDispersion", reason: "must be a finite, positive variance-to-mean ratio (1 for arrivals one at a time)")
        }
        if !dispersionByWindow.isEmpty && dispersionByWindow.count != Self.dispersionWindows.count {
            return .invalidInput(field: "load.dispersionByWindow", reason: "must hold one ratio per window of LoadProfile.dispersionWindows (\(Self.dispersionWindows.count))")
        }
        if let i = dispersionByWindow.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            return .invalidInput(field: "load.dispersionByWindow[\(i)]", reason: "must be a finite, positive variance-to-mean ratio")
        }
        if rateStrata.contains(where: { !($0.isFinite && $0 >= 0) }) {
            return .invalidInput(field: "load.rateStrata", reason: "every rate must be a finite, non-negative number of requests per second")
        }
        return nil
    }
}

/// Latency objectives: the `attainment` fraction of requests must see TTFT and ITL within bounds.
public struct LatencySLO: Sendable, Hashable {
    public var ttftSeconds: Double
    public var itlSeconds: Double
    public var attainment: Double

    public init(ttftSeconds: Double, itlSeconds: Double, attainment: Double = 0.99) {
        self.ttftSeconds = ttftSeconds
        self.itlSeconds = itlSeconds
        self.attainment = attainment
    }

    public func validate() -> CoreError? {
        if !(ttftSeconds.isFinite && ttftSeconds > 0) { return .invalidInput(field: "slo.ttft", reason: "must be positive") }
        if !(itlSeconds.isFinite && itlSeconds > 0) { return .invalidInput(field: "slo.itl", reason: "must be positive") }
        if !(attainment > 0 && attainment < 1) { return .invalidInput(field: "slo.attainment", reason: "must be strictly between 0 and 1") }
        return nil
    }
}

/// Tunable efficiencies of the roofline. Defaults are typical measured fractions of peak for
/// vLLM-class engines: ~80% of memory bandwidth in decode and ~50% model-FLOPs utilisation in
/// prefill (e.g. the MBU/MFU figures reported for vLLM and TensorRT-LLM in "Splitwise",
/// Patel et al., ISCA 2024, and Databricks' LLM inference performance notes).
public struct Efficiency: Sendable, Hashable {
    public var bandwidth: Double = 0.8
    public var compute: Double = 0.5
    /// Fraction of device memory the engine may use (vLLM's `gpu_memory_utilization`).
    public var memoryUtilization: Double = 0.9
    /// Per-GPU memory kept for activations, CUDA graphs and the runtime, in bytes.
    public var reservedBytesPerGPU: Double = 2e9
    /// Ratio of a high quantile of per-request inter-token latency (time per output token,
    /// averaged over the request) to its mean: batch composition changes during a request,
    /// so its average step time spreads a little around the mean step time.
    public var tpotTailFactor: Double = 1.15
    /// Prompt tokens per scheduler step with chunked prefill (vLLM's max_num_batched_tokens).
    public var prefillChunkTokens: Double = 2048
    /// Latency of one all-reduce launch, seconds: NVLink-class vs PCIe-class interconnects.
    public var allReduceLatencyNVLink: Double = 10e-6
    public var allReduceLatencyPCIe: Double = 30e-6

    public init() {}
}

/// Predicted behaviour of one replica at one request rate.
public struct ReplicaPerformance: Sendable, Hashable {
    public var requestsPerSecond: Double
    /// Sequences decoding at once (Little's law).
    public var concurrency: Double
    /// Fraction of GPU time busy; 1 or more means the replica cannot keep up.
    public var utilization: Double
    public var ttftQuantileSeconds: Double
    public var itlQuantileSeconds: Double
    public var ttftMeanSeconds: Double
    public var itlMeanSeconds: Double
    /// Share of requests whose time per output token exceeds the target passed to
    /// `performance(at:quantile:itlTarget:fleet:)` (0 when no target was given).
    public var itlMissShare: Double
    public var stable: Bool
}

/// A (model, GPU type, tensor-parallel degree) combination and what it can do.
///
/// Formulas (all per replica of `tp` GPUs):
/// - Memory (Kwon et al., SOSP 2023): KV capacity in tokens =
///   (tp × (memory × utilisation − reserved) − weights) / kvBytesPerToken.
/// - Decode step (roofline; Williams et al., CACM 2009, applied to LLMs by Yuan et al.,
///   "LLM Inference Unveiled", 2024): t_step(B) = max(bytes / (BW·η_bw), flops / (peak·η_c)) + t_comm,
///   with bytes = weights/tp + B·ctx·kvBytesPerToken/tp and flops = 2·P·B/tp.
/// - Prefill of n tokens: t_prefill(n) = max(2·P·n / (tp·peak·η_c), weights/(tp·BW·η_bw)) + t_comm.
/// - Tensor-parallel communication: two all-reduces per layer (Megatron-LM, Shoeybi et al.
///   2019), each a ring all-reduce of 2(tp−1)/tp × message bytes over the link plus a launch latency.
/// - Queueing: batched decode never queues a request (it joins the running batch), so the
///   binding resource is compute: ρ = λ·(t_prefill(I) + O·2P/(tp·peak·η_c));
///   mean prefill wait by Pollaczek–Khinchine W = λ·E[S_p²] / (2(1−ρ)); its tail by Kingman's
///   heavy-traffic exponential approximation, P(W > t) ≈ ρ·exp(−tρ/W), so the q-quantile is
///   (W/ρ)·ln(ρ/(1−q)). Concurrency N = λ·O·t_itl solves a fixed point since t_step depends on N.
/// - ITL is per request (time per output token averaged over the request, as SLO attainment is
///   counted per request). With chunked prefill (Agrawal et al., SARATHI, 2023) a share φ of
///   decode steps also carries a prompt chunk and takes t_mixed = max(t_step, t_prefill(chunk+N));
///   the mean is t_step + φ·(t_mixed − t_step), and the tail counts a request's mixed steps as
///   binomial over its output length.
public struct ReplicaModel: Sendable, Hashable {
    public let model: ModelProfile
    public let gpu: GPUSpecs
    public let tensorParallel: Int
    public let efficiency: Efficiency

    public init(model: ModelProfile, gpu: GPUSpecs, tensorParallel: Int, efficiency: Efficiency = Efficiency()) {
        self.model = model
        self.gpu = gpu
        self.tensorParallel = tensorParallel
        self.efficiency = efficiency
    }

    var tp: Double { Double(tensorParallel) }

    /// Bytes available for KV cache across the replica's GPUs (may be negative: does not fit).
    public var kvCacheBytes: Double {
        tp * (gpu.memoryGB * 1e9 * efficiency.memoryUtilization - efficiency.reservedBytesPerGPU) - model.weightBytes
    }

    public var kvCacheTokens: Double { max(0, kvCacheBytes / model.kvBytesPerToken) }

    /// Whether the weights fit with room for at least one full-context sequence, and the
    /// heads divide evenly across GPUs (vLLM requires attention heads divisible by TP).
    public var fits: Bool {
        kvCacheTokens >= Double(model.contextLength) && model.attentionHeads % tensorParallel == 0
    }

    /// Why this combination is not feasible, or nil.
    public var infeasibility: String? {
        if model.attentionHeads % tensorParallel != 0 {
            return "\(model.attentionHeads) attention heads do not divide across \(tensorParallel) GPUs"
        }
        if kvCacheBytes <= 0 {
            let need = model.weightBytes / 1e9
            let have = tp * (gpu.memoryGB * efficiency.memoryUtilization - efficiency.reservedBytesPerGPU / 1e9)
            return String(format: "weights need %.1f GB but %d×%@ offer %.1f GB usable", need, tensorParallel, gpu.name, have)
        }
        if kvCacheTokens < Double(model.contextLength) {
            return String(format: "KV cache holds %.0f tokens, less than one %d-token context", kvCacheTokens, model.contextLength)
        }
        return nil
    }

    var peakFLOPS: Double {
        let tf = model.usesFP8Compute ? (gpu.fp8TFLOPS ?? gpu.bf16TFLOPS) : gpu.bf16TFLOPS
        return tf * 1e12
    }

    /// Time of the two all-reduces per layer for `tokens` tokens in flight.
    func communicationSeconds(tokens: Double) -> Double {
        guard tensorParallel > 1 else { return 0 }
        let message = tokens * Double(model.hiddenSize) * 2  // activations in BF16
        let transfer = 2 * (tp - 1) / tp * message / (gpu.interconnectGBs * 1e9)
        let latency = gpu.interconnectGBs >= 300 ? efficiency.allReduceLatencyNVLink : efficiency.allReduceLatencyPCIe
        return 2 * Double(model.layers) * (transfer + latency)
    }

    /// One decode step for `batch` sequences with `context` tokens each on average.
    public func decodeStepSeconds(batch: Double, context: Double) -> Double {
        let b = max(batch, 1)
        let bytes = model.weightBytes / tp + b * context * model.kvBytesPerToken / tp
        let memoryTime = bytes / (gpu.memoryBandwidthGBs * 1e9 * efficiency.bandwidth)
        let computeTime = 2 * model.parameters * b / (tp * peakFLOPS * efficiency.compute)
        return max(memoryTime, computeTime) + communicationSeconds(tokens: b)
    }

    /// Prefill of a prompt of `tokens` tokens.
    public func prefillSeconds(tokens: Double) -> Double {
        let n = max(tokens, 1)
        // Attention's quadratic term: 2·layers·n²·hidden FLOPs (causal half of 4·L·n²·d).
        let flops = 2 * model.parameters * n + 2 * Double(model.layers) * n * n * Double(model.hiddenSize)
        let computeTime = flops / (tp * peakFLOPS * efficiency.compute)
        let memoryTime = model.weightBytes / (tp * gpu.memoryBandwidthGBs * 1e9 * efficiency.bandwidth)
        return max(computeTime, memoryTime) + communicationSeconds(tokens: n)
    }

    /// Predicted behaviour at `load` with quantile `q` for the tails and, when `itlTarget` is
    /// given, the share of requests that miss it.
    /// `fleet` is the number of replicas behind the router that share the load (each at
    /// `load`), which shortens the waits.
    public func performance(at load: LoadProfile, quantile q: Double, itlTarget: Double? = nil, fleet: Int = 1) -> ReplicaPerformance {
        let lambda = load.requestsPerSecond
        let inMean = load.meanInputTokens, outMean = load.meanOutputTokens
        // Mean KV occupancy of a decoding sequence: the prompt plus half its output.
        let context = inMean + outMean / 2
        let maxConcurrency = kvCacheTokens / context
        let prefillMean = prefillSeconds(tokens: inMean)
        let rhoPrefill = lambda * prefillMean
        // A prompt alone takes ceil(I / C) chunk steps; for exponential-like prompt lengths
        // E[ceil(I/C)] = Σ_k P(I > kC) = 1 / (1 − exp(−C/μ)), the last one partial. But a step
        // packs C tokens from every prompt waiting (vLLM's token budget), so while prompts queue
        // the steps are full: only the last step of each run of prefill work is partial. Runs
        // start at the arrivals that find no prefill work, λ(1 − ρ_p) per second. Counting one
        // partial step per prompt, as if prompts never queued, put the running batch 30 % under
        // the simulator's at 11 req/s on an H100 (more, shorter mixed steps decode faster).
        let chunkTokens = efficiency.prefillChunkTokens
        let partialPerPrompt = 1 / (1 - exp(-chunkTokens / inMean)) - inMean / chunkTokens
        let chunksPerSecond = lambda * (inMean / chunkTokens + max(0, 1 - rhoPrefill) * partialPerPrompt)
        let chunk = chunksPerSecond > 0 ? lambda * inMean / chunksPerSecond : min(inMean, chunkTokens)

        // Chunked prefill: a share φ of steps also carries a prompt chunk and takes
        // t_mixed = max(t_step, t_prefill(chunk + N)). With r chunks per second and mean step
        // t_avg = t_step + φ·(t_mixed − t_step), φ = r·t_avg, so φ = r·t_step / (1 − r·(t_mixed − t_step)).
        func steps(_ n: Double) -> (step: Double, mixed: Double, phi: Double, average: Double) {
            let step = decodeStepSeconds(batch: n, context: context)
            let mixed = max(step, prefillSeconds(tokens: chunk + n))
            let denominator = 1 - chunksPerSecond * (mixed - step)
            let phi = denominator > 0 ? min(1, chunksPerSecond * step / denominator) : 1
            return (step, mixed, phi, step + phi * (mixed - step))
        }
        // Fixed point N = λ·O·t_avg(N): t_avg grows with N, so iterate from N = λ·O·t_avg(1).
        var n = max(lambda * outMean * steps(1).average, 0)
        var stable = rhoPrefill < 1
        if stable {
            for _ in 0..<60 {
                let next = lambda * outMean * steps(n).average
                if abs(next - n) < 1e-4 * max(1, n) {
                    n = next
                    break
                }
                n = next
                if n > maxConcurrency * 4 { break }
            }
        }
        let timing = steps(n)
        // Every step mixed and still not keeping up with arriving prompt chunks: unstable.
        if timing.phi >= 1 && chunksPerSecond * timing.mixed > 1 { stable = false }
        let step = decodeStepSeconds(batch: n, context: context)
        // Batched decode does not queue requests: a new sequence joins the running batch. What
        // saturates is compute, which every token needs: prefill plus 2·P FLOPs per output token.
        let decodeComputePerToken = 2 * model.parameters / (tp * peakFLOPS * efficiency.compute)
        let rho = lambda * (prefillMean + outMean * decodeComputePerToken)
        stable = stable && rho < 1 && n <= maxConcurrency && admits(running: n, load: load, quantile: q)

        // The wait for prefill: P(W > t) ≈ p·exp(−d·t). One replica: p = ρ and d = ρ/W̄ with W̄
        // the mean wait in heavy traffic, λ·E[S]²·(D + c_s²) / (2(1 − ρ)) for arrivals of index
        // of dispersion D (the diffusion approximation; Kingman's G/G/1 form with the arrivals'
        // variance per mean in place of their squared CV). D = 1 is Pollaczek–Khinchine; groups
        // of X arriving together give the M^X/G/1 queue's wait for a whole group, D = E[X²]/E[X].
        // Prefill time is close to linear in tokens, so E[S²] ≈ t(mean)² · (1 + cv²).
        // A fleet of c replicas behind a least-loaded router pools its queues, approximated as
        // M/G/c (Allen–Cunneen): a request waits only when every replica is busy, p = Erlang
        // C(c, cρ), and the queue drains c times as fast. In the simulator each replica of a
        // 16-replica fleet carries 15–25 % more than one alone where prefill waits bind. Sizing
        // keeps c = 1: a Kubernetes Service spreads requests at random, which pools nothing.
        let dispersion = load.dispersion(prefillSeconds: prefillMean)
        let pk = lambda * prefillMean * prefillMean * (dispersion + load.inputCV * load.inputCV) / (2 * (1 - rho))
        let waitChance = stable && rho > 0 ? Self.erlangC(servers: fleet, utilization: rho) : 0
        let waitDecay = stable && rho > 0 && pk > 0 ? Double(max(1, fleet)) * rho / pk : .infinity
        // Behind its own group as well: with geometric group sizes of mean m = (D + 1)/2 (the
        // shape that D alone pins down), the members ahead of a request are geometric on
        // 0, 1, … with mean m − 1 (memoryless), so that wait is about exponential: present with
        // chance (m − 1)/m, of mean m·t(mean) when present.
        let groupMean = LoadProfile.groupMean(dispersion: max(dispersion, 1))
        let groupChance = stable ? (groupMean - 1) / groupMean : 0
        let groupScale = prefillMean * groupMean
        let queueMean = waitChance > 0 && waitDecay.isFinite ? waitChance / waitDecay : 0
        let waitMean = stable ? queueMean + groupChance * groupScale : .infinity
        let waitQuantile = stable
            ? Self.sumQuantile(first: (waitChance, waitDecay.isFinite ? 1 / waitDecay : 0), second: (groupChance, groupScale), miss: 1 - q) : .infinity
        let itlMean = stable ? timing.average : .infinity
        // A request's time per output token averages its own steps; how many of its O−1 steps
        // carry a prompt chunk is binomial, so its q-quantile share is φ + z_q·sqrt(φ(1−φ)/(O−1)).
        let z = Normal.quantile(q)
        let phiQuantile = min(1, timing.phi + z * (timing.phi * (1 - timing.phi) / max(1, outMean - 1)).squareRoot())
        let itlQuantile = stable ? efficiency.tpotTailFactor * timing.step + phiQuantile * (timing.mixed - timing.step) : .infinity
        var itlMiss = 0.0
        if let itlTarget {
            // Prompts queued when a request's decode starts: those that arrived during its own
            // wait and prefill (what an M/G/1 departure leaves behind).
            let queuedAtStart = lambda * (waitMean + prefillMean)
            itlMiss = stable
                ? itlMissShare(target: itlTarget, load: load, running: n, step: timing.step, queuedAtStart: queuedAtStart, prefillBusy: rhoPrefill, groupMean: groupMean) : 1
        }
        return ReplicaPerformance(
            requestsPerSecond: lambda, concurrency: n, utilization: stable ? rho : max(rho, 1),
            ttftQuantileSeconds: waitQuantile + prefillSeconds(tokens: load.inputTailTokens) + step,
            itlQuantileSeconds: itlQuantile,
            ttftMeanSeconds: waitMean + prefillMean + step,
            itlMeanSeconds: itlMean,
            itlMissShare: itlMiss,
            stable: stable)
    }

    /// Erlang's C formula: the chance an arrival finds all `servers` busy in M/M/c at per-server
    /// utilisation ρ, by the Erlang B recursion (stable for large c). For one server it is ρ.
    static func erlangC(servers: Int, utilization rho: Double) -> Double {
        let c = max(1, servers)
        guard rho > 0 else { return 0 }
        guard rho < 1 else { return 1 }
        let offered = Double(c) * rho
        var b = 1.0
        for k in 1...c { b = offered * b / (Double(k) + offered * b) }
        return b / (1 - rho * (1 - b))
    }

    /// The `1 − miss` quantile of A + B for independent waits that are zero or exponential:
    /// P(A > t) = a·exp(−t/α), P(B > t) = b·exp(−t/β). The sum's survival is
    /// a(1−b)e^(−t/α) + b(1−a)e^(−t/β) + ab·P(Exp(α) + Exp(β) > t), solved by bisection.
    static func sumQuantile(first: (chance: Double, scale: Double), second: (chance: Double, scale: Double), miss: Double) -> Double {
        let (a, alpha) = first.scale > 0 ? first : (0, 0)
        let (b, beta) = second.scale > 0 ? second : (0, 0)
        func survival(_ t: Double) -> Double {
            let ea = alpha > 0 ? exp(-t / alpha) : 0, eb = beta > 0 ? exp(-t / beta) : 0
            var both = 0.0
            if a > 0 && b > 0 {
                both = abs(alpha - beta) < 1e-9 * max(alpha, beta) ? (1 + t / alpha) * ea : (alpha * ea - beta * eb) / (alpha - beta)
            }
            return a * (1 - b) * ea + b * (1 - a) * eb + a * b * both
        }
        guard survival(0) > miss else { return 0 }
        var lo = 0.0, hi = max(alpha, beta)
        while survival(hi) > miss { lo = hi; hi *= 2 }
        while hi - lo > 1e-4 * hi {
            let mid = (lo + hi) / 2
            if survival(mid) > miss { lo = mid } else { hi = mid }
        }
        return hi
    }

    /// The engine's batch cap (vLLM's `max_num_seqs` default), which the simulator shares.
    public static let maxRunningSequences = 256.0

    /// Whether `running` sequences fit the admission limits at quantile `q` of their
    /// fluctuation: the batch cap, and KV cache reserved for a sequence's prompt and output
    /// when it is admitted (as the simulator does). A sequence holds its cache while it
    /// decodes, so the cache in use is weighted by output length: E[I] + E[O²]/E[O] tokens per
    /// running sequence, not E[I + O]. How many run is about Poisson and their sizes vary, so
    /// the cache in use varies by √(N·E[(I+O)²]). With only the mean checked, a replica the
    /// model rated at 79 % utilisation stalled on a full cache and collapsed in the simulator
    /// (chat-like traffic with a heavy prompt tail on an H100, 12 req/s).
    public func admits(running n: Double, load: LoadProfile, quantile q: Double) -> Bool {
        let z = q > 0.5 ? Normal.quantile(q) : 0
        guard n + z * n.squareRoot() <= Self.maxRunningSequences else { return false }
        let inputs = load.inputLengthStrata, outputs = load.outputLengthStrata
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(1, xs.count)) }
        let meanIn = mean(inputs), meanOut = max(mean(outputs), 1)
        let meanInSquared = mean(inputs.map { $0 * $0 }), meanOutSquared = mean(outputs.map { $0 * $0 })
        let held = meanIn + meanOutSquared / meanOut
        let spread = (n * (meanInSquared + 2 * meanIn * meanOut + meanOutSquared)).squareRoot()
        return n * held + z * spread <= kvCacheTokens
    }

    /// Share of requests whose time per output token exceeds `target`.
    ///
    /// A request with O output tokens decodes for n = O − 1 steps. Every prompt prefilled
    /// while it decodes slows some of those steps: its chunks run beside the decode batch, each
    /// taking t_prefill(chunk + N) instead of t_step. The request misses when
    /// tail·t_step·n + Σ extra(prompts met) > target·n. Prompts met are those queued when its
    /// decode starts (the arrivals during its own wait and prefill, Q₀) and those arriving
    /// while it decodes; every prompt met lengthens the window and lets more arrive, so their
    /// mean is M = (Q₀ + λ·n·t_step) / (1 − ρ_p), Poisson for arrivals one at a time and
    /// grouped otherwise, plus the request's own group behind it (`promptsMet`). One or two prompts are summed exactly over the prompt-length
    /// strata, more by a normal approximation. Averaged over the output-length strata, so
    /// short answers weigh in as they do in the attainment count; one long prompt, not many
    /// short ones, is what makes them miss.
    func itlMissShare(target: Double, load: LoadProfile, running: Double, step: Double, queuedAtStart: Double, prefillBusy: Double, groupMean: Double = 1) -> Double {
        let chunk = efficiency.prefillChunkTokens
        // Extra seconds one prompt of each stratum adds to the steps it shares.
        let extras: [Double] = load.inputLengthStrata.map { tokens in
            var left = tokens, extra = 0.0
            while left > 0 {
                let c = min(chunk, left)
                extra += max(0, prefillSeconds(tokens: c + running) - step)
                left -= c
            }
            return extra
        }
        let m = Double(extras.count)
        let mean = extras.reduce(0, +) / m
        let sd = (extras.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / m).squareRoot()
        let sortedExtras = extras.sorted()
        let base = efficiency.tpotTailFactor * step
        // Each of a request's steps carries at most one step's worth of prompt tokens, so its
        // n steps are lengthened by at most n full chunks, however many prompts it meets: a
        // request whose every step could be a full mixed step and still meet the target
        // cannot miss. Without this bound a two-token answer that met one 8,000-token prompt
        // was charged all four of its chunks, and the model put an H100's SLO capacity on
        // prefill-heavy traffic at half what the simulator measures.
        let mostPerStep = max(0, prefillSeconds(tokens: chunk + running) - step)
        var miss = 0.0
        let outputs = load.outputLengthStrata
        for o in outputs {
            let n = (o - 1).rounded()
            guard n >= 1 else { continue }  // one token: no inter-token latency
            let budget = (target - base) * n
            guard budget > 0 else {
                miss += 1
                continue
            }
            if mostPerStep * n <= budget { continue }
            let a = (queuedAtStart + load.requestsPerSecond * n * step) / max(1e-3, 1 - prefillBusy)
            // P(fine) = Σ_k P(k prompts met) · P(extras of k prompts fit the budget).
            var fine = 0.0
            for (k, chance) in Self.promptsMet(mean: a, groupMean: groupMean).enumerated() {
                let fits: Double
                switch k {
                case 0: fits = 1
                case 1: fits = Double(sortedExtras.prefix { $0 <= budget }.count) / m
                case 2:
                    var count = 0
                    for x in sortedExtras { count += sortedExtras.prefix { x + $0 <= budget }.count }
                    fits = Double(count) / (m * m)
                default:
                    let kk = Double(k)
                    fits = sd > 0 ? 1 - Normal.survival((budget - kk * mean) / (kk.squareRoot() * sd)) : (kk * mean <= budget ? 1 : 0)
                }
                fine += chance * fits
            }
            miss += max(0, 1 - fine)
        }
        return miss / Double(outputs.count)
    }

    /// Chances of meeting k = 0, 1, … prompts when they come in groups of geometric size with
    /// mean m (`LoadProfile.arrivalDispersion` = 2m − 1): `mean` prompts from other groups on
    /// average (a compound Poisson count of groups, the Pólya–Aeppli distribution), plus the
    /// request's own group members behind it, geometric on 0, 1, … with mean m − 1: they are
    /// prefilled in the steps right after its first token. m = 1 gives Poisson(mean).
    /// Pólya–Aeppli by the recursion that its generating function G = exp(Λ(F − 1)) with
    /// F(z) = pz / (1 − qz) satisfies, (1 − qz)²·G′ = Λp·G:
    /// (k+1)·g(k+1) = (Λp + 2qk)·g(k) − q²(k−1)·g(k−1), with Λ = mean/m groups, p = 1/m.
    static func promptsMet(mean a: Double, groupMean: Double) -> [Double] {
        let m = max(1, groupMean), p = 1 / m, q = 1 - p
        let groups = max(0, a) / m
        let spread = (max(0, a) * LoadProfile.dispersion(groupMean: m) + (m - 1) * m).squareRoot()
        // Eight deviations, and enough of the geometric tail (q^k) to leave under 1e-9 of it.
        let kMax = Int(max(0, a) + (m - 1) + 8 * spread + 21 * m)
        var g = [exp(-groups)]
        g.reserveCapacity(kMax + 1)
        for k in 0..<kMax {
            let previous = k > 0 ? g[k - 1] : 0
            g.append(((groups * p + 2 * q * Double(k)) * g[k] - q * q * Double(k - 1) * previous) / Double(k + 1))
        }
        guard q > 0 else { return g }
        // Add the own group's geometric count: h(k) = p·g(k) + q·h(k − 1).
        var h = g
        h[0] = p * g[0]
        for k in 1..<h.count { h[k] = p * g[k] + q * h[k - 1] }
        return h
    }

    /// The rate one replica carries through a burst shorter than a cold start: the highest at
    /// which the median request still meets both objectives. The SLO capacity (`maxRate`) holds
    /// them for the attainment quantile in steady state, which a burst of a minute need not;
    /// compute saturation (`rateUpperBound`) holds them for almost no one, since every decode
    /// step is then full and inter-token latency fails. Sizing a burst reserve at saturation
    /// missed the SLO on ramps at production scale; the requests a burst brings beyond this
    /// rate are what `BurstReserve` counts against the miss budget.
    public func burstRate(for load: LoadProfile, slo: LatencySLO) -> Double {
        var median = slo
        median.attainment = 0.5
        return max(maxRate(for: load, slo: median), maxRate(for: load, slo: slo))
    }

    /// The SLO capacity per replica of the fleet that serves `load.requestsPerSecond` (with
    /// `headroom` kept free), and that fleet's size: requests arriving in groups
    /// (`LoadProfile.arrivalDispersion`) are spread over the replicas, so each replica's
    /// capacity depends on how many there are. The fleet is the smallest n whose n replicas,
    /// each seeing the groups spread n ways, carry the rate; capacity grows with n, so n is
    /// found upward from the count that Poisson arrivals would need. (0, 0) when a replica
    /// cannot meet the SLO at all.
    public func fleetRate(for load: LoadProfile, slo: LatencySLO, headroom: Double = 0) -> (ratePerReplica: Double, replicas: Int) {
        let f = fleet(for: load, slo: slo, headroom: headroom)
        return (f.base * (1 - headroom), f.replicas)
    }

    /// `fleetRate`'s search, returning the fleet's per-replica capacity before headroom (what
    /// `capacityScaleByFleet` takes as its reference) so that callers need not compute it again.
    private func fleet(for load: LoadProfile, slo: LatencySLO, headroom: Double) -> (base: Double, replicas: Int) {
        func base(_ n: Int) -> Double { maxRate(for: load.spread(over: n), slo: slo) }
        let keep = 1 - headroom
        guard load.arrivesInGroups else {
            let b = base(1)
            let r = b * keep
            return (b, r > 0 ? max(1, Int((load.requestsPerSecond / r - 1e-9).rounded(.up))) : 0)
        }
        var poisson = load
        poisson.arrivalDispersion = 1
        poisson.dispersionByWindow = []
        let best = maxRate(for: poisson, slo: slo) * keep
        guard best > 0 else { return (0, 0) }
        var n = max(1, Int((load.requestsPerSecond / best - 1e-9).rounded(.up)))
        var b = base(n)
        // Doubling then bisection: n·rate(n) grows with n.
        if Double(n) * (b * keep) < load.requestsPerSecond {
            var lo = n, hi = n
            repeat {
                lo = hi
                hi *= 2
                b = base(hi)
            } while Double(hi) * (b * keep) < load.requestsPerSecond && hi < 1 << 20
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if Double(mid) * (base(mid) * keep) >= load.requestsPerSecond { hi = mid } else { lo = mid }
            }
            n = hi
            b = base(n)
        }
        return (b, n)
    }

    /// A configuration sized for the fleet that carries `load` (`fleetRate`), with what the
    /// optimizer, the simulator's screening and the ScalingPolicy controller each need of that
    /// fleet: a replica's burst rate in it and how the per-replica rate changes with the fleet's
    /// size. Nil when a replica cannot meet the SLO at all.
    public func fleetSizing(for load: LoadProfile, slo: LatencySLO, headroom: Double = 0) -> FleetSizing? {
        let f = fleet(for: load, slo: slo, headroom: headroom)
        let rate = f.base * (1 - headroom)
        guard rate > 0 else { return nil }
        return FleetSizing(
            ratePerReplica: rate, replicas: f.replicas, burstRatePerReplica: burstRate(for: load.spread(over: f.replicas), slo: slo),
            capacityScaleByFleet: capacityScaleByFleet(for: load, slo: slo, reference: f.replicas, base: f.base))
    }

    /// Per-replica SLO capacity of fleets of 1, 2, … replicas as multiples of the capacity in a
    /// fleet of `reference` (`ScalerInput.capacityScaleByFleet`): below 1 for smaller fleets
    /// when requests arrive in groups, above 1 for larger ones, up to the fleet where the
    /// groups are spread so thin that more replicas change nothing (at most 64). Empty for
    /// requests that arrive one at a time. Measured at a few fleet sizes and interpolated in
    /// 1/n, the spread's own variable.
    public func capacityScaleByFleet(for load: LoadProfile, slo: LatencySLO, reference: Int) -> [Double] {
        guard load.arrivesInGroups else { return [] }
        return capacityScaleByFleet(for: load, slo: slo, reference: reference, base: maxRate(for: load.spread(over: max(1, reference)), slo: slo))
    }

    /// The same, given the reference fleet's per-replica capacity (`base`).
    private func capacityScaleByFleet(for load: LoadProfile, slo: LatencySLO, reference: Int, base: Double) -> [Double] {
        guard load.arrivesInGroups, base > 0 else { return [] }
        // Beyond this fleet a request meets under 0.05 companions on its replica on average.
        let most = max(load.arrivalDispersion, load.dispersionByWindow.max() ?? 1)
        let last = min(64, max(1, Int(((most - 1) / 0.1).rounded(.up))))
        let sizes = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64].filter { $0 < last } + [last]
        let measured = sizes.map { maxRate(for: load.spread(over: $0), slo: slo) / base }
        return (1...last).map { n in
            guard let i = sizes.firstIndex(where: { $0 >= n }) else { return measured.last! }
            if sizes[i] == n || i == 0 { return measured[i] }
            let (a, b) = (1 / Double(sizes[i - 1]), 1 / Double(sizes[i]))
            let w = (a - 1 / Double(n)) / (a - b)
            return measured[i - 1] + w * (measured[i] - measured[i - 1])
        }
    }

    /// An upper bound on `maxRate` that costs two roofline evaluations: compute saturates at
    /// ρ = 1 whatever the latency targets.
    public func rateUpperBound(for load: LoadProfile) -> Double {
        guard fits else { return 0 }
        let perRequest = prefillSeconds(tokens: load.meanInputTokens) + load.meanOutputTokens * 2 * model.parameters / (tp * peakFLOPS * efficiency.compute)
        return 1 / perRequest
    }

    /// The highest request rate one replica sustains with the SLO met at its attainment level;
    /// 0 when even a single request misses it. Found by bisection: predicted latencies grow
    /// monotonically with the rate. With `fleet` replicas behind the router, the rate per
    /// replica of that fleet.
    public func maxRate(for load: LoadProfile, slo: LatencySLO, fleet: Int = 1) -> Double {
        guard fits else { return 0 }
        func meets(_ rate: Double) -> Bool {
            var l = load
            l.requestsPerSecond = rate
            let p = performance(at: l, quantile: slo.attainment, itlTarget: slo.itlSeconds, fleet: fleet)
            // TTFT at its quantile, and ITL misses within the same budget of misses.
            return p.stable && p.ttftQuantileSeconds <= slo.ttftSeconds && p.itlMissShare <= 1 - slo.attainment
        }
        guard meets(1e-9) else { return 0 }
        // Upper bound: prefill alone saturates the GPU at 1/t_prefill requests per second.
        var hi = 1 / prefillSeconds(tokens: load.meanInputTokens)
        var lo = 0.0
        if meets(hi) { return hi }
        for _ in 0..<40 {
            let mid = (lo + hi) / 2
            if meets(mid) { lo = mid } else { hi = mid }
            if hi - lo < 1e-3 * hi { break }  // 0.1% of the rate: far finer than the model's accuracy
        }
        return lo
    }
}

/// A configuration sized for a load (`ReplicaModel.fleetSizing`).
public struct FleetSizing: Sendable, Hashable {
    /// SLO capacity per replica of the fleet, after headroom.
    public var ratePerReplica: Double
    /// The fleet that carries the load, which the rates are per replica of.
    public var replicas: Int
    /// What a replica of that fleet carries through a burst (`ReplicaModel.burstRate`).
    public var burstRatePerReplica: Double
    /// Per-replica capacity of other fleet sizes as multiples of `ratePerReplica`
    /// (`ReplicaModel.capacityScaleByFleet`); empty for requests that arrive one at a time.
    public var capacityScaleByFleet: [Double]
}
