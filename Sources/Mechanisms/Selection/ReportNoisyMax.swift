/// Report-noisy-max over integer scores with discrete Laplace noise: ε-DP selection.
///
/// Each score `c_i` receives independent discrete Laplace noise of scale `b = 2Δ/ε` (`Δ/ε` for
/// monotone scores, such as counts) and the index of the largest noisy score is returned, ties going
/// to the smallest index. Privacy (Dwork & Roth 2014, Claim 3.9, adapted to integer noise): fix the
/// other noises; candidate i wins iff its noise is at least a threshold `r*`, and moving to a
/// neighbour shifts `r*` by at most 2Δ (Δ if monotone). The discrete Laplace tail satisfies
/// `P(Z ≥ r + k) ≥ e^{−k/b}·P(Z ≥ r)` for integers, so the win probability changes by at most e^ε.
public struct ReportNoisyMax: Sendable {
    /// ε.
    public let epsilon: Double
    /// The integer sensitivity Δ of every score.
    public let sensitivity: Int
    /// Whether the scores are monotone.
    public let monotonic: Bool
    /// The discrete Laplace scale, `≥ 2Δ/ε` (or `≥ Δ/ε` when monotone).
    public let scale: Double
    let sampler: DiscreteLaplaceSampler

    /// Creates a report-noisy-max selector.
    ///
    /// - Parameters:
    ///   - epsilon: ε, finite and > 0.
    ///   - sensitivity: the integer sensitivity Δ ≥ 1 of each score (default 1).
    ///   - monotonic: whether all scores move in the same direction between neighbours.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, sensitivity: Int = 1, monotonic: Bool = false) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.integerSensitivity(sensitivity)
        self.epsilon = epsilon
        self.sensitivity = sensitivity
        self.monotonic = monotonic
        let (doubled, overflow) = sensitivity.multipliedReportingOverflow(by: monotonic ? 1 : 2)
        guard !overflow else {
            throw VeilError.invalidParameter("sensitivity", sensitivity, allowed: "below Int.max / 2")
        }
        scale = try ReleaseArithmetic.laplaceScale(sensitivity: doubled, epsilon: epsilon)
        sampler = try DiscreteLaplaceSampler(scale: scale)
    }

    /// The privacy cost of one selection: ε-DP.
    public var event: DPEvent { .epsilonDelta(epsilon: epsilon, delta: 0) }

    /// Selects the index of the largest noisy score.
    ///
    /// - Parameters:
    ///   - scores: the integer scores, at least one.
    ///   - source: the randomness; pass a ``SecureRandomSource`` outside tests.
    /// - Throws: ``VeilError`` (`invalid_parameter`) for an empty score list.
    public func select<R: RandomSource>(scores: [Int], using source: inout R) throws -> Int {
        try ParameterCheck.count(scores.count, name: "candidate count", minimum: 1)
        var best = 0
        var bestValue = Int128.min
        for (i, score) in scores.enumerated() {
            let noisy = Int128(score) + Int128(sampler.sample(using: &source))
            if noisy > bestValue {
                best = i
                bestValue = noisy
            }
        }
        return best
    }

    /// Selects the index of the largest noisy score, drawing from the operating system's CSPRNG.
    public func select(scores: [Int]) throws -> Int {
        var source = SecureRandomSource()
        return try select(scores: scores, using: &source)
    }
}
