import BigInt

/// An exact sampler of the discrete Gaussian `P(k) ∝ exp(−k²/(2σ²))` on the integers, for rational σ².
///
/// Source: Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy",
/// Algorithm 3: draw `Y` from the discrete Laplace distribution of scale `t` and accept it with
/// probability exp(−(|Y| − σ²/t)² / (2σ²)); repeat until accepted. For any `t > 0` the accepted
/// values have probability ∝ `exp(−|y|/t − (|y| − σ²/t)²/(2σ²)) = exp(−y²/(2σ²) − σ²/(2t²))`, which is
/// the discrete Gaussian; `t` only sets the acceptance rate. The paper takes `t = ⌊σ⌋ + 1`, which
/// Veil uses when only σ² is given. When σ itself is a rational `p/q`, Veil takes `t = σ`: then
/// σ²/t = σ and the exponent reduces to `(|Y|·q − p)² / (2p²)`, which stays in 64-bit words for σ up
/// to about 2^20 with short fractions, and the acceptance rate is at least as high (0.76 for large σ).
///
/// In general the exponent is `(|Y|·V − U)² / D` with integers fixed in the initializer
/// (`V = b·t, U = a, D = 2·a·b·t²` for σ² = a/b and integer t; `V = q, U = p, D = 2p²` for σ = p/q).
/// A sample uses 64-bit words when they and the numerator fit, 128-bit words otherwise, and
/// arbitrary precision only when 128 bits do not suffice. The expected number of rounds is below 2.
public struct DiscreteGaussianSampler: Sendable {
    /// The variance parameter σ² (the distribution's variance is slightly below σ²).
    public let sigmaSquared: Rational
    @usableFromInline let laplace: DiscreteLaplaceSampler
    @usableFromInline let constants: Constants

    /// The exponent's integers `U`, `V` and `D` at the width the acceptance test is set up for.
    @usableFromInline
    enum Constants: Sendable {
        case word64(offset: UInt64, multiplier: UInt64, denominator: UInt64)
        case word128(offset: UInt128, multiplier: UInt128, denominator: UInt128)
        case big(offset: BigUInt, multiplier: BigUInt, denominator: BigUInt)

        init(offset: BigUInt, multiplier: BigUInt, denominator: BigUInt) {
            if denominator.bitWidth <= 64 && multiplier.bitWidth <= 64 && offset.bitWidth <= 64 {
                self = .word64(offset: UInt64(offset), multiplier: UInt64(multiplier), denominator: UInt64(denominator))
            } else if denominator.bitWidth <= 128 && multiplier.bitWidth <= 128 && offset.bitWidth <= 128 {
                self = .word128(offset: UInt128(offset), multiplier: UInt128(multiplier), denominator: UInt128(denominator))
            } else {
                self = .big(offset: offset, multiplier: multiplier, denominator: denominator)
            }
        }
    }

    /// Creates a sampler for the discrete Gaussian with the given σ² (Algorithm 3 with `t = ⌊σ⌋ + 1`).
    ///
    /// - Parameter sigmaSquared: a rational in (0, 2^100].
    /// - Throws: ``VeilError`` (`invalid_parameter`) if σ² is not positive or too large.
    public init(sigmaSquared: Rational) throws {
        try Self.check(sigmaSquared)
        let a = sigmaSquared.numerator.magnitude
        let b = sigmaSquared.denominator
        let t = (a / b).squareRoot() + 1          // ⌊σ⌋ + 1, since ⌊√(a/b)⌋ = ⌊√⌊a/b⌋⌋
        let bt = b * t
        self.init(sigmaSquared: sigmaSquared,
                  laplace: try DiscreteLaplaceSampler(scale: Rational(BigInt(t), 1)),
                  constants: Constants(offset: a, multiplier: bt, denominator: 2 * a * bt * t))
    }

    /// Creates a sampler for the discrete Gaussian with standard-deviation parameter σ, used exactly
    /// (Algorithm 3 with `t = σ`).
    ///
    /// - Parameter sigma: a rational in (0, 2^50].
    /// - Throws: ``VeilError`` (`invalid_parameter`) if σ is not positive or too large.
    public init(sigma: Rational) throws {
        guard !sigma.isNegative, !sigma.isZero else {
            throw VeilError.invalidParameter("discrete_gaussian sigma", sigma, allowed: "a rational > 0")
        }
        let sigmaSquared = sigma * sigma
        try Self.check(sigmaSquared)
        guard let laplace = try? DiscreteLaplaceSampler(scale: sigma) else {
            // σ's fraction is too long for the Laplace sampler's 63-bit parts: use t = ⌊σ⌋ + 1.
            try self.init(sigmaSquared: sigmaSquared)
            return
        }
        let p = sigma.numerator.magnitude
        let q = sigma.denominator
        self.init(sigmaSquared: sigmaSquared, laplace: laplace,
                  constants: Constants(offset: p, multiplier: q, denominator: 2 * p * p))
    }

    private init(sigmaSquared: Rational, laplace: DiscreteLaplaceSampler, constants: Constants) {
        self.sigmaSquared = sigmaSquared
        self.laplace = laplace
        self.constants = constants
    }

    private static func check(_ sigmaSquared: Rational) throws {
        guard !sigmaSquared.isNegative, !sigmaSquared.isZero,
              sigmaSquared <= Rational(BigInt(1) << 100, 1) else {
            throw VeilError.invalidParameter("discrete_gaussian sigma_squared", sigmaSquared,
                                             allowed: "a rational in (0, 2^100]")
        }
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

    /// Bernoulli(exp(−(y·V − U)² / D)); `a`, `bt` below are U and V (named after the `t = ⌊σ⌋ + 1` case).
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
        if let numerator = exponentNumerator(y, a: a, bt: bt) {
            return ExactBernoulli.exp(numerator, over: denominator, using: &source)
        }
        return acceptBig(y, a: BigUInt(a), bt: BigUInt(bt), denominator: BigUInt(denominator), using: &source)
    }

    /// The acceptance exponent's numerator `(y·V − U)²` on 128-bit words, or nil when it does not fit them.
    @inlinable
    static func exponentNumerator(_ y: UInt, a: UInt128, bt: UInt128) -> UInt128? {
        let (p, overflow) = UInt128(y).multipliedReportingOverflow(by: bt)
        guard !overflow else { return nil }
        let difference = p >= a ? p - a : a - p
        let (numerator, squareOverflow) = difference.multipliedReportingOverflow(by: difference)
        return squareOverflow ? nil : numerator
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
