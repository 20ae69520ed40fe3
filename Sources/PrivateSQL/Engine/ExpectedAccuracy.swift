import Foundation
import Mechanisms

/// What the noise alone does to one output column's confidence interval, known from the plan before any data is
/// read (the noise distributions depend on the bounds and ε only).
public enum ExpectedHalfWidth: Hashable, Sendable {
    /// Exactly this half-width in the column's units: `COUNT` and `SUM` (the noise's quantile at the level, plus
    /// half a grid step for the rounding of a real-valued sum).
    case exact(Double)
    /// About this value divided by n, the group's number of counted values: `AVG`, whose interval is
    /// (h_S + |mean − mid|·h_N)/n for large n, at most (h_S + half·h_N)/n (noise half-widths at the Bonferroni
    /// level 1 − α/2, as the released interval uses).
    case perCount(Double)
    /// No data-independent figure: a key, `VARIANCE`, `STDDEV`, a percentile, or an expression.
    case dataDependent
}

extension QueryPlan {
    /// Each output column's expected half-width at `level` (``ExpectedHalfWidth``), in ``outputs`` order.
    /// - Throws: ``VeilError`` (`invalid_parameter`) for a level outside (0, 1).
    public func expectedHalfWidths(level: Double = 0.95) throws -> [ExpectedHalfWidth] {
        // The same noise half-widths the released intervals use (``IntervalWidths``), so the two cannot drift apart.
        let widths = try IntervalWidths(plan: self, level: level)
        return outputs.map { output in
            guard case .aggregate(let a) = output.expression else { return .dataDependent }
            let aggregate = aggregates[a]
            switch aggregate.function {
            case .countRows, .countColumn, .countDistinctUnits, .sum:
                let index = aggregate.quantities[0]
                let q = quantities[index]
                let rounding = q.granularity == 1 ? 0 : 0.5
                return .exact(q.granularity * (Double(widths.single[index]) + rounding))
            case .average:
                let count = aggregate.quantities[0], sum = aggregate.quantities[1]
                let half = aggregate.bounds.map { ($0.upperBound - $0.lowerBound) / 2 } ?? 0
                return .perCount(quantities[sum].granularity * Double(widths.pair[sum])
                                 + half * quantities[count].granularity * Double(widths.pair[count]))
            default:
                return .dataDependent
            }
        }
    }

    /// The largest exact half-width among the output columns, or `nil` when none has one.
    public func largestExactHalfWidth(level: Double = 0.95) throws -> Double? {
        try expectedHalfWidths(level: level).compactMap { if case .exact(let h) = $0 { h } else { nil } }.max()
    }
}

/// The smallest ε at which every output column with an exact expected half-width (``ExpectedHalfWidth/exact(_:)``)
/// meets a target, found from plans alone: no data is read and nothing is charged.
public enum TargetErrorSearch {
    /// The smallest ε, rounded up to 3 significant digits, whose plan (`planAt(ε)`) gives every exact output
    /// column a half-width at most `target` at `level`; the half-widths shrink as ε grows (each noise scale is
    /// Δ/εᵢ with εᵢ a fixed fraction of ε), so a bisection on log ε finds it.
    /// - Throws: ``VeilError`` (`invalid_parameter`) when no column has an exact half-width, when the target is
    ///   not a positive finite number, or when even ε = `maximumEpsilon` misses it; errors of `planAt`.
    public static func smallestEpsilon(target: Double, level: Double = 0.95, maximumEpsilon: Double = 1000,
                                       planAt: (Double) throws -> QueryPlan) throws -> Double {
        guard target.isFinite, target > 0 else {
            throw VeilError(.invalidParameter, "the target error must be a positive number, got \(target)")
        }
        func meets(_ epsilon: Double) throws -> Bool {
            guard let h = try planAt(epsilon).largestExactHalfWidth(level: level) else {
                throw VeilError(.invalidParameter, "no output column has an error known before the data is read "
                                + "(COUNT or SUM); a target error needs one")
            }
            return h <= target
        }
        guard try meets(maximumEpsilon) else {
            throw VeilError(.invalidParameter, "even ε = \(maximumEpsilon) gives a half-width above \(target): "
                            + "widen the target, or declare tighter bounds")
        }
        var low = 1e-9, high = maximumEpsilon
        if try meets(low) { high = low }
        for _ in 0..<80 where high / low > 1 + 1e-6 {
            let middle = (low * high).squareRoot()
            if try meets(middle) { high = middle } else { low = middle }
        }
        // Three significant digits, rounded up, then checked (the rounding moves ε up, never below the answer).
        // The decimal k·10^e is parsed, as the ledger reads amounts by their shortest decimal.
        let exponent = Int((log10(high)).rounded(.down)) - 2
        var digits = Int((high / pow(10, Double(exponent))).rounded(.up))
        var epsilon = Double("\(digits)e\(exponent)") ?? high
        if epsilon < high {
            digits += 1
            epsilon = Double("\(digits)e\(exponent)") ?? high
        }
        return try meets(epsilon) ? epsilon : high
    }
}
