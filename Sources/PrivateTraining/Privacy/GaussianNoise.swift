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

    /// Adds independent `N(0, standardDeviation²)` noise to every value.
    public mutating func addNoise<R: RandomSource>(to values: inout [Float], standardDeviation: Double,
                                                   using random: inout R) {
        for i in values.indices {
            values[i] += Float(standardDeviation * next(using: &random))
        }
    }
}
