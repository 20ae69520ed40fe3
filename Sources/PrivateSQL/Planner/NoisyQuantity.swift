import Foundation
import Mechanisms

/// One quantity the database computes per group and a mechanism must noise before anything is released.
///
/// True values are integers in units of ``granularity`` (a power of two): each privacy unit's contribution
/// is clamped, then rounded to the grid inside SQLite, so the per-group total is an exact integer `n` and
/// the represented value is `n · granularity` (docs/design.md §2 rule 1: round to a multiple of a power of two,
/// then add `granularity · integerNoise`). Sensitivities are in the same integer units and follow from the
/// metadata's bounds only (rule 6).
///
/// With `k` = max_partitions_per_unit (capped by the number of possible groups), `m` =
/// max_rows_per_partition and clamping bounds `[L, U]` (`mid = (L+U)/2`, `half = (U−L)/2`), the change one unit
/// can make to one group (``partitionSensitivity``, before division by the granularity) is:
///
/// | kind | per-unit contribution to a group | bound |
/// | --- | --- | --- |
/// | rowCount | min(rows, m) | m |
/// | nonNullCount | min(non-null values, m) | m |
/// | sum | Σ clamp(x) clamped to [m·min(L,0), m·max(U,0)] | m·max(\|L\|, \|U\|) |
/// | centeredSum | min(n, m)·(mean of clamp(x) − mid) | m·half |
/// | centeredSumOfSquares | min(n, m)·mean of (clamp(x) − mid)² | m·half² |
/// | unitCount | 1 | 1 |
/// | histogram (bins) | bin counts scaled by min(n, m)/n, rounded down | m (L1 over the bins) |
///
/// Across groups: ``l1Sensitivity`` = k · partition bound, ``l2Sensitivity`` = √k · partition bound
/// (a unit touches at most k groups; each coordinate of its change is at most the partition bound); with
/// `max_rows_per_unit` R, the tighter bounds of all limits together
/// (``PlanBuilder/totalRowsSensitivities(k:m:totalRows:partitionSensitivity:integralRowUnits:rowUnits:)``).
///
/// ``noise`` says which exact integer noise the quantity receives: discrete Laplace of scale
/// ``laplaceScale`` ≥ ``l1Sensitivity`` / ``epsilon`` for pure ε-DP, or discrete Gaussian of parameter σ
/// calibrated for the integer sensitivity ⌈``l2Sensitivity``⌉ when the query has δ > 0.
public struct NoisyQuantity: Hashable, Sendable {
    /// The integer noise added to every coordinate of the quantity, in units of its granularity.
    public enum Noise: Hashable, Sendable {
        /// Discrete Laplace `P(z) ∝ exp(−|z|/scale)` (Canonne, Kamath, Steinke 2020, Algorithm 2).
        case discreteLaplace(scale: Double)
        /// Discrete Gaussian `P(z) ∝ exp(−z²/(2σ²))` (Canonne, Kamath, Steinke 2020, Algorithm 3), for a
        /// query of integer L2 sensitivity `sensitivity`: ρ-zCDP with ρ = sensitivity²/(2σ²).
        case discreteGaussian(sigma: Double, sensitivity: Int)
    }

    /// What the quantity measures.
    public enum Kind: Hashable, Sendable {
        /// Rows per group (`COUNT(*)`).
        case rowCount
        /// Non-null values of a column per group (`COUNT(col)`, and the denominator of `AVG`).
        case nonNullCount(column: String)
        /// Sum of clamped values (`SUM(col)`).
        case sum(column: ClampedColumn)
        /// Sum of clamped values minus the middle of the bounds (`AVG`, `VARIANCE`).
        case centeredSum(column: ClampedColumn, center: Double)
        /// Sum of squared distances of clamped values to the middle of the bounds (`VARIANCE`, `STDDEV`).
        case centeredSumOfSquares(column: ClampedColumn, center: Double)
        /// Distinct privacy units per group (`COUNT(DISTINCT unit)`, and partition selection).
        case unitCount
        /// Counts of clamped values in `bins` equal-width bins over `[lower, upper]`, the column's bounds
        /// (`MEDIAN`, `PERCENTILE`).
        case histogram(column: ClampedColumn, bins: Int, lower: Double, upper: Double)

        /// The name of the column the quantity reads, if any.
        public var columnName: String? {
            switch self {
            case .rowCount, .unitCount: nil
            case .nonNullCount(let c): c
            case .sum(let c), .centeredSum(let c, _), .centeredSumOfSquares(let c, _), .histogram(let c, _, _, _): c.name
            }
        }
    }

    /// Position in ``QueryPlan/quantities``.
    public let index: Int
    /// What the quantity measures.
    public let kind: Kind
    /// Number of integer coordinates per group: 1, or the number of bins of a histogram.
    public let dimension: Int
    /// The grid: a true or noisy integer `n` stands for `n · granularity`. 1 for counts and integer sums.
    public let granularity: Double
    /// Largest change one unit can make to this quantity in one group, in units of ``granularity``
    /// (L1 norm over the coordinates of a histogram).
    public let partitionSensitivity: Int
    /// L1 sensitivity over all groups, in units of ``granularity``: k · ``partitionSensitivity``.
    public let l1Sensitivity: Int
    /// L2 sensitivity over all groups, in units of ``granularity``: √k · ``partitionSensitivity``.
    public let l2Sensitivity: Double
    /// This quantity's share of the query's ε.
    public let epsilon: Double
    /// The discrete Laplace scale (in units of ``granularity``) that spends at most ``epsilon``:
    /// ``l1Sensitivity`` / ``epsilon`` rounded up to 40 significant bits (as ``DiscreteLaplaceMechanism`` does),
    /// so that `l1Sensitivity / laplaceScale ≤ epsilon` holds exactly.
    public let laplaceScale: Double
    /// The noise this quantity receives.
    public let noise: Noise

    /// The privacy cost of noising this quantity in every group, as a DP event.
    public var event: DPEvent {
        switch noise {
        case .discreteLaplace(let scale): .discreteLaplace(scale: scale, sensitivity: l1Sensitivity)
        case .discreteGaussian(let sigma, let sensitivity): .discreteGaussian(sigma: sigma, sensitivity: sensitivity)
        }
    }

    /// The half-width `h` (in units of ``granularity``) with `P(|Z| ≤ h) ≥ level` for one coordinate's noise `Z`
    /// (``NoiseQuantile``: exact for discrete Laplace and for discrete Gaussian with σ ≤ 512, a rigorous bound above).
    /// - Parameter level: the confidence level in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for a level outside (0, 1).
    public func noiseHalfWidth(level: Double) throws -> Int {
        switch noise {
        case .discreteLaplace(let scale): try NoiseQuantile.discreteLaplaceHalfWidth(scale: scale, level: level)
        case .discreteGaussian(let sigma, _): try NoiseQuantile.discreteGaussianHalfWidth(sigma: sigma, level: level)
        }
    }

    /// The variance of one coordinate's noise, in squared units of ``granularity``: `2r/(1−r)²` with
    /// `r = e^(−1/scale)` for discrete Laplace (the variance of the difference of two geometric variables),
    /// and `Σ z²e^(−z²/2σ²) / Σ e^(−z²/2σ²)` for the discrete Gaussian, summed over |z| ≤ 40σ for σ ≤ 512
    /// (it is below σ², Canonne, Kamath, Steinke 2020, Proposition 19; above σ = 512 it equals σ² to double precision).
    public var noiseVariance: Double {
        switch noise {
        case .discreteLaplace(let scale):
            let r = Foundation.exp(-1 / scale)
            return 2 * r / ((1 - r) * (1 - r))
        case .discreteGaussian(let sigma, _):
            guard sigma <= NoiseQuantile.discreteGaussianSummationLimit else { return sigma * sigma }
            var weights = 1.0, moments = 0.0
            for z in 1...Int((40 * sigma).rounded(.up)) + 1 {
                let w = Foundation.exp(-Double(z * z) / (2 * sigma * sigma))
                weights += 2 * w
                moments += 2 * Double(z * z) * w
            }
            return moments / weights
        }
    }
}
