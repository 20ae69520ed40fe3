import Accounting
import Foundation
import Mechanisms

/// The sensitivities of the plan's noisy quantities (see the table of ``NoisyQuantity``), their grids, and the
/// split of the query's budget across them.
extension PlanBuilder {
    /// Sensitivities from the bounds, granularity, and each quantity's share of ε (``BudgetSplit``: by its effect
    /// on the aggregates' error, with the aggregates' `weights`).
    ///
    /// With `rho` (Gaussian noise), quantity i receives ρᵢ (``BudgetSplit/rhoShares(_:)``) and σ = ⌈Δ₂⌉/√(2ρᵢ) in
    /// grid units, rounded up to 12 significant bits (``DiscreteGaussianMechanism/init(rho:sensitivity:confidenceLevel:)``).
    func makeQuantities(budget: PrivacyParameters, effectiveK: Int, rho: Double?,
                        weights: [Double]? = nil) throws(QueryError) -> [NoisyQuantity] {
        let m = Double(table.maxRowsPerPartition)
        let split = BudgetSplit(quantityCount: quantityKinds.count, aggregates: aggregates, weights: weights)
        let epsilonShares = split.epsilonShares(budget.epsilon)
        let rhoShares = rho.map { split.rhoShares($0) }
        return try quantityKinds.enumerated().map { (index, kind) throws(QueryError) -> NoisyQuantity in
            let epsilonShare = epsilonShares[index]
            let rhoShare = rhoShares?[index]
            var bound: Double          // per-partition bound in value units
            var perRow: Double?        // what one row adds to that bound (nil: a per-group constant)
            var integral = true        // contributions are integers (granularity 1)
            var dimension = 1
            switch kind {
            case .rowCount, .nonNullCount: perRow = 1
            case .unitCount: perRow = nil
            case .sum(let c):
                perRow = max(abs(c.bounds.lowerBound), abs(c.bounds.upperBound))
                integral = c.integerValued
            case .centeredSum(let c, _):
                perRow = (c.bounds.upperBound - c.bounds.lowerBound) / 2
                integral = false
            case .centeredSumOfSquares(let c, _):
                perRow = c.halfWidth * c.halfWidth
                integral = false
            case .histogram(_, let bins, _, _):
                perRow = 1
                dimension = bins
            }
            bound = perRow.map { m * $0 } ?? 1
            let granularity: Double
            if integral {
                granularity = 1
            } else if let rhoShare {
                // The grid is at most 2^−20 of σ in value units (√k · bound / √(2ρᵢ)).
                granularity = Self.granularity(l1Bound: Double(effectiveK).squareRoot() * bound,
                                               epsilon: (2 * rhoShare).squareRoot())
            } else {
                granularity = Self.granularity(l1Bound: Double(effectiveK) * bound, epsilon: epsilonShare)
            }
            // Sensitivities in grid units, checked: a bound (or k·m·bound) of 2^62 grid units or more cannot be
            // calibrated and is refused rather than converted or multiplied with overflow.
            let uncalibrated = QueryError(.invalidParameter, "the noise for \(kind) cannot be calibrated: its "
                                          + "sensitivity (k = \(effectiveK) groups × m = \(table.maxRowsPerPartition) "
                                          + "rows × the column's bounds) is 2^62 grid units or more; declare tighter "
                                          + "bounds or contribution limits in \(metadata.source)",
                                          at: nil, in: statement.text)
            let units = (bound / granularity).rounded(.up)
            guard units < 0x1p62 else { throw uncalibrated }
            let partitionSensitivity = max(1, Int(units))
            var (l1, overflow) = effectiveK.multipliedReportingOverflow(by: partitionSensitivity)
            guard !overflow, var l2 = Self.integerL2Sensitivity(k: effectiveK, partitionSensitivity: partitionSensitivity)
            else { throw uncalibrated }
            var realL2 = Double(effectiveK).squareRoot() * Double(partitionSensitivity)
            if let totalRows = table.maxRowsPerUnit, let perRow {
                let tighter = Self.totalRowsSensitivities(
                    k: effectiveK, m: table.maxRowsPerPartition, totalRows: totalRows,
                    partitionSensitivity: partitionSensitivity,
                    integralRowUnits: integral && granularity == 1 && perRow == perRow.rounded() ? Int(exactly: perRow) : nil,
                    rowUnits: perRow / granularity)
                if let tighter {
                    l1 = min(l1, tighter.l1)
                    if tighter.l2 < l2 {
                        l2 = tighter.l2
                        realL2 = tighter.realL2
                    }
                }
            }
            // The mechanisms calibrate exactly (scale rounded up so that Δ/b ≤ ε holds); a share they cannot
            // calibrate refuses the query rather than fall back to an unrounded scale.
            let laplaceScale: Double
            let noise: NoisyQuantity.Noise
            do {
                laplaceScale = try DiscreteLaplaceMechanism(epsilon: epsilonShare, sensitivity: l1).scale
                if let rhoShare {
                    let sigma = try DiscreteGaussianMechanism(rho: rhoShare, sensitivity: l2).sigma
                    noise = .discreteGaussian(sigma: sigma, sensitivity: l2)
                } else {
                    noise = .discreteLaplace(scale: laplaceScale)
                }
            } catch {
                throw QueryError(.invalidParameter, "the noise for \(kind) cannot be calibrated at ε share "
                                 + "\(epsilonShare): \(error)", at: nil, in: statement.text)
            }
            if let refusal = FiniteArithmeticBounds.refusal(for: kind) {
                throw QueryError(.invalidParameter, refusal, at: nil, in: statement.text)
            }
            return NoisyQuantity(index: index, kind: kind, dimension: dimension, granularity: granularity,
                                 partitionSensitivity: partitionSensitivity,
                                 l1Sensitivity: l1,
                                 l2Sensitivity: realL2,
                                 epsilon: epsilonShare, laplaceScale: laplaceScale, noise: noise)
        }
    }

    /// The L1 and L2 sensitivities, in grid units, of a quantity whose per-group contribution grows with the
    /// unit's rows in that group, when a unit keeps at most `totalRows` rows in all (R, `max_rows_per_unit`), at
    /// most k groups and counts at most m rows per group (k and m already capped at R by the metadata). A unit
    /// keeping n_g rows in group g contributes |c_g| ≤ ⌈min(n_g, m)·u⌉ grid units there (u: one row's bound in
    /// grid units, `rowUnits`), with Σ n_g ≤ R over at most k groups (the bounds of Amin et al., "Bounding User
    /// Contributions", ICML 2019, and Wilson et al., "Differentially Private SQL with Bounded User
    /// Contribution", PoPETs 2020, taken together):
    ///
    /// - L1 = Σ|c_g| ≤ min(k·s, R·u) when u is a whole number of grid units (counts, integer sums), where
    ///   s = ⌈m·u⌉ is the per-group sensitivity; otherwise the rounding up adds less than one unit per group:
    ///   Σ|c_g| < R·u + k, so L1 ≤ min(k·s, ⌈R·u⌉ + k − 1).
    /// - L2² = Σ c_g². For whole u, c_g = n_g·u and x ↦ x² is convex, so the sum is largest when the rows fill
    ///   groups to m one after another (Karamata's inequality: that vector majorises every other feasible one):
    ///   L2² ≤ u²·(min(q, k)·m² + [q < k]·r²) with R = q·m + r. In every case
    ///   Σ c_g² ≤ (max_g |c_g|)·Σ|c_g| ≤ s·L1, which is used when u is fractional.
    ///
    /// Returns `nil` when a bound overflows (the k·m bounds then stand alone).
    static func totalRowsSensitivities(k: Int, m: Int, totalRows r: Int, partitionSensitivity s: Int,
                                       integralRowUnits: Int?, rowUnits u: Double)
        -> (l1: Int, l2: Int, realL2: Double)? {
        guard k >= 1, m >= 1, r >= 1, s >= 1 else { return nil }
        let (ks, ksOverflow) = k.multipliedReportingOverflow(by: s)
        guard !ksOverflow else { return nil }
        if let whole = integralRowUnits {
            let (rowsL1, overflow) = r.multipliedReportingOverflow(by: whole)
            guard !overflow else { return nil }
            let l1 = max(1, min(ks, rowsL1))
            let q = r / m, rest = r % m
            let fullGroups = Int128(min(q, k))
            let perGroup = Int128(m) * Int128(whole)
            // Every term is below 2^124 (m·u and r·u fit in 62 bits), so only the product by the group count
            // can overflow; s·L1 (below 2^124) caps the square either way.
            let cap = Int128(s) * Int128(l1)
            let (filled, filledOverflow) = fullGroups.multipliedReportingOverflow(by: perGroup * perGroup)
            var square = filledOverflow ? cap : min(cap, filled)
            if q < k { square = min(cap, square + Int128(rest) * Int128(whole) * Int128(rest) * Int128(whole)) }
            guard let l2 = ceilSquareRoot(square) else { return nil }
            return (l1, l2, Double(square).squareRoot())
        }
        let rowsTotal = (Double(r) * u).rounded(.up)
        guard rowsTotal < 0x1p62 else { return nil }
        let (rowsL1, overflow) = Int(rowsTotal).addingReportingOverflow(k - 1)
        guard !overflow else { return nil }
        let l1 = max(1, min(ks, rowsL1))
        let square = Int128(s) * Int128(l1)
        guard let l2 = ceilSquareRoot(square) else { return nil }
        return (l1, l2, Double(square).squareRoot())
    }

    /// The smallest integer D ≥ 1 with D² ≥ `square`, or `nil` when D is 2^62 or more.
    static func ceilSquareRoot(_ square: Int128) -> Int? {
        var d = Int128(Double(square).squareRoot())
        while d * d < square { d += 1 }
        while d > 1 && (d - 1) * (d - 1) >= square { d -= 1 }
        return d < 1 << 62 ? max(1, Int(d)) : nil
    }

    /// ⌈√k · s⌉ computed exactly: the smallest integer D with D² ≥ k·s² (in 128-bit arithmetic), or `nil` when
    /// k·s overflows or D is 2^62 or more.
    static func integerL2Sensitivity(k: Int, partitionSensitivity s: Int) -> Int? {
        guard k >= 1, s >= 1, !k.multipliedReportingOverflow(by: s).overflow else { return nil }
        return ceilSquareRoot(Int128(k) * Int128(s) * Int128(s))     // below 2^126
    }

    /// How much finer than the noise scale the grid of a real-valued quantity is: 2^20.
    static let gridBitsBelowScale = 20

    /// The grid for a real-valued quantity: the largest power of two at most 2^−20 of the Laplace scale
    /// `l1Bound / ε` (exponent kept in [−60, 60]).
    ///
    /// Each unit's contribution is rounded to the grid, and a group's total adds n such roundings: about √n·g/√12
    /// of random error and, for data whose values sit on rounding ties (SQLite rounds halves away from zero), up
    /// to n·g/2 of bias. A grid of 2^−10 of the scale once let that bias reach a whole noise scale at n = 200,000
    /// units per group (sums of three-decimal incomes on a 0.25 grid); at 2^−20 it stays below a tenth of the scale
    /// up to n = 200,000 and below the scale up to 2 million, while group totals in grid units stay far inside 64
    /// bits (n · 2^20 · bound/scale).
    static func granularity(l1Bound: Double, epsilon: Double) -> Double {
        let scale = l1Bound / epsilon
        guard scale > 0, scale.isFinite else { return 1 }
        let exponent = min(60, max(-60, Int((log2(scale) - Double(gridBitsBelowScale)).rounded(.down))))
        return exp2(Double(exponent))
    }
}
