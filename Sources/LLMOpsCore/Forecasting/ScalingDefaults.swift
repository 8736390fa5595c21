/// Defaults the shipped behaviour rests on, each justified by a held-out test.
public enum ScalingDefaults {
    /// The forecaster used when a policy does not name one. Chosen by
    /// `ForecasterTests.defaultForecasterEarnsItsPlaceOnHeldOutTraces`: it must match or beat
    /// the last-value baseline on the second half of both Azure 2023 traces.
    public static let forecaster = "holt"
}
