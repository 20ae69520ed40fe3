/// The Laplace mechanism for real-valued queries, without floating-point noise.
///
/// The true value is rounded to the nearest multiple of a power of two `g` (see ``Granularity``),
/// discrete Laplace noise is added to the grid index, and `g·(index + Z)` is released. Rounding
/// raises the sensitivity in grid units to `Δ_g = ⌊Δ/g⌋ + 1`; the integer scale is `Δ_g/ε`, so the
/// release is ε-DP and its event is `.discreteLaplace(scale: Δ_g/ε, sensitivity: Δ_g)`. The default
/// grid makes the integer scale about 2^20, which costs a relative noise increase below 2^−19.
/// Textbook `−b·log(u)` sampling is not used anywhere (Mironov 2012, "On Significance of the Least
/// Significant Bits for Differential Privacy").
public struct GranularLaplaceMechanism: Sendable {
    /// The target ε.
    public let epsilon: Double
    /// The query's sensitivity Δ in real units.
    public let sensitivity: Double
    /// The grid `g`.
    public let granularity: Granularity
    /// The sensitivity in grid units, `⌊Δ/g⌋ + 1`.
    public let integerSensitivity: Int
    /// The discrete Laplace scale in grid units, `≥ Δ_g/ε`.
    public let integerScale: Double
    /// The confidence level of the intervals attached to releases.
    public let confidenceLevel: Double
    /// The half-width of the intervals in real units: `g·(m + 1/2)` where `m` is the exact noise
    /// quantile and `g/2` covers the rounding of the true value.
    public let halfWidth: Double
    let sampler: DiscreteLaplaceSampler

    /// Creates a granular Laplace mechanism.
    ///
    /// - Parameters:
    ///   - epsilon: ε, finite and > 0.
    ///   - sensitivity: the query's L1 sensitivity Δ, finite and > 0.
    ///   - confidenceLevel: the level of the reported intervals, in (0, 1) (default 0.95).
    ///   - granularity: the grid; by default `2^(⌈log2(Δ/ε)⌉ − 20)`.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, sensitivity: Double, confidenceLevel: Double = 0.95,
                granularity: Granularity? = nil) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.sensitivity(sensitivity)
        try ParameterCheck.confidenceLevel(confidenceLevel)
        self.epsilon = epsilon
        self.sensitivity = sensitivity
        self.confidenceLevel = confidenceLevel
        let grid = try granularity ?? Granularity(noiseScale: sensitivity / epsilon)
        self.granularity = grid
        integerSensitivity = try grid.integerSensitivity(sensitivity)
        integerScale = try ReleaseArithmetic.laplaceScale(sensitivity: integerSensitivity, epsilon: epsilon)
        sampler = try DiscreteLaplaceSampler(scale: integerScale)
        let m = try NoiseQuantile.discreteLaplaceHalfWidth(scale: integerScale, level: confidenceLevel)
        halfWidth = (Double(m) + 0.5) * grid.value
    }

    /// The noise scale in real units, `g · integerScale`.
    public var scale: Double { integerScale * granularity.value }

    /// The privacy cost of one release, in grid units.
    public var event: DPEvent { .discreteLaplace(scale: integerScale, sensitivity: integerSensitivity) }

    /// Releases `g·(round(value/g) + Z)` with an interval for `value`.
    ///
    /// - Parameters:
    ///   - value: the true query answer, finite.
    ///   - source: the randomness; pass a ``SecureRandomSource`` outside tests.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `value` is not finite or too large for the grid.
    public func release<R: RandomSource>(_ value: Double, using source: inout R) throws -> NoisyRelease<Double> {
        let index = try granularity.index(of: value)
        let noisy = granularity.value(ofIndex: ReleaseArithmetic.add(index, sampler.sample(using: &source)))
        return NoisyRelease(value: noisy, interval: (noisy - halfWidth)...(noisy + halfWidth),
                            confidenceLevel: confidenceLevel, event: event)
    }

    /// Releases a noisy `value` drawing from the operating system's CSPRNG.
    public func release(_ value: Double) throws -> NoisyRelease<Double> {
        var source = SecureRandomSource()
        return try release(value, using: &source)
    }
}
