import Mechanisms

/// A seeded source that counts the 64-bit words drawn from it, for tests of how much randomness code uses.
public struct CountingRandomSource: RandomSource {
    public var base: InsecureSeededRandomSource
    /// Words drawn so far.
    public var draws = 0

    public init(seed: UInt64) { base = InsecureSeededRandomSource(seed: seed) }

    public mutating func next() -> UInt64 {
        draws += 1
        return base.next()
    }
}
