/// A power-of-two grid `g = 2^exponent` on which real-valued queries are released.
///
/// Real-valued releases never add floating-point noise (docs/design.md §2 rule 1). Following Google's
/// "Secure Noise Generation" note, the true value `x` is rounded to the nearest multiple `g·k`, an
/// integer noise `Z` is drawn exactly, and `g·(k + Z)` is released. Scaling by a power of two is exact
/// in binary floating point, so the released value carries no information beyond `k + Z`.
///
/// Rounding moves each value by at most `g/2`, so two neighbouring inputs whose values differ by at
/// most Δ give grid indices differing by at most `Δ/g + 1`; as an integer this is `⌊Δ/g⌋ + 1`, the
/// sensitivity in units of `g` that the privacy event must use (``integerSensitivity(_:)``).
public struct Granularity: Hashable, Sendable, Codable {
    /// The exponent: `g = 2^exponent`.
    public let exponent: Int

    /// Default number of bits of integer noise scale: `g ≈ scale / 2^20`.
    public static let defaultNoiseBits = 20

    /// The grid `2^exponent`.
    ///
    /// - Parameter exponent: an integer in −1000 … 1000.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if the exponent is out of range.
    public init(exponent: Int) throws {
        guard (-1000...1000).contains(exponent) else {
            throw VeilError.invalidParameter("granularity exponent", exponent, allowed: "an integer in -1000...1000")
        }
        self.exponent = exponent
    }

    /// The grid for a noise scale (Laplace scale or Gaussian σ in real units):
    /// `g = 2^(⌈log2(scale)⌉ − bits)`, so the integer noise scale is about `2^bits`.
    ///
    /// - Parameters:
    ///   - scale: the real noise scale, finite and > 0.
    ///   - bits: the target number of bits of the integer noise scale (default 20).
    /// - Throws: ``VeilError`` (`invalid_parameter`) if the scale is not a positive finite number.
    public init(noiseScale scale: Double, bits: Int = Granularity.defaultNoiseBits) throws {
        try ParameterCheck.positive(scale, name: "noise scale")
        let ceilLog2 = Int(scale.exponent) + (scale.significand == 1 ? 0 : 1)
        try self.init(exponent: ceilLog2 - bits)
    }

    /// The grid spacing `g` as a `Double` (exact).
    public var value: Double { Double(sign: .plus, exponent: exponent, significand: 1) }

    /// The sensitivity in units of `g` after rounding: `⌊Δ/g⌋ + 1`.
    ///
    /// - Parameter sensitivity: Δ in real units, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if Δ is not positive and finite, or Δ/g ≥ 2^52.
    public func integerSensitivity(_ sensitivity: Double) throws -> Int {
        try ParameterCheck.sensitivity(sensitivity)
        let units = (sensitivity / value).rounded(.down)
        guard units < 0x1p52 else {
            throw VeilError.invalidParameter("sensitivity", sensitivity,
                                             allowed: "below 2^52 grid units (\(value) each)")
        }
        return Int(units) + 1
    }

    /// The index `k` of the nearest multiple `g·k` of the grid (ties to even).
    ///
    /// - Parameter x: a finite value with `|x/g| < 2^62`.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `x` is not finite or too large for the grid.
    public func index(of x: Double) throws -> Int {
        guard x.isFinite else {
            throw VeilError.invalidParameter("value", x, allowed: "a finite number")
        }
        let scaled = (x / value).rounded(.toNearestOrEven)
        guard scaled.magnitude < 0x1p62 else {
            throw VeilError.invalidParameter("value", x, allowed: "of magnitude below 2^62 grid units (\(value) each)")
        }
        return Int(scaled)
    }

    /// The real value `g·k` of a grid index.
    public func value(ofIndex k: Int) -> Double { Double(k) * value }
}
