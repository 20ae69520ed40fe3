import BigInt

/// The exact Bernoulli trials every Veil sampler is built from, on 64-bit, 128-bit or
/// arbitrary-precision integers.
///
/// Source: C. Canonne, G. Kamath, T. Steinke, "The Discrete Gaussian for Differential Privacy"
/// (NeurIPS 2020, arXiv:2004.00010), Algorithm 1 (Bernoulli(exp(−γ)) from Bernoulli(γ/k) trials).
/// Every trial is `uniform(below: d) < n`, so the output distribution is exact given uniform words.
@usableFromInline
enum ExactBernoulli {
    // MARK: Fixed width

    /// Bernoulli(n/d) for `n ≤ d`, `d > 0`.
    @inlinable
    static func probability<T: FixedWidthInteger & UnsignedInteger, R: RandomSource>(
        _ n: T, over d: T, using source: inout R
    ) -> Bool {
        source.uniformWord(below: d) < n
    }

    /// Bernoulli(exp(−1)): Algorithm 1 with γ = 1, whose first trial Bernoulli(1) always succeeds.
    @inlinable
    static func expMinusOne<R: RandomSource>(using source: inout R) -> Bool {
        var k: UInt64 = 2
        while source.uniform(below: k) == 0 { k &+= 1 }
        // The loop stopped at trial k, so K = k in the paper's notation: output 1 iff K is odd.
        return k & 1 == 1
    }

    /// Bernoulli(exp(−1)) taking its Bernoulli(1/2) trial from a buffer of single random bits.
    @inlinable
    static func expMinusOne<R: RandomSource>(using source: inout R, bits: inout RandomBits) -> Bool {
        if !bits.next(from: &source) { return false }      // trial k = 2 failed: K = 2, even
        var k: UInt64 = 3
        while source.uniform(below: k) == 0 { k &+= 1 }
        return k & 1 == 1
    }

    /// Bernoulli(exp(−n/d)) for `0 ≤ n ≤ d`, `d > 0` (Algorithm 1, case γ ∈ [0, 1]).
    ///
    /// If `d · k` no longer fits in `T`, the same run continues on arbitrary-precision integers,
    /// so no randomness is discarded and the output stays exact.
    @inlinable
    static func expUnit<T: FixedWidthInteger & UnsignedInteger, R: RandomSource>(
        _ n: T, over d: T, using source: inout R
    ) -> Bool {
        if n == 0 { return true }
        var k: T = 1
        while true {
            let (dk, overflow) = d.multipliedReportingOverflow(by: k)
            if overflow {
                return expUnitBig(BigUInt(n), over: BigUInt(d), startingAt: BigUInt(k), using: &source)
            }
            if source.uniformWord(below: dk) < n { k &+= 1 } else { break }
        }
        return k & 1 == 1
    }

    /// Bernoulli(exp(−n/d)) for any `n ≥ 0`, `d > 0` (Algorithm 1): ⌊γ⌋ trials of Bernoulli(exp(−1)),
    /// then one of Bernoulli(exp(−(γ − ⌊γ⌋))).
    @inlinable
    static func exp<T: FixedWidthInteger & UnsignedInteger, R: RandomSource>(
        _ n: T, over d: T, using source: inout R
    ) -> Bool {
        if n <= d {
            return n == d ? expMinusOne(using: &source) : expUnit(n, over: d, using: &source)
        }
        let (whole, remainder) = n.quotientAndRemainder(dividingBy: d)
        var i: T = 0
        while i < whole {
            if !expMinusOne(using: &source) { return false }
            i &+= 1
        }
        return expUnit(remainder, over: d, using: &source)
    }

    // MARK: Arbitrary precision

    /// Bernoulli(n/d) for `n ≤ d` on arbitrary-precision integers.
    @usableFromInline
    static func probability<R: RandomSource>(_ n: BigUInt, over d: BigUInt, using source: inout R) -> Bool {
        source.uniform(below: d) < n
    }

    /// Continues Algorithm 1 (γ = n/d ≤ 1) from trial `k` on arbitrary-precision integers.
    @usableFromInline
    static func expUnitBig<R: RandomSource>(
        _ n: BigUInt, over d: BigUInt, startingAt start: BigUInt, using source: inout R
    ) -> Bool {
        if n.isZero { return true }
        var k = start
        while source.uniform(below: d * k) < n { k += 1 }
        return k[bitAt: 0]
    }

    /// Bernoulli(exp(−n/d)) for any `n ≥ 0`, `d > 0` on arbitrary-precision integers.
    @usableFromInline
    static func expBig<R: RandomSource>(_ n: BigUInt, over d: BigUInt, using source: inout R) -> Bool {
        let (whole, remainder) = n.quotientAndRemainder(dividingBy: d)
        var i = BigUInt(0)
        while i < whole {
            if !expMinusOne(using: &source) { return false }
            i += 1
        }
        return expUnitBig(remainder, over: d, startingAt: 1, using: &source)
    }

    /// Bernoulli(exp(−n/d)) choosing the narrowest integer type that holds `n` and `d`.
    static func exp<R: RandomSource>(_ n: BigUInt, over d: BigUInt, using source: inout R) -> Bool {
        if n.bitWidth <= 64 && d.bitWidth <= 64 {
            return exp(UInt64(n), over: UInt64(d), using: &source)
        }
        if n.bitWidth <= 128 && d.bitWidth <= 128 {
            return exp(UInt128(n), over: UInt128(d), using: &source)
        }
        return expBig(n, over: d, using: &source)
    }
}

/// Fair random bits taken one at a time from 64-bit words, so that a Bernoulli(1/2) trial costs one
/// bit instead of one word. Each bit of a uniform word is an independent fair bit.
@usableFromInline
struct RandomBits {
    @usableFromInline var word: UInt64 = 0
    @usableFromInline var remaining = 0

    @inlinable
    init() {}

    /// The next fair bit.
    @inlinable
    mutating func next<R: RandomSource>(from source: inout R) -> Bool {
        if remaining == 0 {
            word = source.next()
            remaining = 64
        }
        let bit = word & 1 == 1
        word >>= 1
        remaining &-= 1
        return bit
    }
}
