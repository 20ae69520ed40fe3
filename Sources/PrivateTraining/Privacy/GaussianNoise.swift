import LinearAlgebra
import Mechanisms

/// Continuous standard normal samples for DP-SGD, by the ziggurat method (``ZigguratNormal``,
/// Marsaglia & Tsang 2000) on 64-bit random words.
///
/// This is the one place where Veil uses floating-point noise (docs/design.md §2 rule 1): the
/// Gaussian mechanism on gradients, as in Abadi et al. 2016. Single values read their words from the
/// caller's source; noise added to a tensor with the OS CSPRNG reads them from
/// ``KeyErasingAESStream``s keyed from it. The model card records the method.
public struct GaussianNoiseSampler: Sendable {
    /// A short description for model cards.
    public static let methodDescription =
        "continuous Gaussian, ziggurat method (Marsaglia & Tsang 2000, 256 layers) on 64-bit words; "
        + "noise added to a tensor reads its words from AES-256-CTR fast-key-erasure streams (Bernstein 2017), "
        + "one per tensor slice, each keyed with 256 bits from the OS CSPRNG and re-keyed from its own "
        + "keystream every 64 KiB; single values read the OS CSPRNG directly"

    /// A sampler.
    public init() {}

    /// One standard normal value.
    public mutating func next<R: RandomSource>(using random: inout R) -> Double {
        ZigguratNormal.next(using: &random)
    }

    /// Values below which noise is drawn on one thread.
    static let valuesPerThread = 1 << 15

    /// Adds independent `N(0, standardDeviation²)` noise to every value.
    ///
    /// With the OS CSPRNG (``SecureRandomSource``, what training uses), the values are split into
    /// contiguous slices, one per thread for a large tensor (``ParallelSlices``), and each slice
    /// reads its words from a ``KeyErasingAESStream`` of its own, keyed with four words of `random`
    /// drawn on the calling thread: every value receives independent noise, and no slice shares a
    /// key with another. Any other source (a seeded one in tests) is read on the calling thread in
    /// order, one word after another, so a seed gives the same noise for every number of threads.
    public mutating func addNoise<R: RandomSource>(to values: inout [Float], standardDeviation: Double,
                                                   using random: inout R) {
        values.withUnsafeMutableBufferPointer { v in
            guard R.self == SecureRandomSource.self else {
                ZigguratNormal.addNoise(to: v, standardDeviation: standardDeviation, using: &random)
                return
            }
            let sliceCount = ParallelSlices.sliceCount(v.count, minimumItems: Self.valuesPerThread)
            let streams = (0..<sliceCount).map { _ in KeyErasingAESStream(keyFrom: &random) }
            ParallelSlices.run(sliceCount) { assigned in
                for s in assigned {
                    var stream = streams[s]
                    let slice = ParallelSlices.slice(s, of: v.count, into: sliceCount)
                    ZigguratNormal.addNoise(to: UnsafeMutableBufferPointer(rebasing: v[slice]),
                                            standardDeviation: standardDeviation, using: &stream)
                }
            }
        }
    }
}
