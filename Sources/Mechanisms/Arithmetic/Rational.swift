import BigInt

/// An exact rational number `numerator / denominator` in lowest terms, with a positive denominator.
///
/// Veil converts every noise parameter it samples with (ε, a scale, σ², a score difference) to a
/// `Rational` so that the samplers work with integers only. A finite `Double` is exactly
/// `m · 2^e` for integers `m` and `e`, so ``init(exactly:)`` loses nothing.
public struct Rational: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The numerator; carries the sign.
    public let numerator: BigInt
    /// The denominator, always ≥ 1 and coprime to the numerator.
    public let denominator: BigUInt

    /// Creates `numerator / denominator` in lowest terms.
    ///
    /// - Parameters:
    ///   - numerator: any integer.
    ///   - denominator: a non-zero integer; its sign moves to the numerator.
    public init(_ numerator: BigInt, _ denominator: BigInt) {
        precondition(!denominator.isZero, "Rational denominator must not be zero")
        var n = numerator
        var d = denominator.magnitude
        if denominator.sign == .minus { n.negate() }
        let g = n.magnitude.greatestCommonDivisor(with: d)
        if g > 1 {
            n = BigInt(sign: n.sign, magnitude: n.magnitude / g)
            d /= g
        }
        if n.isZero { d = 1 }
        self.numerator = n
        self.denominator = d
    }

    /// The integer `value`.
    public init(_ value: Int) {
        numerator = BigInt(value)
        denominator = 1
    }

    /// The exact value of a finite `Double` (`m · 2^e`); `nil` for infinities and NaN.
    public init?(exactly value: Double) {
        guard value.isFinite else { return nil }
        if value == 0 {
            self.init(0)
            return
        }
        // |value| = significand · 2^exponent with significand in [1, 2) carrying at most 53 bits.
        let mantissa = UInt64(value.magnitude.significand * 0x1p52)
        let shift = Int(value.exponent) - 52
        var n = BigInt(mantissa)
        if value < 0 { n.negate() }
        if shift >= 0 {
            self.init(n << shift, 1)
        } else {
            self.init(n, BigInt(1) << (-shift))
        }
    }

    /// Zero.
    public static let zero = Rational(0)
    /// One.
    public static let one = Rational(1)

    /// Whether the value is zero.
    public var isZero: Bool { numerator.isZero }
    /// Whether the value is negative.
    public var isNegative: Bool { numerator.sign == .minus && !numerator.isZero }
    /// Whether the value is an integer.
    public var isInteger: Bool { denominator == 1 }

    /// The largest integer ≤ self.
    public var floor: BigInt {
        let (q, r) = numerator.quotientAndRemainder(dividingBy: BigInt(denominator))
        return (isNegative && !r.isZero) ? q - 1 : q
    }

    /// The smallest integer ≥ self.
    public var ceiling: BigInt {
        let f = floor
        return isInteger ? f : f + 1
    }

    /// The nearest `Double` (round to nearest); for display and for floating-point bounds only.
    public var doubleValue: Double {
        if numerator.isZero { return 0 }
        // Keep 64 significant bits of each part so the conversion cannot overflow to inf/inf.
        let nBits = numerator.magnitude.bitWidth
        let dBits = denominator.bitWidth
        let nShift = max(0, nBits - 64)
        let dShift = max(0, dBits - 64)
        let n = Double(numerator.magnitude >> nShift)
        let d = Double(denominator >> dShift)
        let v = (n / d) * Double(sign: .plus, exponent: nShift - dShift, significand: 1)
        return isNegative ? -v : v
    }

    /// `n` for integers, `n/d` otherwise.
    public var description: String { isInteger ? "\(numerator)" : "\(numerator)/\(denominator)" }

    // MARK: Arithmetic

    /// The exact sum.
    public static func + (a: Rational, b: Rational) -> Rational {
        Rational(a.numerator * BigInt(b.denominator) + b.numerator * BigInt(a.denominator),
                 BigInt(a.denominator * b.denominator))
    }

    /// The exact difference.
    public static func - (a: Rational, b: Rational) -> Rational {
        Rational(a.numerator * BigInt(b.denominator) - b.numerator * BigInt(a.denominator),
                 BigInt(a.denominator * b.denominator))
    }

    /// The exact product.
    public static func * (a: Rational, b: Rational) -> Rational {
        Rational(a.numerator * b.numerator, BigInt(a.denominator * b.denominator))
    }

    /// The exact quotient; the divisor must not be zero.
    public static func / (a: Rational, b: Rational) -> Rational {
        precondition(!b.isZero, "Rational division by zero")
        return Rational(a.numerator * BigInt(b.denominator), b.numerator * BigInt(a.denominator))
    }

    /// The negation.
    public static prefix func - (a: Rational) -> Rational { Rational(-a.numerator, BigInt(a.denominator)) }

    /// Exact order by cross-multiplication.
    public static func < (a: Rational, b: Rational) -> Bool {
        a.numerator * BigInt(b.denominator) < b.numerator * BigInt(a.denominator)
    }
}
