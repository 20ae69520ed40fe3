/// The Gaussian mechanism for real-valued queries, without floating-point noise.
///
/// The true value is rounded to the nearest multiple of a power of two `g` (see ``Granularity``),
/// discrete Gaussian noise is added to the grid index, and `g·(index + Y)` is released. Rounding
/// raises the sensitivity in grid units to `Δ_g = ⌊Δ/g⌋ + 1`. σ in grid units is calibrated for Δ_g
/// directly (Canonne, Kamath, Steinke 2020, Theorem 7, via
/// ``GaussianCalibration/discreteSigma(epsilon:delta:sensitivity:)``), and the event is
/// `.discreteGaussian(sigma: σ_g, sensitivity: Δ_g)`. The default grid makes σ_g about 2^20.
public struct GranularGaussianMechanism: Sendable {
    /// The query's L2 sensitivity Δ in real units.
    public let sensitivity: Double
    /// The target ε when calibrated from (ε, δ), else `nil`.
    public let epsilon: Double?
    /// The target δ when calibrated from (ε, δ), else `nil`.
    public let delta: Double?
    /// The grid `g`.
    public let granularity: Granularity
    /// The sensitivity in grid units, `⌊Δ/g⌋ + 1`.
    public let integerSensitivity: Int
    /// σ in grid units, exactly the sampler's parameter.
    public let integerSigma: Double
    /// The confidence level of the intervals attached to releases.
    public let confidenceLevel: Double
    /// The half-width of the intervals in real units: `g·(m + 1/2)`.
    public let halfWidth: Double
    let sampler: DiscreteGaussianSampler

    /// Creates a granular Gaussian mechanism calibrated to (ε, δ)-DP.
    ///
    /// - Parameters:
    ///   - epsilon: ε, finite and > 0 (and < 1 for the classic calibration).
    ///   - delta: δ in (0, 1).
    ///   - sensitivity: the query's L2 sensitivity Δ, finite and > 0.
    ///   - calibration: ``GaussianCalibration/analytic`` (default) or ``GaussianCalibration/classic``.
    ///   - confidenceLevel: the level of the reported intervals, in (0, 1) (default 0.95).
    ///   - granularity: the grid; by default `2^(⌈log2 σ⌉ − 20)` for the continuous σ.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, delta: Double, sensitivity: Double,
                calibration: GaussianCalibration = .analytic, confidenceLevel: Double = 0.95,
                granularity: Granularity? = nil) throws {
        try ParameterCheck.confidenceLevel(confidenceLevel)
        let continuous = try calibration.sigma(epsilon: epsilon, delta: delta, sensitivity: sensitivity)
        let grid = try granularity ?? Granularity(noiseScale: continuous)
        let units = try grid.integerSensitivity(sensitivity)
        let sigma = try calibration.discreteSigma(epsilon: epsilon, delta: delta, sensitivity: units)
        try self.init(sensitivity: sensitivity, epsilon: epsilon, delta: delta, granularity: grid,
                      integerSensitivity: units, integerSigma: sigma, confidenceLevel: confidenceLevel)
    }

    /// Creates a granular Gaussian mechanism with a given σ in real units.
    ///
    /// σ in grid units becomes `σ/g` rounded up to 12 significant bits; the event then carries the
    /// grid sensitivity `⌊Δ/g⌋ + 1`, so its ρ = Δ_g²/(2σ_g²) is marginally above Δ²/(2σ²).
    ///
    /// - Parameters:
    ///   - sigma: σ in real units, finite and > 0.
    ///   - sensitivity: the query's L2 sensitivity Δ, finite and > 0.
    ///   - confidenceLevel: the level of the reported intervals, in (0, 1) (default 0.95).
    ///   - granularity: the grid; by default `2^(⌈log2 σ⌉ − 20)`.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(sigma: Double, sensitivity: Double, confidenceLevel: Double = 0.95,
                granularity: Granularity? = nil) throws {
        try ParameterCheck.positive(sigma, name: "sigma")
        try ParameterCheck.sensitivity(sensitivity)
        try ParameterCheck.confidenceLevel(confidenceLevel)
        let grid = try granularity ?? Granularity(noiseScale: sigma)
        let units = try grid.integerSensitivity(sensitivity)
        try self.init(sensitivity: sensitivity, epsilon: nil, delta: nil, granularity: grid,
                      integerSensitivity: units,
                      integerSigma: GaussianCalibration.roundUpToGrid(sigma / grid.value),
                      confidenceLevel: confidenceLevel)
    }

    private init(sensitivity: Double, epsilon: Double?, delta: Double?, granularity: Granularity,
                 integerSensitivity: Int, integerSigma: Double, confidenceLevel: Double) throws {
        self.sensitivity = sensitivity
        self.epsilon = epsilon
        self.delta = delta
        self.granularity = granularity
        self.integerSensitivity = integerSensitivity
        self.integerSigma = integerSigma
        self.confidenceLevel = confidenceLevel
        sampler = try DiscreteGaussianSampler(sigma: integerSigma)
        let m = try NoiseQuantile.discreteGaussianHalfWidth(sigma: integerSigma, level: confidenceLevel)
        halfWidth = (Double(m) + 0.5) * granularity.value
    }

    /// σ in real units, `g · σ_g`.
    public var sigma: Double { integerSigma * granularity.value }

    /// The zCDP parameter in grid units, `ρ = Δ_g²/(2σ_g²)`.
    public var rho: Double {
        Double(integerSensitivity) * Double(integerSensitivity) / (2 * integerSigma * integerSigma)
    }

    /// The privacy cost of one release, in grid units.
    public var event: DPEvent { .discreteGaussian(sigma: integerSigma, sensitivity: integerSensitivity) }

    /// Releases `g·(round(value/g) + Y)` with an interval for `value`.
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
