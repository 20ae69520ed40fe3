/// The discrete Laplace sampler with the work of its accepted round fixed, against timing side channels.
///
/// Jin, McMurtry, Rubinstein and Ohrimenko (2022, "Are We There Yet? Timing and Floating-Point Attacks on
/// Differential Privacy Systems", IEEE S&P) showed that rejection samplers such as Canonne, Kamath and
/// Steinke's Algorithm 2 take longer to return larger noise: the geometric part runs `V + 1`
/// Bernoulli(exp(−1)) trials for `V ≈ |noise|/scale`, and each Bernoulli(exp(−γ)) trial (Algorithm 1) runs
/// until its first failed Bernoulli(γ/k) draw. ``sampleWithFixedWork(using:)`` draws from the same
/// distribution but pads every loop of the accepted round to a fixed length:
///
/// - every Bernoulli(exp(−γ)) trial draws all of its Bernoulli(γ/k) for `k` up to ``bernoulliDraws`` and
///   takes `K` as the first that failed (the draws after it are discarded);
/// - the geometric part runs ``geometricTrials`` Bernoulli(exp(−1)) trials and takes `V` as the number of
///   successes before the first failure.
///
/// The output is unchanged in distribution: the discarded draws are independent of the kept ones. Only
/// when every padded draw succeeds — probability at most `1/16!` ≈ 5·10⁻¹⁴ for a trial and `e^−32` ≈
/// 1.3·10⁻¹⁴ for the geometric part — does the round continue with the variable-length loop, and only
/// then does its work depend on the value. Rejected rounds (an acceptance trial that fails, a negative
/// zero) restart as before; their number is independent of the value returned. What remains: the draws'
/// own costs (Lemire's rejection, 128-bit arithmetic for large `t`) do not depend on the value, but a
/// compiler or CPU may still time branches differently; `veil-bench timing` measures the residual.
/// The price is about 50 random words and 500 small divisions per sample instead of about six words.
extension DiscreteLaplaceSampler {
    /// Bernoulli(γ/k) draws made by every padded Bernoulli(exp(−γ)) trial, `k = 1 … 16`.
    public static let bernoulliDraws = 16
    /// Bernoulli(exp(−1)) trials made by the padded geometric part.
    public static let geometricTrials = 32

    /// Draws one integer from `P(k) ∝ exp(−|k|/scale)`, as ``sample(using:)`` does, with the accepted
    /// round's work independent of the value returned (see the type's discussion).
    public func sampleWithFixedWork<R: RandomSource>(using source: inout R) -> Int {
        var bits = RandomBits()
        while true {
            var u: UInt64 = 0
            if t != 1 {
                u = source.uniform(below: t)
                if !FixedWorkBernoulli.expUnit(UInt128(u), over: UInt128(t), using: &source) { continue }
            }
            var v: UInt64 = 0
            var stillCounting = true
            for _ in 0..<Self.geometricTrials {
                let success = FixedWorkBernoulli.expMinusOne(using: &source)
                stillCounting = stillCounting && success
                v &+= stillCounting ? 1 : 0
            }
            if stillCounting {
                // Every padded trial succeeded (probability e^−32): finish the geometric draw as sample(using:) does.
                while ExactBernoulli.expMinusOne(using: &source, bits: &bits) { v &+= 1 }
            }
            let wide = (UInt128(u) + UInt128(t) * UInt128(v)) / UInt128(s)
            guard wide <= UInt128(Int.max) else { continue }
            let y = Int(wide)
            let negative = bits.next(from: &source)
            if negative && y == 0 { continue }
            return negative ? -y : y
        }
    }
}

/// Canonne, Kamath and Steinke's Algorithm 1 with every Bernoulli(γ/k) draw up to
/// ``DiscreteLaplaceSampler/bernoulliDraws`` made whatever the outcome.
enum FixedWorkBernoulli {
    /// Bernoulli(exp(−n/d)) for `0 ≤ n ≤ d`, `d > 0`: draws `k = 1 … 16` all, `K` the first that failed;
    /// if none failed, the variable-length loop continues from `k = 17`.
    static func expUnit<R: RandomSource>(_ n: UInt128, over d: UInt128, using source: inout R) -> Bool {
        var firstFailure = 0
        for k in 1...DiscreteLaplaceSampler.bernoulliDraws {
            let failed = source.uniformWord(below: d * UInt128(k)) >= n
            firstFailure = firstFailure == 0 && failed ? k : firstFailure
        }
        if firstFailure == 0 {
            var k = UInt128(DiscreteLaplaceSampler.bernoulliDraws + 1)
            while source.uniformWord(below: d * k) < n { k += 1 }
            return k & 1 == 1
        }
        return firstFailure & 1 == 1
    }

    /// `16!`: a uniform integer below it is 15 independent uniform digits, one below each `k = 2 … 16`.
    static let digitsBound: UInt64 = (2...UInt64(DiscreteLaplaceSampler.bernoulliDraws)).reduce(1, *)

    /// Bernoulli(exp(−1)): draws Bernoulli(1/k) for `k = 2 … 16` all (the trial `k = 1` always succeeds),
    /// `K` the first that failed; if none failed, the variable-length loop continues from `k = 17`.
    ///
    /// The 15 draws come from one uniform integer below `16!`, read as mixed-radix digits: digit `k` is
    /// uniform below `k` and independent of the others, and the trial succeeds when it is 0.
    static func expMinusOne<R: RandomSource>(using source: inout R) -> Bool {
        var digits = source.uniform(below: digitsBound)
        var firstFailure = 0
        for k in 2...UInt64(DiscreteLaplaceSampler.bernoulliDraws) {
            let (rest, digit) = digits.quotientAndRemainder(dividingBy: k)
            digits = rest
            firstFailure = firstFailure == 0 && digit != 0 ? Int(k) : firstFailure
        }
        if firstFailure == 0 {
            var k = UInt64(DiscreteLaplaceSampler.bernoulliDraws + 1)
            while source.uniform(below: k) == 0 { k &+= 1 }
            return k & 1 == 1
        }
        return firstFailure & 1 == 1
    }
}
