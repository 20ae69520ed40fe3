import CGSL
import Foundation
import Mechanisms

/// Noise half-widths of a plan's quantities at the levels its confidence intervals need. They depend on the
/// noise distributions only, never on the data.
struct IntervalWidths: Sendable {
    /// The confidence level of the released intervals.
    let level: Double
    /// Per quantity: half-width at `level` (one quantity per interval: counts, sums).
    let single: [Int]
    /// Per quantity: half-width at `1 − (1 − level)/2` (two quantities per interval: AVG, Bonferroni).
    let pair: [Int]
    /// Per quantity: half-width at `1 − (1 − level)/3` (three quantities: VARIANCE, STDDEV, Bonferroni).
    let triple: [Int]
    /// Per histogram quantity: an approximate half-width of the noise summed over all bins (normal approximation,
    /// `z · √(bins · variance)`), 0 for other quantities.
    let histogramTotal: [Int]

    init(plan: QueryPlan, level: Double) throws {
        try ParameterCheck.confidenceLevel(level)
        self.level = level
        let alpha = 1 - level
        single = try plan.quantities.map { try $0.noiseHalfWidth(level: level) }
        pair = try plan.quantities.map { try $0.noiseHalfWidth(level: 1 - alpha / 2) }
        triple = try plan.quantities.map { try $0.noiseHalfWidth(level: 1 - alpha / 3) }
        let z = gsl_cdf_ugaussian_Qinv(alpha / 2)
        histogramTotal = plan.quantities.map { q in
            q.dimension > 1 ? Int((z * (Double(q.dimension) * q.noiseVariance).squareRoot()).rounded(.up)) : 0
        }
    }
}

extension QueryPlan {
    /// The confidence interval of every aggregate in one noisy group, in the aggregate's units.
    ///
    /// - `COUNT`: `[n − h, n + h]` intersected with `[0, ∞)`, `h` the noise half-width at the level (exact).
    /// - `SUM`: `[g(n − h − ½), g(n + h + ½)]` on a grid `g < 1` (the extra half covers the rounding of the true
    ///   value to the grid), `[n − h, n + h]` on the integer grid (exact).
    /// - `AVG`: the count C and centred sum S each get an interval at level `1 − α/2` (Bonferroni), and the interval
    ///   is `mid + [min, max]` of S/C over that box, clamped to `[L, U]`; `[L, U]` when C's interval reaches below 1.
    ///   It covers the mean of the clamped, contribution-bounded values at the stated level or more.
    /// - `VARIANCE`, `STDDEV`: C, S and the centred sum of squares Q each at `1 − α/3`; the interval is
    ///   `[Q/C − (S/C)²]` minimised and maximised over the box, clamped to `[0, half²]` (square roots for STDDEV).
    /// - `PERCENTILE`: approximate: the ranks `p·N ± W` are located in the noisy histogram, W the normal
    ///   approximation of the half-width of the noise summed over all bins; the interval runs from the lower edge
    ///   of the first rank's bin to the upper edge of the second's.
    ///
    /// The intervals concern the quantities Veil estimates (clamped values, bounded contributions); they are
    /// approximate for the raw statistics when clamping or bounding changes the data.
    func aggregateIntervals(_ group: NoisyGroup, widths: IntervalWidths) -> [ClosedRange<Double>?] {
        aggregates.map { aggregate in interval(aggregate, group, widths) }
    }

    /// The interval `[g(n − h − r), g(n + h + r)]` of quantity `index` (r = ½ on a grid finer than 1).
    private func quantityInterval(_ index: Int, _ group: NoisyGroup, halfWidth h: Int) -> ClosedRange<Double> {
        let q = quantities[index]
        let n = Double(group.values[index][0])
        let rounding = q.granularity == 1 ? 0 : 0.5
        return q.granularity * (n - Double(h) - rounding)...q.granularity * (n + Double(h) + rounding)
    }

    private func interval(_ aggregate: PlannedAggregate, _ group: NoisyGroup,
                          _ widths: IntervalWidths) -> ClosedRange<Double>? {
        let bounds = aggregate.bounds ?? 0...0
        let mid = (bounds.lowerBound + bounds.upperBound) / 2
        let half = (bounds.upperBound - bounds.lowerBound) / 2
        let indices = aggregate.quantities
        switch aggregate.function {
        case .countRows, .countColumn, .countDistinctUnits:
            let r = quantityInterval(indices[0], group, halfWidth: widths.single[indices[0]])
            return max(0, r.lowerBound)...max(0, r.upperBound)
        case .sum:
            return quantityInterval(indices[0], group, halfWidth: widths.single[indices[0]])
        case .average:
            let c = quantityInterval(indices[0], group, halfWidth: widths.pair[indices[0]])
            let s = quantityInterval(indices[1], group, halfWidth: widths.pair[indices[1]])
            guard c.lowerBound >= 1 else { return bounds }
            let ratios = [s.lowerBound / c.lowerBound, s.lowerBound / c.upperBound,
                          s.upperBound / c.lowerBound, s.upperBound / c.upperBound]
            let low = min(bounds.upperBound, max(bounds.lowerBound, mid + ratios.min()!))
            let high = min(bounds.upperBound, max(bounds.lowerBound, mid + ratios.max()!))
            return low...high
        case .variance, .standardDeviation:
            let c = quantityInterval(indices[0], group, halfWidth: widths.triple[indices[0]])
            let s = quantityInterval(indices[1], group, halfWidth: widths.triple[indices[1]])
            let q = quantityInterval(indices[2], group, halfWidth: widths.triple[indices[2]])
            var low = 0.0, high = half * half
            if c.lowerBound >= 1 {
                let ratios = [s.lowerBound / c.lowerBound, s.lowerBound / c.upperBound,
                              s.upperBound / c.lowerBound, s.upperBound / c.upperBound]
                let dLow = ratios.min()!, dHigh = ratios.max()!
                let minSquare = dLow <= 0 && dHigh >= 0 ? 0 : min(dLow * dLow, dHigh * dHigh)
                let maxSquare = max(dLow * dLow, dHigh * dHigh)
                let qLow = max(0, q.lowerBound), qHigh = max(0, q.upperBound)
                low = min(half * half, max(0, qLow / c.upperBound - maxSquare))
                high = min(half * half, max(0, qHigh / c.lowerBound - minSquare))
                if high < low { high = low }
            }
            if case .standardDeviation = aggregate.function { return low.squareRoot()...high.squareRoot() }
            return low...high
        case .percentile(_, let p):
            let q = quantities[indices[0]]
            guard case .histogram(_, let bins, let lower, let upper) = q.kind else { return nil }
            let counts = group.values[q.index].map { Double(max(0, $0)) }
            let total = counts.reduce(0, +)
            guard total > 0 else { return lower...upper }
            let w = Double(widths.histogramTotal[q.index])
            let width = (upper - lower) / Double(bins)
            /// The bin in which the cumulative noisy count first reaches `rank`.
            func bin(atRank rank: Double) -> Int {
                var cumulative = 0.0
                for (index, count) in counts.enumerated() {
                    cumulative += count
                    if cumulative >= rank { return index }
                }
                return bins - 1
            }
            let first = bin(atRank: max(0, p * total - w))
            let last = bin(atRank: min(total, p * total + w))
            return lower + Double(first) * width...min(upper, lower + Double(last + 1) * width)
        }
    }
}
