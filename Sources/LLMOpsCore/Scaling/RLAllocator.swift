/// An optional reinforcement-learning allocator: tabular Q-learning (Watkins 1989) that
/// adjusts the DynamicScaler's recommendation by −1, 0 or +1 replicas. The state is a coarse
/// discretisation of what the scaler already sees (load per replica against capacity, queue per
/// replica, TTFT and ITL against their objectives, load trend); the reward charges the GPUs held
/// and penalises objective misses. Exploration uses an injected generator, so training is
/// reproducible. It is off unless a held-out test shows it beating the plain scaler
/// (`ScalingDefaults.rlAllocatorEnabled`).
public struct RLAllocator: Sendable {
    public struct Observation: Sendable, Hashable {
        public var loadPerCapacity: Double
        public var queuePerReplica: Double
        public var ttftRatio: Double?
        public var itlRatio: Double?
        public var trend: Double
        public init(loadPerCapacity: Double, queuePerReplica: Double, ttftRatio: Double?, itlRatio: Double?, trend: Double) {
            self.loadPerCapacity = loadPerCapacity
            self.queuePerReplica = queuePerReplica
            self.ttftRatio = ttftRatio
            self.itlRatio = itlRatio
            self.trend = trend
        }
    }

    public static let actions = [-1, 0, 1]

    public var learningRate: Double
    public var discount: Double
    public var exploration: Double
    /// Reward weight of one replica-tick against one objective miss.
    public var missPenalty: Double
    private(set) var q: [Int: [Double]] = [:]
    private var rng: SeededGenerator
    private var last: (state: Int, action: Int)?

    public init(seed: UInt64, learningRate: Double = 0.2, discount: Double = 0.9, exploration: Double = 0.1, missPenalty: Double = 20) {
        rng = SeededGenerator(seed: seed)
        self.learningRate = learningRate
        self.discount = discount
        self.exploration = exploration
        self.missPenalty = missPenalty
    }

    public var statesSeen: Int { q.count }

    static func bucket(_ x: Double, _ edges: [Double]) -> Int {
        edges.firstIndex { x < $0 } ?? edges.count
    }

    static func state(_ o: Observation) -> Int {
        let load = bucket(o.loadPerCapacity, [0.3, 0.6, 0.8, 1.0, 1.3])
        let queue = bucket(o.queuePerReplica, [0.5, 2, 8])
        let latency = bucket(max(o.ttftRatio ?? 0, o.itlRatio ?? 0), [0.5, 0.8, 1.0])
        let trend = o.trend < -0.05 ? 0 : (o.trend > 0.05 ? 2 : 1)
        return ((load * 4 + queue) * 4 + latency) * 3 + trend
    }

    /// Chooses an adjustment for this tick and, when `learn`, updates the value of the previous
    /// choice with the reward it earned: −replicas held − missPenalty × (objective missed).
    public mutating func adjust(_ o: Observation, replicas: Int, learn: Bool) -> Int {
        let s = Self.state(o)
        let values = q[s] ?? [0, 0, 0]
        if learn, let (ps, pa) = last {
            let missed = (o.ttftRatio ?? 0) > 1 || (o.itlRatio ?? 0) > 1 ? 1.0 : 0.0
            let reward = -Double(replicas) - missPenalty * missed
            var old = q[ps] ?? [0, 0, 0]
            old[pa] += learningRate * (reward + discount * values.max()! - old[pa])
            q[ps] = old
        }
        let action: Int
        if learn && Double.random(in: 0..<1, using: &rng) < exploration {
            action = Int.random(in: 0..<3, using: &rng)
        } else {
            // Ties go to "no change", so an untrained table behaves like the plain scaler.
            action = values.indices.max { values[$0] < values[$1] || (values[$0] == values[$1] && $1 == 1) } ?? 1
        }
        last = (s, action)
        return Self.actions[action]
    }

    /// Forgets the last choice (at an episode boundary) but keeps what was learned.
    public mutating func endEpisode() { last = nil }
}
