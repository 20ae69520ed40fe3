import BigInt

/// An exact sampler of Bernoulli(exp(−γ)) for a rational `γ ≥ 0`.
///
/// Source: Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy",
/// Algorithm 1: for γ ≤ 1, draw Bernoulli(γ/k) for k = 1, 2, … until the first failure at trial K
/// and output whether K is odd; for γ > 1, ⌊γ⌋ independent Bernoulli(exp(−1)) trials must all
/// succeed, followed by one Bernoulli(exp(−(γ − ⌊γ⌋))). Integers only; 64-bit words when γ's parts
/// fit, 128-bit or arbitrary precision otherwise.
public struct BernoulliExpSampler: Sendable {
    /// The exponent γ: the success probability is exp(−γ).
    public let gamma: Rational
    @usableFromInline let small: (n: UInt64, d: UInt64)?
    @usableFromInline let big: (n: BigUInt, d: BigUInt)

    /// Creates a sampler of Bernoulli(exp(−`gamma`)).
    ///
    /// - Parameter gamma: a rational ≥ 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `gamma` is negative.
    public init(gamma: Rational) throws {
        guard !gamma.isNegative else {
            throw VeilError.invalidParameter("bernoulli_exp gamma", gamma, allowed: "a rational ≥ 0")
        }
        self.gamma = gamma
        let n = gamma.numerator.magnitude
        let d = gamma.denominator
        big = (n, d)
        small = (n.bitWidth <= 64 && d.bitWidth <= 64) ? (UInt64(n), UInt64(d)) : nil
    }

    /// Creates a sampler of Bernoulli(exp(−`gamma`)) for the exact value of a `Double`.
    ///
    /// - Parameter gamma: a finite number ≥ 0, used exactly.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `gamma` is negative or not finite.
    public init(gamma: Double) throws {
        guard gamma.isFinite, gamma >= 0 else {
            throw VeilError.invalidParameter("bernoulli_exp gamma", gamma, allowed: "a finite number ≥ 0")
        }
        try self.init(gamma: Rational(exactly: gamma)!)
    }

    /// Draws one trial: `true` with probability exp(−``gamma``).
    @inlinable
    public func sample<R: RandomSource>(using source: inout R) -> Bool {
        if let small {
            return ExactBernoulli.exp(small.n, over: small.d, using: &source)
        }
        return ExactBernoulli.expBig(big.n, over: big.d, using: &source)
    }
}
