import BigInt

/// An exact sampler of the discrete Gaussian `P(k) ∝ exp(−k²/(2σ²))` on the integers, for rational σ².
///
/// Source: Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy",
/// Algorithm 3: with `t = ⌊σ⌋ + 1`, draw `Y` from the discrete Laplace distribution of scale `t`
/// and accept it with probability exp(−(|Y| − σ²/t)² / (2σ²)); repeat until accepted. Writing
/// σ² = a/b in lowest terms, the exponent is the rational
/// `(|Y|·b·t − a)² / (2·a·b·t²)`, evaluated with integers only.
///
/// The constants `a`, `b·t` and `2·a·b·t²` are computed once here. A sample uses 64-bit words when
/// they and the numerator fit (σ = 100 with integer σ², for example), 128-bit words otherwise
/// (σ = 10^6), and arbitrary precision only when 128 bits do not suffice (σ² with very large
/// numerator and denominator). The expected number of rounds is below 2 for every σ.
public struct DiscreteGaussianSampler: Sendable {
    /// The variance parameter σ² (the distribution's variance is slightly below σ²).
    public let sigmaSquared: Rational
    @usableFromInline let laplace: DiscreteLaplaceSampler
    @usableFromInline let constants: Constants

    /// The integer width the acceptance test is set up for.
    @usableFromInline
    enum Constants: Sendable {
        case word64(a: UInt64, bt: UInt64, denominator: UInt64)
        case word128(a: UInt128, bt: UInt128, denominator: UInt128)
        case big(a: BigUInt, bt: BigUInt, denominator: BigUInt)
    }

    /// Creates a sampler for the discrete Gaussian with the given σ².
    ///
    /// - Parameter sigmaSquared: a rational in (0, 2^100].
    /// - Throws: ``VeilError`` (`invalid_parameter`) if σ² is not positive or too large.
    public init(sigmaSquared: Rational) throws {
        guard !sigmaSquared.isNegative, !sigmaSquared.isZero,
              sigmaSquared <= Rational(BigInt(1) << 100, 1) else {
            throw VeilError.invalidParameter("discrete_gaussian sigma_squared", sigmaSquared,
                                             allowed: "a rational in (0, 2^100]")
        }
        self.sigmaSquared = sigmaSquared
        let a = sigmaSquared.numerator.magnitude
        let b = sigmaSquared.denominator
        let t = (a / b).squareRoot() + 1          // ⌊σ⌋ + 1, since ⌊√(a/b)⌋ = ⌊√⌊a/b⌋⌋
        laplace = try DiscreteLaplaceSampler(scale: Rational(BigInt(t), 1))
        let bt = b * t
        let denominator = 2 * a * bt * t
        if denominator.bitWidth <= 64 {
            constants = .word64(a: UInt64(a), bt: UInt64(bt), denominator: UInt64(denominator))
        } else if denominator.bitWidth <= 128 {
            constants = .word128(a: UInt128(a), bt: UInt128(bt), denominator: UInt128(denominator))
        } else {
            constants = .big(a: a, bt: bt, denominator: denominator)
        }
    }

    /// Creates a sampler for the discrete Gaussian with standard-deviation parameter σ, used exactly.
    ///
    /// - Parameter sigma: a rational in (0, 2^50].
    /// - Throws: ``VeilError`` (`invalid_parameter`) if σ is not positive or too large.
    public init(sigma: Rational) throws {
        guard !sigma.isNegative, !sigma.isZero else {
            throw VeilError.invalidParameter("discrete_gaussian sigma", sigma, allowed: "a rational > 0")
        }
        try self.init(sigmaSquared: sigma * sigma)
    }

    /// Creates a sampler for the discrete Gaussian whose σ is the exact value of a `Double`.
    ///
    /// - Parameter sigma: a finite number in (0, 2^50].
    /// - Throws: ``VeilError`` (`invalid_parameter`) if σ is not positive, not finite, or too large.
    public init(sigma: Double) throws {
        try ParameterCheck.positive(sigma, name: "discrete_gaussian sigma")
        try self.init(sigma: Rational(exactly: sigma)!)
    }

    /// The arithmetic width of the acceptance test: 64, 128, or 0 for arbitrary precision.
    var arithmeticBits: Int {
        switch constants {
        case .word64: 64
        case .word128: 128
        case .big: 0
        }
    }

    /// Draws one integer from `P(k) ∝ exp(−k²/(2σ²))`.
    @inlinable
    public func sample<R: RandomSource>(using source: inout R) -> Int {
        while true {
            let y = laplace.sample(using: &source)
            if accept(magnitude: y.magnitude, using: &source) { return y }
        }
    }

    /// Bernoulli(exp(−(y·b·t − a)² / (2·a·b·t²))).
    @inlinable
    func accept<R: RandomSource>(magnitude y: UInt, using source: inout R) -> Bool {
        switch constants {
        case let .word64(a, bt, denominator):
            let (p, overflow) = UInt64(y).multipliedReportingOverflow(by: bt)
            if overflow {
                return Self.accept128(y, a: UInt128(a), bt: UInt128(bt), denominator: UInt128(denominator), using: &source)
            }
            let difference = p >= a ? p - a : a - p
            let (numerator, squareOverflow) = difference.multipliedReportingOverflow(by: difference)
            if !squareOverflow {
                return ExactBernoulli.exp(numerator, over: denominator, using: &source)
            }
            return ExactBernoulli.exp(UInt128(difference) * UInt128(difference), over: UInt128(denominator), using: &source)
        case let .word128(a, bt, denominator):
            return Self.accept128(y, a: a, bt: bt, denominator: denominator, using: &source)
        case let .big(a, bt, denominator):
            return Self.acceptBig(y, a: a, bt: bt, denominator: denominator, using: &source)
        }
    }

    @inlinable
    static func accept128<R: RandomSource>(
        _ y: UInt, a: UInt128, bt: UInt128, denominator: UInt128, using source: inout R
    ) -> Bool {
        let (p, overflow) = UInt128(y).multipliedReportingOverflow(by: bt)
        if !overflow {
            let difference = p >= a ? p - a : a - p
            let (numerator, squareOverflow) = difference.multipliedReportingOverflow(by: difference)
            if !squareOverflow {
                return ExactBernoulli.exp(numerator, over: denominator, using: &source)
            }
        }
        return acceptBig(y, a: BigUInt(a), bt: BigUInt(bt), denominator: BigUInt(denominator), using: &source)
    }

    @usableFromInline
    static func acceptBig<R: RandomSource>(
        _ y: UInt, a: BigUInt, bt: BigUInt, denominator: BigUInt, using source: inout R
    ) -> Bool {
        let p = BigUInt(y) * bt
        let difference = p >= a ? p - a : a - p
        return ExactBernoulli.exp(difference * difference, over: denominator, using: &source)
    }
}
