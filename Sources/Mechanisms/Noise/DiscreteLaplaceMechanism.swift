/// The Laplace mechanism for integer-valued queries: adds discrete Laplace noise
/// `P(k) ∝ exp(−|k|/b)` with `b = Δ/ε`.
///
/// Privacy: for an integer query of sensitivity Δ (add-or-remove one privacy unit), the ratio of
/// output probabilities on neighbouring inputs is at most `exp(Δ/b) = e^ε`, so the release is ε-DP
/// (Ghosh, Roughgarden, Sundararajan 2009; Canonne, Kamath, Steinke 2020, §1). The scale is
/// rounded up to 40 significant bits so that `Δ/b ≤ ε` holds exactly.
public struct DiscreteLaplaceMechanism: Sendable {
    /// The target ε.
    public let epsilon: Double
    /// The integer sensitivity Δ.
    public let sensitivity: Int
    /// The noise scale `b ≥ Δ/ε`, exactly the scale the sampler uses.
    public let scale: Double
    /// The confidence level of the intervals attached to releases.
    public let confidenceLevel: Double
    /// The noise half-width `m` with `P(|Z| ≤ m) ≥ confidenceLevel` (exact quantile).
    public let halfWidth: Int
    let sampler: DiscreteLaplaceSampler

    /// Creates a discrete Laplace mechanism.
    ///
    /// - Parameters:
    ///   - epsilon: ε, finite and > 0.
    ///   - sensitivity: the query's integer sensitivity Δ ≥ 1 (default 1, a count).
    ///   - confidenceLevel: the level of the reported intervals, in (0, 1) (default 0.95).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, sensitivity: Int = 1, confidenceLevel: Double = 0.95) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.integerSensitivity(sensitivity)
        try ParameterCheck.confidenceLevel(confidenceLevel)
        self.epsilon = epsilon
        self.sensitivity = sensitivity
        self.confidenceLevel = confidenceLevel
        scale = try ReleaseArithmetic.laplaceScale(sensitivity: sensitivity, epsilon: epsilon)
        sampler = try DiscreteLaplaceSampler(scale: scale)
        halfWidth = try NoiseQuantile.discreteLaplaceHalfWidth(scale: scale, level: confidenceLevel)
    }

    /// The privacy cost of one release.
    public var event: DPEvent { .discreteLaplace(scale: scale, sensitivity: sensitivity) }

    /// Releases `value + Z` with an interval for `value`.
    ///
    /// - Parameters:
    ///   - value: the true query answer.
    ///   - source: the randomness; pass a ``SecureRandomSource`` outside tests.
    public func release<R: RandomSource>(_ value: Int, using source: inout R) -> NoisyRelease<Int> {
        let noisy = ReleaseArithmetic.add(value, sampler.sample(using: &source))
        return NoisyRelease(value: noisy,
                            interval: ReleaseArithmetic.interval(around: noisy, halfWidth: halfWidth),
                            confidenceLevel: confidenceLevel, event: event)
    }

    /// Releases `value + Z` drawing from the operating system's CSPRNG.
    public func release(_ value: Int) -> NoisyRelease<Int> {
        var source = SecureRandomSource()
        return release(value, using: &source)
    }
}
