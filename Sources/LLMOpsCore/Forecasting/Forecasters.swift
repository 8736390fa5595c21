/// A load forecaster over a regularly sampled series (e.g. requests per second per minute).
/// Forecasters are values: `observe` returns nothing and mutates only the forecaster, so the
/// controller can keep one per deployment and tests can replay a trace deterministically.
public protocol Forecaster: Sendable {
    var name: String { get }
    mutating func observe(_ value: Double)
    /// The forecast `steps` samples ahead (1 = the next sample); nil until enough history.
    func forecast(steps: Int) -> Double?
}

extension Forecaster {
    /// The largest forecast over the next `steps` samples: what capacity must cover.
    public func peak(steps: Int) -> Double? {
        let values = (1...max(1, steps)).compactMap { forecast(steps: $0) }
        return values.max()
    }
}

/// Tomorrow looks like today: the last observed value.
public struct LastValueForecaster: Forecaster {
    public let name = "lastValue"
    private var last: Double?
    public init() {}
    public mutating func observe(_ value: Double) { last = value }
    public func forecast(steps: Int) -> Double? { last }
}

/// The value one season ago at the same phase (e.g. the same minute yesterday).
public struct SeasonalNaiveForecaster: Forecaster {
    public let name = "seasonalNaive"
    public let period: Int
    private var history: [Double] = []

    public init(period: Int) { self.period = max(1, period) }

    public mutating func observe(_ value: Double) {
        history.append(value)
        if history.count > period { history.removeFirst(history.count - period) }
    }

    public func forecast(steps: Int) -> Double? {
        guard history.count == period else { return history.last }
        // history[0] is exactly one period before the next sample.
        return history[(steps - 1) % period]
    }
}

/// Holt's linear (double exponential) smoothing: a level and a trend, each smoothed
/// (Holt 1957; Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", §8.2). A
/// damping factor φ < 1 flattens the trend over long horizons (Gardner & McKenzie 1985), which
/// keeps it from running away on bursty load. Defaults are conventional values for noisy
/// series (α 0.1–0.3, light trend smoothing).
public struct HoltForecaster: Forecaster {
    public let name = "holt"
    public var alpha: Double
    public var beta: Double
    public var phi: Double
    private var level: Double?
    private var trend: Double = 0

    public init(alpha: Double = 0.2, beta: Double = 0.05, phi: Double = 0.9) {
        self.alpha = alpha
        self.beta = beta
        self.phi = phi
    }

    public mutating func observe(_ value: Double) {
        guard let l = level else {
            level = value
            return
        }
        let newLevel = alpha * value + (1 - alpha) * (l + phi * trend)
        trend = beta * (newLevel - l) + (1 - beta) * phi * trend
        level = newLevel
    }

    public func forecast(steps: Int) -> Double? {
        guard let level else { return nil }
        // Damped trend: level + (φ + φ² + … + φ^h)·trend.
        var sum = 0.0, p = 1.0
        for _ in 0..<max(1, steps) {
            p *= phi
            sum += p
        }
        return max(0, level + sum * trend)
    }
}

/// Additive Holt–Winters: level, trend and a seasonal profile of `period` samples (Winters
/// 1960; Hyndman & Athanasopoulos §8.3). Needs one full season of history before it forecasts
/// with seasonality; until then it behaves like Holt.
public struct HoltWintersForecaster: Forecaster {
    public let name = "holtWinters"
    public let period: Int
    public var alpha: Double
    public var beta: Double
    public var gamma: Double
    private var holt: HoltForecaster
    private var seasonal: [Double]
    private var warmup: [Double] = []
    private var index = 0

    public init(period: Int, alpha: Double = 0.5, beta: Double = 0.05, gamma: Double = 0.2) {
        self.period = max(2, period)
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        holt = HoltForecaster(alpha: alpha, beta: beta, phi: 0.95)
        seasonal = Array(repeating: 0, count: max(2, period))
    }

    public mutating func observe(_ value: Double) {
        if warmup.count < period {
            // First season: the seasonal profile starts as deviations from its mean.
            warmup.append(value)
            holt.observe(value)
            if warmup.count == period {
                let mean = warmup.reduce(0, +) / Double(period)
                seasonal = warmup.map { $0 - mean }
            }
            index = (index + 1) % period
            return
        }
        let s = seasonal[index]
        let before = holt.forecast(steps: 1) ?? value
        holt.observe(value - s)
        seasonal[index] = gamma * (value - before) + (1 - gamma) * s
        index = (index + 1) % period
    }

    public func forecast(steps: Int) -> Double? {
        guard let base = holt.forecast(steps: steps) else { return nil }
        guard warmup.count == period else { return base }
        return max(0, base + seasonal[(index + steps - 1) % period])
    }
}

/// Scores a forecaster on a series by rolling-origin evaluation: after each observation it
/// forecasts `horizon` samples ahead, and the error is taken against what then happened.
public enum ForecastEvaluation {
    public struct Score: Sendable, Hashable {
        public var name: String
        public var meanAbsoluteError: Double
        /// Share of forecasts below the actual value: under-forecasts cost SLO misses.
        public var underForecastShare: Double
        public var count: Int
    }

    /// Errors are counted only from `evaluateFrom` on (the held-out part); earlier samples
    /// are used for warm-up.
    public static func score<F: Forecaster>(_ forecaster: F, series: [Double], horizon: Int, evaluateFrom: Int) -> Score {
        var f = forecaster
        var absError = 0.0, under = 0, n = 0
        for t in 0..<series.count {
            f.observe(series[t])
            let target = t + horizon
            guard target < series.count, target >= evaluateFrom, let prediction = f.forecast(steps: horizon) else { continue }
            absError += abs(prediction - series[target])
            if prediction < series[target] { under += 1 }
            n += 1
        }
        return Score(
            name: f.name, meanAbsoluteError: n > 0 ? absError / Double(n) : .infinity,
            underForecastShare: n > 0 ? Double(under) / Double(n) : 0, count: n)
    }
}
