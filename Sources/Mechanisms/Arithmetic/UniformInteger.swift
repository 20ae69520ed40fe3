import BigInt

// MARK: - Uniform integers beyond 64 bits

extension RandomSource {
    /// A uniform integer in `0 ..< bound` for a 128-bit bound, without bias.
    ///
    /// Bounds below 2^64 use the 64-bit method; larger bounds draw two words, mask the high word to
    /// the bound's bit length and reject values ≥ bound (fewer than two rounds on average).
    @inlinable
    public mutating func uniform(below bound: UInt128) -> UInt128 {
        precondition(bound > 0, "uniform(below:) needs a positive bound")
        if bound <= UInt128(UInt64.max) {
            return UInt128(uniform(below: UInt64(truncatingIfNeeded: bound)))
        }
        let top = UInt64(truncatingIfNeeded: (bound &- 1) >> 64)
        let mask = UInt64.max >> top.leadingZeroBitCount
        while true {
            let candidate = UInt128(next() & mask) << 64 | UInt128(next())
            if candidate < bound { return candidate }
        }
    }

    /// A uniform integer in `0 ..< bound` for an arbitrary-precision bound, by masked rejection.
    public mutating func uniform(below bound: BigUInt) -> BigUInt {
        precondition(bound > 0, "uniform(below:) needs a positive bound")
        if bound.bitWidth <= 64 {
            return BigUInt(uniform(below: UInt64(bound)))
        }
        let bits = (bound - 1).bitWidth
        let wordCount = (bits + 63) / 64
        let topMask = UInt64.max >> (wordCount * 64 - bits)
        var words = [UInt(0)]
        words.reserveCapacity(wordCount)
        while true {
            words.removeAll(keepingCapacity: true)
            for i in 0..<wordCount {
                let w = next()
                words.append(UInt(i == wordCount - 1 ? w & topMask : w))
            }
            let candidate = BigUInt(words: words)
            if candidate < bound { return candidate }
        }
    }

    /// A uniform integer in `0 ..< bound` for any fixed-width unsigned bound of at most 128 bits.
    @inlinable
    mutating func uniformWord<T: FixedWidthInteger & UnsignedInteger>(below bound: T) -> T {
        precondition(T.bitWidth <= 128, "uniformWord supports at most 128-bit words")
        if T.bitWidth <= 64 || bound <= T(UInt64.max) {
            return T(truncatingIfNeeded: uniform(below: UInt64(truncatingIfNeeded: bound)))
        }
        return T(truncatingIfNeeded: uniform(below: UInt128(truncatingIfNeeded: bound)))
    }
}
