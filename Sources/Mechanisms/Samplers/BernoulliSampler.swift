import BigInt

/// An exact sampler of Bernoulli(p) for a rational probability `p = n/d`.
///
/// One trial is `uniform(below: d) < n`, which is exact given uniform random words
/// (Canonne, Kamath, Steinke 2020, §5.1). Probabilities whose parts fit in 64 bits use one
/// machine word per trial; others use arbitrary-precision integers.
public struct BernoulliSampler: Sendable {
    /// The success probability.
    public let probability: Rational
    @usableFromInline let small: (n: UInt64, d: UInt64)?
    @usableFromInline let big: (n: BigUInt, d: BigUInt)

    /// Creates a sampler of Bernoulli(`probability`).
    ///
    /// - Parameter probability: a rational in [0, 1].
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `probability` is outside [0, 1].
    public init(probability: Rational) throws {
        guard !probability.isNegative, probability <= .one else {
            throw VeilError.invalidParameter("bernoulli probability", probability, allowed: "a rational in [0, 1]")
        }
        self.probability = probability
        let n = probability.numerator.magnitude
        let d = probability.denominator
        big = (n, d)
        small = (n.bitWidth <= 64 && d.bitWidth <= 64) ? (UInt64(n), UInt64(d)) : nil
    }

    /// Creates a sampler of Bernoulli(`probability`) for the exact value of a `Double`.
    ///
    /// - Parameter probability: a finite number in [0, 1], used exactly (`m · 2^e`).
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `probability` is not in [0, 1].
    public init(probability: Double) throws {
        try ParameterCheck.probability(probability, name: "bernoulli probability")
        try self.init(probability: Rational(exactly: probability)!)
    }

    /// Draws one trial: `true` with probability ``probability``.
    @inlinable
    public func sample<R: RandomSource>(using source: inout R) -> Bool {
        if let small {
            return ExactBernoulli.probability(small.n, over: small.d, using: &source)
        }
        return ExactBernoulli.probability(big.n, over: big.d, using: &source)
    }
}
