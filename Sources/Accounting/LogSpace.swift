import Foundation

/// Arithmetic on numbers stored as their natural logarithms, to add tiny and huge terms without
/// overflow or underflow. `-infinity` stands for zero.
enum LogSpace {
    /// log(eᵃ + eᵇ).
    @inline(__always)
    static func add(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        let (hi, lo) = a >= b ? (a, b) : (b, a)
        return hi + log1p(exp(lo - hi))
    }

    /// log(eᵃ − eᵇ) for a ≥ b; `nil` when a < b (the difference would be negative).
    @inline(__always)
    static func subtract(_ a: Double, _ b: Double) -> Double? {
        if b == -.infinity { return a }
        if a < b { return nil }
        if a == b { return -.infinity }
        return a + log(-expm1(b - a))
    }

    /// log Σ eˣⁱ.
    static func sum(_ values: [Double]) -> Double {
        guard let hi = values.max(), hi > -.infinity else { return -.infinity }
        if hi == .infinity { return .infinity }
        return hi + log(values.reduce(0) { $0 + exp($1 - hi) })
    }
}
