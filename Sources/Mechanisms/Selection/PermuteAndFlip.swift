/// The permute-and-flip mechanism: an ε-DP selection of the candidate with (approximately) the
/// highest quality score, sampled exactly.
///
/// Source: R. McKenna, D. Sheldon, "Permute-and-Flip: A new mechanism for differentially private
/// selection" (NeurIPS 2020), Algorithm 1. Visit the candidates in a uniformly random order and stop
/// at candidate r with probability `exp(−γ_r)`, where `γ_r = ε·(q* − q_r)/(2Δ)` and `q* = max q`
/// (`ε·(q* − q_r)/Δ` when the quality function is monotone, as for the exponential mechanism). A best candidate
/// stops with probability 1, so the loop ends within one pass. It is ε-DP and never worse in
/// expected quality than the exponential mechanism.
///
/// Every γ_r is computed as an exact rational from the `Double` inputs and each stop is an exact
/// Bernoulli(exp(−γ_r)) trial (Canonne, Kamath, Steinke 2020, Algorithm 1); no floating-point
/// probability is ever sampled.
public struct PermuteAndFlip: Sendable {
    /// ε.
    public let epsilon: Double
    /// The sensitivity Δ of every quality score.
    public let sensitivity: Double
    /// Whether the quality scores are monotone (all move in the same direction between neighbours).
    public let monotonic: Bool
    let factor: Rational

    /// Creates a permute-and-flip selector.
    ///
    /// - Parameters:
    ///   - epsilon: ε, finite and > 0.
    ///   - sensitivity: the sensitivity Δ of each quality score, finite and > 0.
    ///   - monotonic: whether the quality function is monotone (halves the exponent's denominator).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, sensitivity: Double, monotonic: Bool = false) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.sensitivity(sensitivity)
        self.epsilon = epsilon
        self.sensitivity = sensitivity
        self.monotonic = monotonic
        let denominator = Rational(exactly: sensitivity)! * Rational(monotonic ? 1 : 2)
        factor = Rational(exactly: epsilon)! / denominator
    }

    /// The privacy cost of one selection: ε-DP.
    public var event: DPEvent { .epsilonDelta(epsilon: epsilon, delta: 0) }

    /// The exponents `γ_r = ε·(q* − q_r)/(2Δ)` (or `/Δ` when monotone), exactly.
    ///
    /// - Parameter scores: the quality scores, finite, at least one.
    /// - Throws: ``VeilError`` (`invalid_parameter`) for an empty or non-finite score list.
    public func exponents(scores: [Double]) throws -> [Rational] {
        try ParameterCheck.count(scores.count, name: "candidate count", minimum: 1)
        var exact: [Rational] = []
        exact.reserveCapacity(scores.count)
        for (i, score) in scores.enumerated() {
            guard let value = Rational(exactly: score) else {
                throw VeilError.invalidParameter("score[\(i)]", score, allowed: "a finite number")
            }
            exact.append(value)
        }
        let best = exact.max()!
        return exact.map { (best - $0) * factor }
    }

    /// Selects the index of one candidate.
    ///
    /// - Parameters:
    ///   - scores: the quality score of each candidate (higher is better), finite, at least one.
    ///   - source: the randomness; pass a ``SecureRandomSource`` outside tests.
    /// - Throws: ``VeilError`` (`invalid_parameter`) for an empty or non-finite score list.
    public func select<R: RandomSource>(scores: [Double], using source: inout R) throws -> Int {
        let gammas = try exponents(scores: scores)
        var order = Array(gammas.indices)
        // Lazy Fisher–Yates: position i receives a uniform choice among the unvisited candidates.
        for i in order.indices {
            let j = i + Int(source.uniform(below: UInt64(order.count - i)))
            order.swapAt(i, j)
            let candidate = order[i]
            if try BernoulliExpSampler(gamma: gammas[candidate]).sample(using: &source) {
                return candidate
            }
        }
        // Unreachable: a candidate with γ = 0 stops with probability 1.
        return order[order.count - 1]
    }

    /// Selects the index of one candidate, drawing from the operating system's CSPRNG.
    public func select(scores: [Double]) throws -> Int {
        var source = SecureRandomSource()
        return try select(scores: scores, using: &source)
    }
}
