/// Defaults the shipped behaviour rests on, each justified by a held-out test.
public enum ScalingDefaults {
    /// The forecaster used when a policy does not name one. Chosen by
    /// `ForecasterTests.defaultForecasterEarnsItsPlaceOnHeldOutTraces`: it must match or beat
    /// the last-value baseline on the second half of both Azure 2023 traces.
    public static let forecaster = "holt"

    /// Whether the multi-stream neural forecaster is used by default. Enabled only if
    /// `NeuralForecasterEvaluationTests` shows it beating the best baseline on the held-out half
    /// of both traces; the test fails if this flag and the measurement disagree.
    public static let neuralForecasterEnabled = false

    /// Whether the RL allocator adjusts the scaler's decisions by default. Enabled only if
    /// `RLAllocatorEvaluationTests` shows it cheaper at the attainment target than the plain
    /// scaler on the held-out half of both traces; the test fails if flag and measurement disagree.
    public static let rlAllocatorEnabled = false
}
