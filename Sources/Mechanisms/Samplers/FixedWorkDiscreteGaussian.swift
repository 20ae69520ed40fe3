import BigInt

/// The discrete Gaussian sampler with the work of its accepted round fixed, against timing side channels
/// (Jin, McMurtry, Rubinstein and Ohrimenko 2022; see ``DiscreteLaplaceSampler/sampleWithFixedWork(using:)``).
///
/// Canonne, Kamath and Steinke's Algorithm 3 proposes `Y` from the discrete Laplace distribution and accepts it
/// with probability exp(−γ), γ = (|Y|·V − U)²/D ≈ (|Y| − σ)²/(2σ²). Algorithm 1 makes that trial from ⌊γ⌋
/// Bernoulli(exp(−1)) trials, stopping at the first failure, and one Bernoulli(exp(−(γ − ⌊γ⌋))): an accepted
/// round runs ⌊γ⌋ + 1 trials, so its time grows quadratically with the noise beyond σ.
/// ``sampleWithFixedWork(using:)`` draws from the same distribution with:
///
/// - the proposal from ``DiscreteLaplaceSampler/sampleWithFixedWork(using:)``;
/// - the acceptance trial padded (``FixedWorkBernoulli/exp(_:over:using:)``): ``acceptanceTrials``
///   Bernoulli(exp(−1)) trials are always made, the first ⌊γ⌋ of them count, and the trial for the fraction is
///   the padded one of the Laplace sampler. The discarded draws are independent of the kept ones, so the
///   distribution is unchanged.
///
/// An accepted value needs more than the pad only if ⌊γ⌋ > 32, i.e. |Y| beyond about σ + 8σ: probability about
/// 2·10⁻¹⁹ (a standard normal beyond 9). Rejected rounds restart as before; their number is independent of the
/// value returned. What remains is the arithmetic itself: 128-bit products and divisions whose latency may depend
/// on their operands, and the arbitrary-precision path for σ whose fraction does not fit 128 bits (no padding
/// there), which `veil-bench timing` measures.
extension DiscreteGaussianSampler {
    /// Bernoulli(exp(−1)) trials made by every padded acceptance trial.
    public static let acceptanceTrials = 32

    /// Draws one integer from `P(k) ∝ exp(−k²/(2σ²))`, as ``sample(using:)`` does, with the accepted round's
    /// work independent of the value returned (see the extension's discussion).
    public func sampleWithFixedWork<R: RandomSource>(using source: inout R) -> Int {
        while true {
            let y = laplace.sampleWithFixedWork(using: &source)
            if acceptWithFixedWork(magnitude: y.magnitude, using: &source) { return y }
        }
    }

    /// Bernoulli(exp(−(y·V − U)² / D)) with the padded trial, on 128-bit words; arbitrary precision (unpadded)
    /// when the constants or the exponent do not fit them.
    func acceptWithFixedWork<R: RandomSource>(magnitude y: UInt, using source: inout R) -> Bool {
        let (offset, multiplier, denominator): (UInt128, UInt128, UInt128)
        switch constants {
        case let .word64(a, bt, d): (offset, multiplier, denominator) = (UInt128(a), UInt128(bt), UInt128(d))
        case let .word128(a, bt, d): (offset, multiplier, denominator) = (a, bt, d)
        case .big: return accept(magnitude: y, using: &source)
        }
        if denominator <= FixedWorkBernoulli.largestDenominator,
           let numerator = Self.exponentNumerator(y, a: offset, bt: multiplier) {
            return FixedWorkBernoulli.exp(numerator, over: denominator, using: &source)
        }
        // The exponent (|y| astronomically far: rejected but with negligible probability) or the padded trials'
        // products pass 128 bits: arbitrary precision, unpadded.
        return Self.acceptBig(y, a: BigUInt(offset), bt: BigUInt(multiplier), denominator: BigUInt(denominator), using: &source)
    }
}

extension FixedWorkBernoulli {
    /// The largest `d` for which the padded trials' `d · k` (k ≤ 16) stays within 128 bits.
    static let largestDenominator = UInt128.max / UInt128(DiscreteLaplaceSampler.bernoulliDraws)

    /// Bernoulli(exp(−n/d)) for any `n ≥ 0` and `0 < d ≤` ``largestDenominator`` (Algorithm 1): every one of
    /// ``DiscreteGaussianSampler/acceptanceTrials`` Bernoulli(exp(−1)) trials is made and the first ⌊n/d⌋ count;
    /// beyond them (⌊n/d⌋ larger than the pad) the trials continue one by one; then the padded
    /// Bernoulli(exp(−(n/d − ⌊n/d⌋))), made whatever the earlier trials gave.
    static func exp<R: RandomSource>(_ n: UInt128, over d: UInt128, using source: inout R) -> Bool {
        let (whole, remainder) = n.quotientAndRemainder(dividingBy: d)
        let padded = UInt128(DiscreteGaussianSampler.acceptanceTrials)
        var passed = true
        for i in 0..<padded {
            let success = expMinusOne(using: &source)
            passed = passed && (i >= whole || success)
        }
        var i = padded
        while passed && i < whole {
            passed = ExactBernoulli.expMinusOne(using: &source)
            i += 1
        }
        let fraction = expUnit(remainder, over: d, using: &source)
        return passed && fraction
    }
}
