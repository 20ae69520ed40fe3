/// A value released by a noise mechanism, with a confidence interval for the true value and the
/// release's privacy cost.
///
/// The interval is computed from the noise distribution alone (never from the data), so it is
/// itself private: with probability at least ``confidenceLevel`` over the noise, the true value lies
/// in ``interval``.
public struct NoisyRelease<Value: Comparable & Sendable>: Sendable {
    /// The noisy value.
    public let value: Value
    /// An interval that contains the true value with probability ≥ ``confidenceLevel``.
    public let interval: ClosedRange<Value>
    /// The confidence level of ``interval``, in (0, 1).
    public let confidenceLevel: Double
    /// The privacy cost of this release.
    public let event: DPEvent

    /// Creates a release record.
    public init(value: Value, interval: ClosedRange<Value>, confidenceLevel: Double, event: DPEvent) {
        self.value = value
        self.interval = interval
        self.confidenceLevel = confidenceLevel
        self.event = event
    }
}

extension NoisyRelease: Equatable where Value: Equatable {}
extension NoisyRelease: Hashable where Value: Hashable {}
extension NoisyRelease: Codable where Value: Codable {}

// MARK: - Helpers shared by the noise mechanisms

enum ReleaseArithmetic {
    /// `value + noise`, saturated to the range of `Int` (post-processing of the exact sum).
    static func add(_ value: Int, _ noise: Int) -> Int {
        let sum = Int128(value) + Int128(noise)
        return Int(clamping: sum)
    }

    /// The interval `[center − halfWidth, center + halfWidth]`, saturated to the range of `Int`.
    static func interval(around center: Int, halfWidth: Int) -> ClosedRange<Int> {
        Int(clamping: Int128(center) - Int128(halfWidth))...Int(clamping: Int128(center) + Int128(halfWidth))
    }

    /// The smallest number ≥ `value` with at most `bits` significant bits.
    static func roundUp(_ value: Double, significantBits bits: Int) -> Double {
        let step = Double(sign: .plus, exponent: value.exponent - (bits - 1), significand: 1)
        return (value / step).rounded(.up) * step
    }

    /// The smallest discrete Laplace scale with 40 significant bits that is ≥ Δ/ε exactly, so
    /// that `Δ/scale ≤ ε` holds in exact arithmetic.
    ///
    /// - Throws: ``VeilError`` (`invalid_parameter`) if ε is not a positive finite number or Δ/ε exceeds
    ///   ``NoiseQuantile/maximumScale`` (2^52, the largest scale the sampler accepts), e.g. ε = 1e−320.
    static func laplaceScale(sensitivity: Int, epsilon: Double) throws -> Double {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.integerSensitivity(sensitivity)
        let ratio = Double(sensitivity) / epsilon
        guard ratio <= NoiseQuantile.maximumScale else {
            throw VeilError.invalidParameter(
                "epsilon", epsilon,
                allowed: "large enough that the discrete Laplace scale Δ/ε (Δ = \(sensitivity), Δ/ε = \(ratio)) is at "
                    + "most 2^52")
        }
        guard let exactEpsilon = Rational(exactly: epsilon) else {
            throw VeilError.invalidParameter("epsilon", epsilon, allowed: "a finite number > 0")
        }
        let target = Rational(sensitivity)
        var scale = roundUp(ratio, significantBits: 40)
        while let exactScale = Rational(exactly: scale), exactScale * exactEpsilon < target {
            scale = roundUp(scale.nextUp, significantBits: 40)
        }
        return scale
    }
}
