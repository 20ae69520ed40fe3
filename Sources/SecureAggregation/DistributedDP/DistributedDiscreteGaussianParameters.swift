import Foundation
import Mechanisms

/// The public parameters of the distributed discrete Gaussian mechanism (Kairouz, Liu, Steinke 2021,
/// "The Distributed Discrete Gaussian Mechanism for Federated Learning with Secure Aggregation"),
/// checked when they are made: the initializer refuses any combination whose modular sum could wrap
/// around with probability above ``overflowProbability``.
public struct DistributedDiscreteGaussianParameters: Sendable, Hashable {
    /// Length of a client's update.
    public let dimension: Int
    /// The rotated dimension d (a power of two ≥ dimension).
    public let paddedDimension: Int
    /// L2 clipping norm c of an update, in the update's units.
    public let clipNorm: Double
    /// Granularity γ: an update is scaled by 1/γ before rounding to integers.
    public let granularity: Double
    /// Conditional-rounding parameter β ∈ [0, 1).
    public let beta: Double
    /// Standard deviation σ of the noise in the sum, in the update's units: each of `clients` clients
    /// adds discrete Gaussian noise of variance σ²/(γ²·clients) per coordinate, in integer units (at least:
    /// rounded up as ``localStddev`` says).
    public let noiseStddev: Double
    /// Clients that encode an update for one sum (the noise is split among them).
    public let clients: Int
    /// The sum is taken modulo 2^bitWidth.
    public let bitWidth: Int
    /// Bound on the probability that the round's modular sum wraps around (or a coordinate is clamped).
    public let overflowProbability: Double

    /// The per-client noise standard deviation in integer units, s ≥ σ/(γ·√clients): that value rounded up to a
    /// dyadic rational p/2^f with p < 2^30 (``samplerStddev(coveringVariance:)``), so that the clients' exact
    /// sampler (``DiscreteGaussianSampler/init(sigma:)``, t = s) runs on 64-bit words. Rounding up adds at most
    /// 2^−29 of relative noise; the accounting uses this s, the noise actually drawn.
    public let localStddev: Rational
    /// The per-client noise variance in integer units, s² ≥ σ²/(γ²·clients), exactly.
    public let localVariance: Rational
    /// Δ₂: every rounded update has L2 norm at most this, in integer units (Kairouz et al. 2021,
    /// Theorem 1 / Proposition 22): min{ c/γ + √d, √(c²/γ² + d/4 + √(2 log(1/β))·(c/γ + √d/2)) },
    /// the second term only when β > 0.
    public let roundedNormBound: Double
    /// Every coordinate of a rounded update is clamped to [−B, B], B = min(⌊Δ₂⌋, ⌈(c/γ)·√(2 log(2d/p)/d)⌉ + 1)
    /// with p = ``overflowProbability``. After the rotation a coordinate exceeds (c/γ)·√(2 log(2d/p)/d)
    /// with probability at most p/d (sub-Gaussian tail, union over d coordinates), so clamping
    /// changes nothing with probability ≥ 1 − p; it never raises a norm, so Δ₂ still bounds the
    /// contribution, and it bounds the sum of the updates deterministically by clients · B.
    public let coordinateBound: Int
    /// z such that every coordinate of the summed noise lies in [−z, z] with probability ≥ 1 − p:
    /// the sum of `clients` discrete Gaussians of variance s² is sub-Gaussian with variance
    /// clients·s² (Canonne, Kamath, Steinke 2020, the discrete Gaussian is s²-sub-Gaussian), so
    /// z = √(2·clients·s²·log(2d/p)) by a union bound over the d coordinates.
    public let noiseBound: Double

    /// - Throws: ``VeilError`` (`invalid_parameter`) for a value out of range, or when
    ///   clients · B + z ≥ 2^(b−1): then the modulus could be exceeded with probability above p, and
    ///   the parameters are refused rather than risking a silent wrap-around (reduce γ's resolution, the
    ///   noise or the number of clients, or add bits).
    public init(dimension: Int, clipNorm: Double, granularity: Double, beta: Double = exp(-0.5), noiseStddev: Double,
                clients: Int, bitWidth: Int, overflowProbability: Double = 1e-9) throws {
        try ParameterCheck.count(dimension, name: "dimension", minimum: 1)
        try ParameterCheck.positive(clipNorm, name: "clip norm")
        try ParameterCheck.positive(granularity, name: "granularity")
        guard beta.isFinite, beta >= 0, beta < 1 else {
            throw VeilError.invalidParameter("beta", beta, allowed: "in [0, 1)")
        }
        try ParameterCheck.positive(noiseStddev, name: "noise stddev")
        try ParameterCheck.count(clients, name: "clients", minimum: 1)
        guard (2...64).contains(bitWidth) else { throw VeilError.invalidParameter("bit width", bitWidth, allowed: "in 2 ... 64") }
        guard overflowProbability.isFinite, overflowProbability > 0, overflowProbability < 1 else {
            throw VeilError.invalidParameter("overflow probability", overflowProbability, allowed: "in (0, 1)")
        }
        var padded = 1
        while padded < dimension { padded <<= 1 }
        self.dimension = dimension
        self.paddedDimension = padded
        self.clipNorm = clipNorm
        self.granularity = granularity
        self.beta = beta
        self.noiseStddev = noiseStddev
        self.clients = clients
        self.bitWidth = bitWidth
        self.overflowProbability = overflowProbability

        let scaledSigma = Rational(exactly: noiseStddev)! / Rational(exactly: granularity)!
        let requestedVariance = scaledSigma * scaledSigma / Rational(clients)
        guard !requestedVariance.isZero, requestedVariance <= Rational(1 << 60),
              requestedVariance.doubleValue >= 0x1p-100 else {
            throw VeilError.invalidParameter("noise stddev / granularity", noiseStddev / granularity,
                                             allowed: "a per-client variance in [2^-100, 2^60] integer units")
        }
        localStddev = Self.samplerStddev(coveringVariance: requestedVariance)
        localVariance = localStddev * localStddev
        let d = Double(padded), c = clipNorm / granularity
        // Scaled coordinates and norms must stay exact integers in a Double (and in an Int).
        guard c + d.squareRoot() <= 0x1p52 else {
            throw VeilError.invalidParameter("clip norm / granularity", c, allowed: "at most 2^52 − √d")
        }
        roundedNormBound = Self.roundedNormBound(scaledClipNorm: c, beta: beta, dimension: padded)
        let flat = c * (2 * log(2 * d / overflowProbability) / d).squareRoot()
        coordinateBound = Int(min(roundedNormBound.rounded(.down), flat.rounded(.up) + 1))
        let s2 = localVariance.doubleValue
        noiseBound = (2 * Double(clients) * s2 * log(2 * d / overflowProbability)).squareRoot()
        let reach = Double(clients) * Double(coordinateBound) + noiseBound
        guard reach.isFinite, reach < Double(sign: .plus, exponent: bitWidth - 1, significand: 1) - 1 else {
            throw VeilError.invalidParameter(
                "bit width", bitWidth,
                allowed: "enough for the sum: \(clients) clients × \(coordinateBound) + noise bound \(Int(noiseBound.rounded(.up))) must stay below 2^\(bitWidth - 1), or the modulus could be exceeded with probability above \(overflowProbability)")
        }
    }

    /// The smallest p/2^f ≥ √`variance` with f = max(0, 29 − ⌊log₂ √variance⌋) (so p < 2^30 when the variance is at
    /// most 2^60): the exact discrete Gaussian sampler's cost depends on the length of its parameter's fraction —
    /// with σ² an arbitrary quotient of `Double`s its acceptance test needs arbitrary-precision integers at every
    /// draw, with p/2^f it stays in 64-bit words (128 bits for rare large draws) — and its distribution only on the
    /// value. Rounding up never lowers the noise; the square is compared exactly, not in floating point.
    public static func samplerStddev(coveringVariance variance: Rational) -> Rational {
        precondition(!variance.isZero && !variance.isNegative && variance <= Rational(1 << 60))
        let approximate = variance.doubleValue.squareRoot()
        // A variance below Double's normal range (refused by the initializer) takes the finest scale.
        let f = approximate.isNormal ? min(62, max(0, 29 - approximate.exponent)) : 62
        let scale = Rational(1 << f)
        func value(_ p: Int) -> Rational { Rational(p) / scale }
        var p = Int(max(1, (approximate * Double(sign: .plus, exponent: f, significand: 1)).rounded(.up)))
        // The Double estimate is at most a few units off: step down while still covering, then up until covering.
        while p > 1, value(p - 1) * value(p - 1) >= variance { p -= 1 }
        while value(p) * value(p) < variance { p += 1 }
        return value(p)
    }

    /// Δ₂ of Kairouz et al. 2021, Theorem 1: the L2 norm bound after conditional randomised rounding
    /// of a vector of norm ≤ `scaledClipNorm` in `dimension` coordinates.
    public static func roundedNormBound(scaledClipNorm c: Double, beta: Double, dimension: Int) -> Double {
        let d = Double(dimension)
        let plain = c + d.squareRoot()
        guard beta > 0 else { return plain }
        let conditional = (c * c + d / 4 + (2 * log(1 / beta)).squareRoot() * (c + d.squareRoot() / 2)).squareRoot()
        return min(plain, conditional)
    }
}
