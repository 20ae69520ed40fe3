import BigInt

/// An exact sampler of the discrete Laplace distribution `P(k) ∝ exp(−|k|/scale)` on the integers.
///
/// Source: Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy",
/// Algorithm 2, with the scale written as `t/s` in lowest terms: draw `U` uniform in `{0, …, t−1}`
/// and accept it with probability exp(−U/t); draw `V ≥ 0` geometric by Bernoulli(exp(−1)) trials;
/// set `X = U + t·V`, `Y = ⌊X/s⌋`; draw a sign, rejecting the negative zero. The running time does
/// not depend on the scale: a sample costs a handful of random words on average.
///
/// Integer arithmetic only: 64-bit words in the common case, 128-bit where `t·V` or `t·k` needs it.
/// Values of magnitude above `Int.max` (probability below exp(−2^11) for the allowed scales) are
/// rejected so that the output fits in `Int`.
public struct DiscreteLaplaceSampler: Sendable {
    /// The scale `b` of `P(k) ∝ exp(−|k|/b)`.
    public let scale: Rational
    @usableFromInline let t: UInt64
    @usableFromInline let s: UInt64
    /// `log2(s)` when `s` is a power of two, else −1 (a shift replaces the division).
    @usableFromInline let sShift: Int
    /// Whether `t` is large enough that the acceptance trial should run on 128-bit words.
    @usableFromInline let wideAcceptance: Bool

    /// Creates a sampler of the discrete Laplace distribution with the given rational scale.
    ///
    /// - Parameter scale: `b > 0` with `b ≤ 2^52`, whose numerator and denominator in lowest terms
    ///   are below 2^63.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if the scale is not positive or too large.
    public init(scale: Rational) throws {
        guard !scale.isNegative, !scale.isZero else {
            throw VeilError.invalidParameter("discrete_laplace scale", scale, allowed: "a rational > 0")
        }
        let n = scale.numerator.magnitude
        let d = scale.denominator
        guard n.bitWidth <= 63, d.bitWidth <= 63, scale <= Rational(BigInt(1) << 52, 1) else {
            throw VeilError.invalidParameter(
                "discrete_laplace scale", "≈ \(scale.doubleValue)",   // the exact fraction can run to hundreds of digits
                allowed: "at most 2^52 with numerator and denominator below 2^63 in lowest terms")
        }
        self.scale = scale
        t = UInt64(n)
        s = UInt64(d)
        sShift = s.nonzeroBitCount == 1 ? s.trailingZeroBitCount : -1
        wideAcceptance = t > (1 << 40)
    }

    /// Creates a sampler for the exact value of a `Double` scale.
    ///
    /// - Parameter scale: a finite number in (0, 2^52], used exactly (`m · 2^e`).
    /// - Throws: ``VeilError`` (`invalid_parameter`) if the scale is not positive, not finite, or
    ///   its exact fraction has a denominator of 2^63 or more (scales below about 2^-10 with a full mantissa).
    public init(scale: Double) throws {
        try ParameterCheck.positive(scale, name: "discrete_laplace scale")
        try self.init(scale: Rational(exactly: scale)!)
    }

    /// Draws one integer from `P(k) ∝ exp(−|k|/scale)`.
    @inlinable
    public func sample<R: RandomSource>(using source: inout R) -> Int {
        var bits = RandomBits()
        while true {
            var u: UInt64 = 0
            if t != 1 {
                u = source.uniform(below: t)
                let accepted = wideAcceptance
                    ? ExactBernoulli.expUnit(UInt128(u), over: UInt128(t), using: &source)
                    : ExactBernoulli.expUnit(u, over: t, using: &source)
                if !accepted { continue }
            }
            var v: UInt64 = 0
            while ExactBernoulli.expMinusOne(using: &source, bits: &bits) { v &+= 1 }
            let y: UInt64
            let (tv, productOverflow) = t.multipliedReportingOverflow(by: v)
            let (x, sumOverflow) = u.addingReportingOverflow(tv)
            if !productOverflow && !sumOverflow {
                y = sShift >= 0 ? x >> UInt64(sShift) : x / s
            } else {
                let wide = (UInt128(u) + UInt128(t) * UInt128(v)) / UInt128(s)
                guard wide <= UInt128(Int.max) else { continue }
                y = UInt64(wide)
            }
            guard y <= UInt64(Int.max) else { continue }
            let negative = bits.next(from: &source)
            if negative && y == 0 { continue }
            return negative ? -Int(y) : Int(y)
        }
    }
}
