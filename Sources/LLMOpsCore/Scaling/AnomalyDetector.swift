/// Flags a metric sample that is far outside its recent history, by the robust (modified)
/// z-score of Iglewicz and Hoaglin (1993): z = 0.6745·(x − median) / MAD, anomalous above 3.5.
/// Median and MAD ignore the spikes they are meant to catch, unlike mean and standard deviation.
public struct AnomalyDetector: Sendable, Hashable {
    public var threshold: Double
    /// History shorter than this is never judged: too little to know what is normal.
    public var minimumHistory: Int

    public init(threshold: Double = 3.5, minimumHistory: Int = 8) {
        self.threshold = threshold
        self.minimumHistory = minimumHistory
    }

    public struct Finding: Sendable, Hashable {
        public var anomalous: Bool
        public var score: Double
        public var median: Double
    }

    /// Judges `value` against `history` (which should not include it).
    public func check(_ value: Double, history: [Double]) -> Finding {
        guard history.count >= minimumHistory else { return Finding(anomalous: false, score: 0, median: value) }
        let med = Self.median(history)
        var mad = Self.median(history.map { abs($0 - med) })
        // A flat history has MAD 0; fall back to a small share of the level so that one
        // request more than usual is not a 'spike'.
        if mad == 0 { mad = max(abs(med) * 0.05, 1e-9) }
        let score = 0.6745 * (value - med) / mad
        return Finding(anomalous: abs(score) > threshold, score: score, median: med)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
