import Accounting

/// Exact fixed-point arithmetic for basic composition.
///
/// A declared ε or δ is a `Double`; summing doubles rounds, so 100 charges of ε = 0.1 could exceed a
/// budget of ε = 10 by one unit in the last place and be refused. The ledger therefore reads each
/// amount as the shortest decimal that round-trips its `Double` (Swift's `description`, e.g. `0.1`),
/// and converts that decimal to an integer number of units: ε in units of 10⁻¹² and δ in units of
/// 10⁻¹⁸. Costs round **up** to the next unit and budget limits round **down**, so the integer sums
/// never understate what was spent. The only inexactness left is the difference between a decimal
/// and its nearest `Double` (below 10⁻¹⁶ relative), which is far below any meaningful ε.
public enum FixedPointAmount {
    /// Decimal digits of an ε unit: 1 unit = 10⁻¹² ε.
    public static let epsilonScale = 12
    /// Decimal digits of a δ unit: 1 unit = 10⁻¹⁸ δ.
    public static let deltaScale = 18
    /// The largest ε a budget or a charge may declare (ε · 10¹² must fit comfortably in `Int64`):
    /// ``PrivacyParameters/maximumEpsilon``.
    public static let maximumEpsilon = PrivacyParameters.maximumEpsilon

    /// Whether to round a value that is not a whole number of units up (costs) or down (limits).
    public enum Rounding: Sendable { case up, down }

    /// The number of units of `10^-scale` in `value`, rounded as asked.
    ///
    /// - Parameters:
    ///   - value: a finite, non-negative amount.
    ///   - scale: the number of decimal digits of one unit.
    ///   - rounding: `.up` for costs, `.down` for limits.
    /// - Throws: `invalidParameter` if `value` is negative, not finite, or too large for the scale.
    public static func units(_ value: Double, scale: Int, rounding: Rounding) throws -> Int64 {
        guard value.isFinite, value >= 0 else {
            throw VeilError.invalidParameter("amount", value, allowed: "a finite number ≥ 0")
        }
        if value == 0 { return 0 }
        // Parse the shortest round-trip decimal: digits, optional fraction, optional exponent.
        let text = value.description
        var mantissa = ""
        var fractionDigits = 0
        var exponent = 0
        var seenPoint = false
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "." {
                seenPoint = true
            } else if c == "e" || c == "E" {
                exponent = Int(text[text.index(after: index)...]) ?? 0
                break
            } else if let _ = c.wholeNumberValue {
                mantissa.append(c)
                if seenPoint { fractionDigits += 1 }
            }
            index = text.index(after: index)
        }
        while mantissa.count > 1 && mantissa.first == "0" { mantissa.removeFirst() }
        // value = mantissa · 10^(exponent − fractionDigits); units = value · 10^scale.
        let shift = exponent - fractionDigits + scale
        let tooLarge = VeilError.invalidParameter("amount", value, allowed: "at most \(Int64.max) units of 1e-\(scale)")
        if shift >= 0 {
            var result = Int64(mantissa) ?? 0
            guard mantissa.count <= 18 else { throw tooLarge }
            for _ in 0..<shift {
                let (product, overflow) = result.multipliedReportingOverflow(by: 10)
                guard !overflow else { throw tooLarge }
                result = product
            }
            return result
        }
        // Drop the last −shift digits, rounding as asked.
        let dropped = -shift
        if dropped >= mantissa.count {
            let isZero = mantissa.allSatisfy { $0 == "0" }
            return rounding == .up && !isZero ? 1 : 0
        }
        let kept = mantissa.prefix(mantissa.count - dropped)
        let rest = mantissa.suffix(dropped)
        guard kept.count <= 18, var result = Int64(kept) else { throw tooLarge }
        if rounding == .up && rest.contains(where: { $0 != "0" }) { result += 1 }
        return result
    }

    /// The `Double` nearest to `units · 10^-scale` (correctly rounded through its decimal form).
    public static func value(units: Int64, scale: Int) -> Double {
        Double("\(units)e-\(scale)") ?? Double(units) / pow10(scale)
    }

    /// `units · 10^-scale` written exactly in decimal, without trailing zeros (`"0.1"`, `"10"`, `"0"`).
    public static func decimalString(units: Int64, scale: Int) -> String {
        let negative = units < 0
        var digits = String(units.magnitude)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        var whole = String(digits.prefix(digits.count - scale))
        var fraction = String(digits.suffix(scale))
        while fraction.last == "0" { fraction.removeLast() }
        if whole.isEmpty { whole = "0" }
        return (negative ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }

    private static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= 10 }
        return r
    }
}
