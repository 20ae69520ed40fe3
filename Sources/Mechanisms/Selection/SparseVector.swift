import Foundation

/// The sparse vector technique (AboveThreshold with up to `c` positive answers): answers a stream
/// of "is this query above the threshold?" questions, paying only for the positive answers.
///
/// Source: M. Lyu, D. Su, N. Li, "Understanding the Sparse Vector Technique for Differential
/// Privacy" (PVLDB 2017), Algorithm 1 with the budget split of §4: ε₁ for the threshold and ε₂ for
/// the queries with `ε₁ : ε₂ = 1 : (2c)^{2/3}` (`1 : c^{2/3}` for monotone queries). The threshold
/// noise has scale `Δ/ε₁` and is drawn once; each query's noise has scale `2cΔ/ε₂` (`cΔ/ε₂` when
/// monotone). After `c` positive answers the value refuses further queries. The whole interaction is
/// ε-DP with ε = ε₁ + ε₂.
///
/// Noise is exact: queries and the threshold are rounded to a power-of-two grid `g` (``Granularity``,
/// chosen from the threshold's noise scale) and discrete Laplace noise is added to grid indices; the
/// sensitivity in grid units is `⌊Δ/g⌋ + 1`.
///
/// This is a value type: a copy carries the same threshold noise and count of positives. Each copy
/// that answers queries is a separate interaction whose ε must be charged separately; keep one
/// instance per charged interaction.
public struct SparseVector: Sendable {
    /// The total ε of the interaction.
    public let epsilon: Double
    /// The sensitivity Δ of every query, in real units.
    public let sensitivity: Double
    /// The public threshold.
    public let threshold: Double
    /// The number `c` of positive answers allowed.
    public let maxPositives: Int
    /// Whether the queries are monotone.
    public let monotonic: Bool
    /// The budget spent on the threshold noise, ε₁.
    public let thresholdEpsilon: Double
    /// The budget spent on the query noise, ε₂ = ε − ε₁.
    public let queryEpsilon: Double
    /// The grid on which queries and threshold are compared.
    public let granularity: Granularity
    /// The sensitivity in grid units.
    public let integerSensitivity: Int
    /// The positive answers given so far.
    public private(set) var positives = 0

    let thresholdIndex: Int
    let thresholdSampler: DiscreteLaplaceSampler
    let querySampler: DiscreteLaplaceSampler
    var thresholdNoise: Int?

    /// Creates a sparse vector interaction.
    ///
    /// - Parameters:
    ///   - epsilon: the total ε, finite and > 0.
    ///   - sensitivity: the sensitivity Δ of each query, finite and > 0.
    ///   - threshold: the public threshold, finite.
    ///   - maxPositives: the number `c ≥ 1` of positive answers before the interaction stops.
    ///   - monotonic: whether all queries move in the same direction between neighbours.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, sensitivity: Double, threshold: Double, maxPositives: Int = 1,
                monotonic: Bool = false) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.sensitivity(sensitivity)
        try ParameterCheck.count(maxPositives, name: "max_positives", minimum: 1)
        guard threshold.isFinite else {
            throw VeilError.invalidParameter("threshold", threshold, allowed: "a finite number")
        }
        self.epsilon = epsilon
        self.sensitivity = sensitivity
        self.threshold = threshold
        self.maxPositives = maxPositives
        self.monotonic = monotonic
        let c = Double(maxPositives)
        let ratio = Foundation.pow(monotonic ? c : 2 * c, 2.0 / 3.0)
        // Split so that ε₁ + ε₂ ≤ ε holds after rounding: ε₂ is what remains of ε after ε₁.
        thresholdEpsilon = epsilon / (1 + ratio)
        queryEpsilon = (epsilon - thresholdEpsilon).nextDown
        let grid = try Granularity(noiseScale: sensitivity / thresholdEpsilon)
        granularity = grid
        integerSensitivity = try grid.integerSensitivity(sensitivity)
        thresholdIndex = try grid.index(of: threshold)
        thresholdSampler = try DiscreteLaplaceSampler(
            scale: try ReleaseArithmetic.laplaceScale(sensitivity: integerSensitivity, epsilon: thresholdEpsilon))
        let queryUnits = integerSensitivity * (monotonic ? maxPositives : 2 * maxPositives)
        querySampler = try DiscreteLaplaceSampler(
            scale: try ReleaseArithmetic.laplaceScale(sensitivity: queryUnits, epsilon: queryEpsilon))
    }

    /// The privacy cost of the whole interaction: ε-DP, however many queries are asked.
    public var event: DPEvent { .epsilonDelta(epsilon: epsilon, delta: 0) }

    /// Whether `c` positive answers have been given; further queries are refused.
    public var isExhausted: Bool { positives >= maxPositives }

    /// Answers whether `value` (a query answer of sensitivity Δ) is above the threshold, with noise.
    ///
    /// - Parameters:
    ///   - value: the true query answer, finite.
    ///   - source: the randomness; pass a ``SecureRandomSource`` outside tests.
    /// - Returns: `true` for a positive ("above") answer.
    /// - Throws: ``VeilError`` (`exhausted`) after `c` positive answers; (`invalid_parameter`) for a
    ///   non-finite value.
    public mutating func isAboveThreshold<R: RandomSource>(_ value: Double, using source: inout R) throws -> Bool {
        guard !isExhausted else {
            throw VeilError(.exhausted, "sparse vector has given all \(maxPositives) positive answers; it answers no further queries")
        }
        let index = try granularity.index(of: value)
        let rho: Int
        if let thresholdNoise {
            rho = thresholdNoise
        } else {
            rho = thresholdSampler.sample(using: &source)
            thresholdNoise = rho
        }
        let nu = querySampler.sample(using: &source)
        let above = Int128(index) + Int128(nu) >= Int128(thresholdIndex) + Int128(rho)
        if above { positives += 1 }
        return above
    }

    /// Answers one query drawing from the operating system's CSPRNG.
    public mutating func isAboveThreshold(_ value: Double) throws -> Bool {
        var source = SecureRandomSource()
        return try isAboveThreshold(value, using: &source)
    }
}
