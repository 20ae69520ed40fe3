import Accounting
import Foundation
import Mechanisms

/// The sensitivities of the plan's noisy quantities (see the table of ``NoisyQuantity``), their grids, and the
/// split of the query's budget across them.
extension PlanBuilder {
    /// Sensitivities from the bounds, granularity, and an equal share of ε for each quantity.
    ///
    /// With `rho` (Gaussian noise), each quantity receives ρ/n and σ = ⌈Δ₂⌉/√(2ρ/n) in grid units, rounded up to
    /// 12 significant bits (``DiscreteGaussianMechanism/init(rho:sensitivity:confidenceLevel:)``).
    func makeQuantities(budget: PrivacyParameters, effectiveK: Int, rho: Double?) throws(QueryError) -> [NoisyQuantity] {
        let m = Double(table.maxRowsPerPartition)
        let epsilonShare = budget.epsilon / Double(quantityKinds.count)
        let rhoShare = rho.map { $0 / Double(quantityKinds.count) }
        return try quantityKinds.enumerated().map { (index, kind) throws(QueryError) -> NoisyQuantity in
            var bound: Double          // per-partition bound in value units
            var integral = true        // contributions are integers (granularity 1)
            var dimension = 1
            switch kind {
            case .rowCount, .nonNullCount: bound = m
            case .unitCount: bound = 1
            case .sum(let c):
                bound = m * max(abs(c.bounds.lowerBound), abs(c.bounds.upperBound))
                integral = c.integerValued
            case .centeredSum(let c, _):
                bound = m * (c.bounds.upperBound - c.bounds.lowerBound) / 2
                integral = false
            case .centeredSumOfSquares(let c, _):
                bound = m * c.halfWidth * c.halfWidth
                integral = false
            case .histogram(_, let bins, _, _):
                bound = m
                dimension = bins
            }
            let granularity: Double
            if integral {
                granularity = 1
            } else if let rhoShare {
                // The grid is at most 1/1024 of σ in value units (√k · bound / √(2ρᵢ)).
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
            let (l1, overflow) = effectiveK.multipliedReportingOverflow(by: partitionSensitivity)
            guard !overflow, let l2 = Self.integerL2Sensitivity(k: effectiveK, partitionSensitivity: partitionSensitivity)
            else { throw uncalibrated }
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
            return NoisyQuantity(index: index, kind: kind, dimension: dimension, granularity: granularity,
                                 partitionSensitivity: partitionSensitivity,
                                 l1Sensitivity: l1,
                                 l2Sensitivity: Double(effectiveK).squareRoot() * Double(partitionSensitivity),
                                 epsilon: epsilonShare, laplaceScale: laplaceScale, noise: noise)
        }
    }

    /// ⌈√k · s⌉ computed exactly: the smallest integer D with D² ≥ k·s² (in 128-bit arithmetic), or `nil` when
    /// k·s overflows or D is 2^62 or more.
    static func integerL2Sensitivity(k: Int, partitionSensitivity s: Int) -> Int? {
        guard k >= 1, s >= 1, !k.multipliedReportingOverflow(by: s).overflow else { return nil }
        let square = Int128(k) * Int128(s) * Int128(s)     // below 2^126
        var d = Int128(Double(square).squareRoot())
        while d * d < square { d += 1 }
        while d > 1 && (d - 1) * (d - 1) >= square { d -= 1 }
        return d < 1 << 62 ? max(1, Int(d)) : nil
    }

    /// The grid for a real-valued quantity: the largest power of two at most 1/1024 of the Laplace scale
    /// `l1Bound / ε` (exponent kept in [−60, 60]), so rounding moves a value by at most 1/2048 of the noise scale.
    static func granularity(l1Bound: Double, epsilon: Double) -> Double {
        let scale = l1Bound / epsilon
        guard scale > 0, scale.isFinite else { return 1 }
        let exponent = min(60, max(-60, Int((log2(scale) - 10).rounded(.down))))
        return exp2(Double(exponent))
    }
}
