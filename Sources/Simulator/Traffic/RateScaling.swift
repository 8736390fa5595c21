import LLMOpsCore

/// Scales a trace's load by superposing time-shifted copies of it.
///
/// Why superposition and not compressing time: compressing a trace K-fold also shortens every
/// burst and every quiet spell K-fold, which makes traffic smoother relative to cold starts and
/// scaling periods than any real fleet sees. K copies, each shifted circularly, keep every
/// stream's own burst lengths and length distribution; what changes is what really changes
/// when more users arrive: the aggregate rate, with the bursts of independent streams partly
/// averaging out (as in Internet traffic aggregation).
///
/// The shifts are drawn (seeded) within `spreadSeconds`, not spread over the whole trace.
/// More users share the same day: a ramp or a busy quarter of an hour reaches all of them, so
/// load changes slower than the spread stay in the aggregate, and only the shorter bursts
/// (about a minute in these traces) become independent and average out. Offsets spread evenly
/// over the whole trace would make the aggregate exactly periodic with period duration / K:
/// every change slower than that would vanish, leaving a flat load that no autoscaler needs
/// to follow. A fractional part keeps a seeded random share of one more copy.
public enum RateScaling {
    /// How far apart copies may be shifted: several burst lengths, well under the slow swings.
    public static let defaultSpreadSeconds = 600.0

    public static func superpose(_ requests: [TraceRequest], factor: Double, spreadSeconds: Double = defaultSpreadSeconds, seed: UInt64 = 1) -> [TraceRequest] {
        guard factor != 1, !requests.isEmpty else { return requests }
        let duration = (requests.last!.arrival - requests.first!.arrival) + meanGap(requests)
        let spread = min(max(spreadSeconds, 0), duration)
        let whole = Int(factor.rounded(.down))
        let fraction = factor - Double(whole)
        let copies = whole + (fraction > 1e-9 ? 1 : 0)
        var g = SeededGenerator(seed: seed)
        var out: [TraceRequest] = []
        out.reserveCapacity(Int(Double(requests.count) * factor) + 1)
        for j in 0..<copies {
            // The first copy is the trace itself.
            let offset = j == 0 ? 0 : spread * Random.uniform(&g)
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
