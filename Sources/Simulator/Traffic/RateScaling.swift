import LLMOpsCore

/// Scales a trace's load by superposing time-shifted copies of it.
///
/// Why superposition and not compressing time: compressing a trace K-fold also shortens every
/// burst and every quiet spell K-fold, which makes traffic smoother relative to cold starts and
/// scaling periods than any real fleet sees. K copies, each shifted circularly by a different
/// offset, keep every stream's own burst lengths and length distribution; what changes is what
/// really changes when more users arrive: the aggregate rate, with bursts of independent
/// streams partly averaging out (as in Internet traffic aggregation). The K offsets are spread
/// evenly over the trace's duration, so the result is deterministic; a fractional part keeps a
/// seeded random share of one more copy.
public enum RateScaling {
    public static func superpose(_ requests: [TraceRequest], factor: Double, seed: UInt64 = 1) -> [TraceRequest] {
        guard factor != 1, !requests.isEmpty else { return requests }
        let duration = (requests.last!.arrival - requests.first!.arrival) + meanGap(requests)
        let whole = Int(factor.rounded(.down))
        let fraction = factor - Double(whole)
        let copies = whole + (fraction > 1e-9 ? 1 : 0)
        var g = SeededGenerator(seed: seed)
        var out: [TraceRequest] = []
        out.reserveCapacity(Int(Double(requests.count) * factor) + 1)
        for j in 0..<copies {
            let offset = duration * Double(j) / Double(copies)
            let keep = j < whole ? 1.0 : fraction
            for r in requests {
                if keep < 1 && Random.uniform(&g) >= keep { continue }
                var t = r.arrival - requests[0].arrival + offset
                if t >= duration { t -= duration }
                out.append(TraceRequest(arrival: t, inputTokens: r.inputTokens, outputTokens: r.outputTokens))
            }
        }
        out.sort { $0.arrival < $1.arrival }
        return out
    }

    static func meanGap(_ requests: [TraceRequest]) -> Double {
        requests.count > 1 ? (requests.last!.arrival - requests.first!.arrival) / Double(requests.count - 1) : 1
    }
}
