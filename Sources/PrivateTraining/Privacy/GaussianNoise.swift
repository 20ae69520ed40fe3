import LinearAlgebra
import Mechanisms

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Continuous standard normal samples for DP-SGD, by the Marsaglia polar method from uniform
/// doubles built from 53 random bits each (Marsaglia & Bray 1964).
///
/// This is the one place where Veil uses floating-point noise (docs/design.md §2 rule 1): the
/// Gaussian mechanism on gradients, as in Abadi et al. 2016. Samples come from the caller's
/// source, ``SecureRandomSource`` in training; the model card records the method.
public struct GaussianNoiseSampler: Sendable {
    /// A short description for model cards.
    public static let methodDescription =
        "continuous Gaussian, Marsaglia polar method on 53-bit uniform doubles from the OS CSPRNG"
    private var spare: Double?

    /// A sampler with no cached value.
    public init() {}

    /// One standard normal value.
    public mutating func next<R: RandomSource>(using random: inout R) -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        while true {
            let u = 2 * (Double(random.next() >> 11) * 0x1p-53) - 1
            let v = 2 * (Double(random.next() >> 11) * 0x1p-53) - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * log(s) / s).squareRoot()
                spare = v * factor
                return u * factor
            }
        }
    }

    /// Values below which noise is drawn on one thread.
    static let valuesPerThread = 1 << 15

    /// Adds independent `N(0, standardDeviation²)` noise to every value.
    ///
    /// With the OS CSPRNG (``SecureRandomSource``) and a large tensor, the values are split into
    /// contiguous slices, one per thread (``ParallelSlices``), and each thread draws from a
    /// `SecureRandomSource` of its own: every value still receives noise from the OS CSPRNG,
    /// independently of every other, and the kernel's generator runs on all cores. Any other
    /// source (a seeded one in tests) is read on the calling thread in order, so a seed gives the
    /// same noise as before.
    public mutating func addNoise<R: RandomSource>(to values: inout [Float], standardDeviation: Double,
                                                   using random: inout R) {
        values.withUnsafeMutableBufferPointer { v in
            if R.self == SecureRandomSource.self, ParallelSlices.workerCount > 1, v.count >= 2 * Self.valuesPerThread {
                ParallelSlices.run(v.count, minimumItems: Self.valuesPerThread) { slice in
                    var source = SecureRandomSource()
                    var sampler = GaussianNoiseSampler()
                    sampler.addNoise(to: UnsafeMutableBufferPointer(rebasing: v[slice]),
                                     standardDeviation: standardDeviation, using: &source)
                }
            } else {
                addNoise(to: v, standardDeviation: standardDeviation, using: &random)
            }
        }
    }

    /// Adds `N(0, standardDeviation²)` noise to each value in order, from `random`.
    private mutating func addNoise<R: RandomSource>(to values: UnsafeMutableBufferPointer<Float>,
                                                    standardDeviation: Double, using random: inout R) {
        for i in values.indices {
            values[i] += Float(standardDeviation * next(using: &random))
        }
    }
}
