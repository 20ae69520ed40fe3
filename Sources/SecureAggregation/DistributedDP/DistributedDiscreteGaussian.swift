import Foundation
import Mechanisms

/// The client encoder and the server decoder of the distributed discrete Gaussian mechanism
/// (Kairouz, Liu, Steinke 2021, Algorithms 1 and 2). The encoder's output is the input of
/// ``SecAggClient/maskedInput(_:input:)`` with the same bit width; the decoder takes SecAgg's sum.
///
/// Encoding an update x (``encode(_:rotationSeed:using:)``):
/// 1. clip to L2 norm c (a non-finite norm clips to the zero vector: docs/design.md §2 rule 8);
/// 2. scale by 1/γ and rotate with the shared randomised Hadamard (``RandomizedHadamard``);
/// 3. conditional randomised rounding: round each coordinate up with probability its fractional part,
///    and retry until the rounded vector's norm is at most Δ₂ (each try succeeds with probability
///    ≥ 1 − β; after 1,000 failed tries — probability β^1000 — round towards zero, which never
///    raises the norm);
/// 4. clamp every coordinate to ±B (``DistributedDiscreteGaussianParameters/coordinateBound``);
/// 5. add discrete Gaussian noise of parameter s ≥ σ/(γ·√n) (``DistributedDiscreteGaussianParameters/localStddev``,
///    a short dyadic fraction) to each coordinate with Veil's exact sampler (Canonne, Kamath, Steinke 2020);
/// 6. reduce modulo 2^b.
///
/// Decoding Σ encodings mod 2^b (``decode(_:rotationSeed:)``): map each value to the centred range
/// [−2^(b−1), 2^(b−1)), multiply by γ, unrotate.
public struct DistributedDiscreteGaussian: Sendable {
    public let parameters: DistributedDiscreteGaussianParameters
    @usableFromInline let sampler: DiscreteGaussianSampler
    @usableFromInline static let maximumRoundingTries = 1_000

    public init(parameters: DistributedDiscreteGaussianParameters) throws {
        self.parameters = parameters
        sampler = try DiscreteGaussianSampler(sigma: parameters.localStddev)
    }

    /// The encoding of one client's update, modulo 2^b. `rotationSeed` (32 bytes) is shared by every
    /// client and the server for the round; `source` supplies rounding and noise (production:
    /// ``SecureRandomSource``, or a userspace CSPRNG keyed from it). Inlinable, so that the exact sampler's steps are
    /// compiled for the caller's source type rather than run as generic code (about twice as fast).
    @inlinable
    public func encode<R: RandomSource>(_ update: [Double], rotationSeed: [UInt8], using source: inout R) throws -> [UInt64] {
        guard update.count == parameters.dimension else {
            throw VeilError.invalidParameter("update length", update.count, allowed: "\(parameters.dimension)")
        }
        let rotated = RandomizedHadamard(dimension: parameters.dimension, seed: rotationSeed)
            .rotate(Self.clip(update, to: parameters.clipNorm).map { $0 / parameters.granularity })
        var rounded = Self.roundConditionally(rotated, normBound: parameters.roundedNormBound, using: &source)
        let bound = parameters.coordinateBound
        let bits = Modulus(bitWidth: parameters.bitWidth).bits
        for i in rounded.indices {
            rounded[i] = min(max(rounded[i], -bound), bound) + sampler.sample(using: &source)
        }
        return rounded.map { UInt64(bitPattern: Int64($0)) & bits }
    }

    /// The estimate of Σ updates from their modular sum.
    public func decode(_ sum: [UInt64], rotationSeed: [UInt8]) throws -> [Double] {
        guard sum.count == parameters.paddedDimension else {
            throw VeilError.invalidParameter("sum length", sum.count, allowed: "\(parameters.paddedDimension)")
        }
        let b = UInt64(parameters.bitWidth)
        let centred = sum.map { v -> Double in
            let v = b == 64 ? v : v & ((1 << b) - 1)
            let half: UInt64 = 1 << (b - 1)
            return v >= half ? -Double(b == 64 ? (~v &+ 1) : (1 << b) - v) : Double(v)
        }
        return RandomizedHadamard(dimension: parameters.dimension, seed: rotationSeed)
            .unrotate(centred.map { $0 * parameters.granularity })
    }

    /// `x` scaled down to L2 norm `c` if longer; the zero vector when its norm is not finite.
    @usableFromInline
    static func clip(_ x: [Double], to c: Double) -> [Double] {
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm.isFinite else { return [Double](repeating: 0, count: x.count) }
        return norm > c ? x.map { $0 * (c / norm) } : x
    }

    /// Conditional randomised rounding (Kairouz et al. 2021, Algorithm 1, step 3): unbiased
    /// coordinate-wise rounding, repeated until the L2 norm is at most `normBound`.
    @inlinable
    static func roundConditionally<R: RandomSource>(_ x: [Double], normBound: Double, using source: inout R) -> [Int] {
        let boundSquared = normBound * normBound
        var rounded = [Int](repeating: 0, count: x.count)
        for _ in 0..<maximumRoundingTries {
            var normSquared = 0.0
            for i in x.indices {
                let floor = x[i].rounded(.down)
                let up = Double(source.next() >> 11) * 0x1p-53 < x[i] - floor
                rounded[i] = Int(floor) + (up ? 1 : 0)
                normSquared += Double(rounded[i]) * Double(rounded[i])
            }
            if normSquared <= boundSquared { return rounded }
        }
        // Rounding towards zero never increases |x_i|, so the norm stays ≤ ‖x‖ ≤ c/γ ≤ Δ₂.
        return x.map { Int($0.rounded(.towardZero)) }
    }
}
