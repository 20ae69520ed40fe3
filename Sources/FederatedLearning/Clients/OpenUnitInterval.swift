import Mechanisms

/// Uniform doubles in the open interval (0, 1) for simulation choices (Gamma variates of a split, simulated
/// dropouts): never noise, which comes from the exact samplers or the Gaussian sampler of the noise path.
enum OpenUnitInterval {
    /// `(k + ½) · 2⁻⁵³` for a uniform 53-bit k: never 0 nor 1.
    static func sample<R: RandomSource>(_ random: inout R) -> Double {
        (Double(random.next() >> 11) + 0.5) * 0x1p-53
    }
}
