/// The Gaussian mechanism for integer-valued queries: adds discrete Gaussian noise
/// `P(k) ∝ exp(−k²/(2σ²))`.
///
/// Privacy guarantees (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy"):
/// - ρ-zCDP with `ρ = Δ²/(2σ²)` exactly (§2.1), the same as the continuous Gaussian.
/// - (ε, δ)-DP with the δ of Theorem 7 (§2.2), `P[Y > εσ²/Δ − Δ/2] − e^ε·P[Y > εσ²/Δ + Δ/2]`. This is not
///   always below the continuous Gaussian's δ, so when σ is calibrated from (ε, δ) Veil searches
///   this discrete δ directly (``GaussianCalibration/discreteSigma(epsilon:delta:sensitivity:)``)
///   instead of reusing the continuous σ.
public struct DiscreteGaussianMechanism: Sendable {
    /// The integer sensitivity Δ.
    public let sensitivity: Int
    /// σ, exactly the parameter the sampler uses (12 significant bits).
    public let sigma: Double
    /// The target ε when calibrated from (ε, δ), else `nil`.
    public let epsilon: Double?
    /// The target δ when calibrated from (ε, δ), else `nil`.
    public let delta: Double?
    /// The confidence level of the intervals attached to releases.
    public let confidenceLevel: Double
    /// The noise half-width `m` with `P(|Y| ≤ m) ≥ confidenceLevel` (see ``NoiseQuantile``).
    public let halfWidth: Int
    let sampler: DiscreteGaussianSampler

    /// Creates a discrete Gaussian mechanism calibrated to (ε, δ)-DP.
    ///
    /// - Parameters:
    ///   - epsilon: ε, finite and > 0 (and < 1 for the classic calibration).
    ///   - delta: δ in (0, 1).
    ///   - sensitivity: the query's integer sensitivity Δ ≥ 1 (default 1).
    ///   - calibration: ``GaussianCalibration/analytic`` (default) or ``GaussianCalibration/classic``.
    ///   - confidenceLevel: the level of the reported intervals, in (0, 1) (default 0.95).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, delta: Double, sensitivity: Int = 1,
                calibration: GaussianCalibration = .analytic, confidenceLevel: Double = 0.95) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.delta(delta)
        try ParameterCheck.integerSensitivity(sensitivity)
        try ParameterCheck.confidenceLevel(confidenceLevel)
        let sigma = try calibration.discreteSigma(epsilon: epsilon, delta: delta, sensitivity: sensitivity)
        try self.init(sigma: sigma, sensitivity: sensitivity, epsilon: epsilon, delta: delta,
                      confidenceLevel: confidenceLevel)
    }

    /// Creates a discrete Gaussian mechanism with a given σ (rounded up to 12 significant bits).
    ///
    /// - Parameters:
    ///   - sigma: σ, finite, in (0, 2^50].
    ///   - sensitivity: the query's integer sensitivity Δ ≥ 1 (default 1).
    ///   - confidenceLevel: the level of the reported intervals, in (0, 1) (default 0.95).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(sigma: Double, sensitivity: Int = 1, confidenceLevel: Double = 0.95) throws {
        try ParameterCheck.positive(sigma, name: "sigma")
        try ParameterCheck.integerSensitivity(sensitivity)
        try ParameterCheck.confidenceLevel(confidenceLevel)
        try self.init(sigma: GaussianCalibration.roundUpToGrid(sigma), sensitivity: sensitivity,
                      epsilon: nil, delta: nil, confidenceLevel: confidenceLevel)
    }

    /// Creates a discrete Gaussian mechanism satisfying ρ-zCDP: σ = Δ/√(2ρ), rounded up.
    ///
    /// - Parameters:
    ///   - rho: ρ, finite and > 0.
    ///   - sensitivity: the query's integer sensitivity Δ ≥ 1 (default 1).
    ///   - confidenceLevel: the level of the reported intervals, in (0, 1) (default 0.95).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(rho: Double, sensitivity: Int = 1, confidenceLevel: Double = 0.95) throws {
        try ParameterCheck.positive(rho, name: "rho")
        try ParameterCheck.integerSensitivity(sensitivity)
        try self.init(sigma: Double(sensitivity) / (2 * rho).squareRoot(), sensitivity: sensitivity,
                      confidenceLevel: confidenceLevel)
    }

    private init(sigma: Double, sensitivity: Int, epsilon: Double?, delta: Double?,
                 confidenceLevel: Double) throws {
        self.sigma = sigma
        self.sensitivity = sensitivity
        self.epsilon = epsilon
        self.delta = delta
        self.confidenceLevel = confidenceLevel
        sampler = try DiscreteGaussianSampler(sigma: sigma)
        halfWidth = try NoiseQuantile.discreteGaussianHalfWidth(sigma: sigma, level: confidenceLevel)
    }

    /// The zCDP parameter `ρ = Δ²/(2σ²)` (Canonne, Kamath, Steinke 2020, §2.1).
    public var rho: Double { Double(sensitivity) * Double(sensitivity) / (2 * sigma * sigma) }

    /// The privacy cost of one release.
    public var event: DPEvent { .discreteGaussian(sigma: sigma, sensitivity: sensitivity) }

    /// Releases `value + Y` with an interval for `value`.
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

    /// Releases `value + Y` drawing from the operating system's CSPRNG.
    public func release(_ value: Int) -> NoisyRelease<Int> {
        var source = SecureRandomSource()
        return release(value, using: &source)
    }
}
