import CGSL
import Foundation

/// Tail probabilities and central quantiles of Veil's integer noise distributions, used for the
/// confidence intervals that accompany every noisy release.
///
/// A half-width `m` at level `L` means `P(|Z| ≤ m) ≥ L` for the noise `Z`; an integer release
/// `x + Z` then covers the true `x` in `[release − m, release + m]` with probability at least `L`.
public enum NoiseQuantile {
    /// Above this σ the discrete Gaussian quantile comes from a rigorous Gaussian tail bound
    /// instead of summing the probability mass function.
    public static let discreteGaussianSummationLimit = 512.0

    // MARK: Discrete Laplace

    /// `P(|Z| > m)` for `Z` discrete Laplace with `P(k) ∝ exp(−|k|/scale)`: exactly `2·p^(m+1)/(1+p)`
    /// with `p = exp(−1/scale)` (closed form of the geometric series).
    ///
    /// - Parameters:
    ///   - scale: the scale `b > 0`.
    ///   - m: a half-width ≥ 0.
    public static func discreteLaplaceTail(scale: Double, beyond m: Int) -> Double {
        let p = Foundation.exp(-1 / scale)
        return 2 * Foundation.exp(-Double(m + 1) / scale) / (1 + p)
    }

    /// The smallest `m ≥ 0` with `P(|Z| ≤ m) ≥ level` for `Z` discrete Laplace of the given scale.
    ///
    /// - Parameters:
    ///   - scale: the scale `b > 0`.
    ///   - level: the confidence level in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for a scale ≤ 0 or a level outside (0, 1).
    public static func discreteLaplaceHalfWidth(scale: Double, level: Double) throws -> Int {
        try ParameterCheck.positive(scale, name: "discrete_laplace scale")
        try ParameterCheck.confidenceLevel(level)
        let alpha = 1 - level
        let p = Foundation.exp(-1 / scale)
        let estimate = (-scale * Foundation.log(alpha * (1 + p) / 2)).rounded(.up) - 1
        var m = Int(max(0, min(estimate, 9e15)))
        while m > 0 && discreteLaplaceTail(scale: scale, beyond: m - 1) <= alpha { m -= 1 }
        while discreteLaplaceTail(scale: scale, beyond: m) > alpha { m += 1 }
        return m
    }

    // MARK: Discrete Gaussian

    /// `P(|Y| > m)` for `Y` discrete Gaussian with parameter σ, or an upper bound on it.
    ///
    /// For σ ≤ ``discreteGaussianSummationLimit`` the normalised mass function is summed (terms
    /// beyond 40σ are below e^−800 and dropped). For larger σ this returns `2·Q(m/σ)`, a rigorous upper
    /// bound: `Σ_{k>m} e^{−k²/2σ²} ≤ ∫_m^∞ e^{−x²/2σ²} dx` and the normaliser is at least `√(2π)·σ`
    /// (Poisson summation; Canonne, Kamath, Steinke 2020, §2).
    ///
    /// - Parameters:
    ///   - sigma: σ > 0.
    ///   - m: a half-width ≥ 0.
    public static func discreteGaussianTail(sigma: Double, beyond m: Int) -> Double {
        if sigma <= discreteGaussianSummationLimit {
            let table = DiscreteGaussianTable(sigma: sigma)
            return 2 * table.upperTail(from: m + 1)
        }
        return 2 * gsl_cdf_ugaussian_Q(Double(m) / sigma)
    }

    /// A half-width `m` with `P(|Y| ≤ m) ≥ level` for `Y` discrete Gaussian with parameter σ.
    ///
    /// Exact (the smallest such `m`) for σ ≤ ``discreteGaussianSummationLimit``. For larger σ,
    /// `m = ⌈σ·z⌉` with `z = Q⁻¹((1 − level)/2)`, which is guaranteed by the bound in
    /// ``discreteGaussianTail(sigma:beyond:)`` and exceeds the exact quantile by at most 2 (the lower
    /// bound `Σ_{k≥j} e^{−k²/2σ²} ≥ ∫_j^∞` together with a normaliser below `√(2π)σ(1 + 10^−300)` for σ ≥ 512).
    ///
    /// - Parameters:
    ///   - sigma: σ > 0.
    ///   - level: the confidence level in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for σ ≤ 0 or a level outside (0, 1).
    public static func discreteGaussianHalfWidth(sigma: Double, level: Double) throws -> Int {
        try ParameterCheck.positive(sigma, name: "discrete_gaussian sigma")
        try ParameterCheck.confidenceLevel(level)
        let alpha = 1 - level
        if sigma <= discreteGaussianSummationLimit {
            let table = DiscreteGaussianTable(sigma: sigma)
            var central = table.weights[0]
            var m = 0
            while central < level * table.normaliser && m + 1 < table.weights.count {
                m += 1
                central += 2 * table.weights[m]
            }
            return m
        }
        let z = gsl_cdf_ugaussian_Qinv(alpha / 2)
        return Int((sigma * z * (1 + 1e-12)).rounded(.up))
    }
}

// MARK: - Summed mass function

/// The unnormalised weights `e^{−k²/(2σ²)}` for `k = 0 … ⌈40σ⌉ + 1` and their two-sided sum.
struct DiscreteGaussianTable {
    let sigma: Double
    let weights: [Double]
    /// `Σ_{k ∈ ℤ} e^{−k²/(2σ²)}`.
    let normaliser: Double
    /// `suffix[j] = Σ_{k ≥ j} weights[k]`, summed from the small end for accuracy.
    let suffix: [Double]

    init(sigma: Double) {
        self.sigma = sigma
        let count = Int((40 * sigma).rounded(.up)) + 2
        let twoSigmaSquared = 2 * sigma * sigma
        var weights = [Double](repeating: 0, count: count)
        for k in 0..<count { weights[k] = Foundation.exp(-Double(k * k) / twoSigmaSquared) }
        var suffix = [Double](repeating: 0, count: count + 1)
        for k in stride(from: count - 1, through: 0, by: -1) { suffix[k] = suffix[k + 1] + weights[k] }
        self.weights = weights
        self.suffix = suffix
        normaliser = 2 * suffix[0] - weights[0]
    }

    /// `P(Y ≥ j)` for any integer `j`.
    func upperTail(from j: Int) -> Double {
        if j <= 0 { return 1 - upperTail(from: 1 - j) }
        return j < suffix.count ? suffix[j] / normaliser : 0
    }
}
