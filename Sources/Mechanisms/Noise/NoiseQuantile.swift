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

    /// The largest scale (discrete Laplace `b`, discrete Gaussian σ) whose quantiles are computed: 2^52, the
    /// largest scale the samplers accept. Half-widths then stay below 2^58, far inside `Int`.
    public static let maximumScale = 0x1p52

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
    /// The closed form `m = ⌈−b·ln(α(1+p)/2)⌉ − 1` (α = 1 − level, from ``discreteLaplaceTail(scale:beyond:)``)
    /// is the starting point; a galloping bisection on the computed tail then returns the smallest `m` whose
    /// computed tail is ≤ α, in O(log m) steps at any scale.
    ///
    /// - Parameters:
    ///   - scale: the scale `b`, in (0, ``maximumScale``].
    ///   - level: the confidence level in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for a scale outside (0, 2^52] or a level outside (0, 1).
    public static func discreteLaplaceHalfWidth(scale: Double, level: Double) throws -> Int {
        try checkScale(scale, name: "discrete_laplace scale")
        try ParameterCheck.confidenceLevel(level)
        let alpha = 1 - level
        let p = Foundation.exp(-1 / scale)
        // α ≥ 2^−53 and b ≤ 2^52 keep the estimate below 2^58.
        let estimate = (-scale * Foundation.log(alpha * (1 + p) / 2)).rounded(.up) - 1
        return try smallestInteger(atLeast: 0, guess: Int(max(0, estimate))) {
            discreteLaplaceTail(scale: scale, beyond: $0) <= alpha
        }
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
    ///   - sigma: σ in (0, ``maximumScale``].
    ///   - level: the confidence level in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for σ outside (0, 2^52] or a level outside (0, 1).
    public static func discreteGaussianHalfWidth(sigma: Double, level: Double) throws -> Int {
        try checkScale(sigma, name: "discrete_gaussian sigma")
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
        // z ≤ Q⁻¹(2^−54) < 8.3, so σ·z < 2^56.
        let z = gsl_cdf_ugaussian_Qinv(alpha / 2)
        return Int((sigma * z * (1 + 1e-12)).rounded(.up))
    }

    /// The smallest `t ≥ 1` with `P(Y ≥ t) ≤ probability` for `Y` discrete Gaussian with parameter σ (the
    /// one-sided tail `P(|Y| > t − 1)/2` of ``discreteGaussianTail(sigma:beyond:)``: exact for
    /// σ ≤ ``discreteGaussianSummationLimit``, an upper bound above, so `t` is never too small).
    ///
    /// Found by a galloping bisection from the Chernoff estimate `σ·√(2·ln(1/p))`, in O(log t) steps.
    ///
    /// - Parameters:
    ///   - sigma: σ in (0, ``maximumScale``].
    ///   - probability: the tail probability, in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for σ outside (0, 2^52] or a probability outside (0, 1).
    public static func discreteGaussianUpperQuantile(sigma: Double, tailProbability probability: Double) throws -> Int {
        try checkScale(sigma, name: "discrete_gaussian sigma")
        guard probability.isFinite, probability > 0, probability < 1 else {
            throw VeilError.invalidParameter("tail probability", probability, allowed: "in the open interval (0, 1)")
        }
        // −ln p ≤ 745 for any p > 0, so the estimate stays below 2^58.
        let estimate = (sigma * (-2 * Foundation.log(probability)).squareRoot()).rounded(.down) - 2
        return try smallestInteger(atLeast: 1, guess: Int(max(1, estimate))) {
            discreteGaussianTail(sigma: sigma, beyond: $0 - 1) / 2 <= probability
        }
    }

    // MARK: Search

    /// Refuses a scale that is not finite, not positive, or above ``maximumScale``.
    static func checkScale(_ scale: Double, name: String) throws {
        guard scale.isFinite, scale > 0, scale <= maximumScale else {
            throw VeilError.invalidParameter(name, scale, allowed: "a finite number in (0, 2^52]; larger noise would "
                                             + "drown any answer and cannot be sampled")
        }
    }

    /// The smallest integer `m ≥ lower` with `holds(m)`, for a predicate that is false below some point and true
    /// from it on: gallops from `guess` in doubling steps to bracket the change, then bisects. The result is the
    /// one that stepping one integer at a time would find, in O(log |m − guess|) evaluations.
    ///
    /// - Throws: ``VeilError`` (`numerical`) if the predicate does not hold below 2^62.
    static func smallestInteger(atLeast lower: Int, guess: Int, where holds: (Int) -> Bool) throws -> Int {
        let limit = 1 << 62
        var low: Int        // holds(low) is false, or low == lower − 1
        var high: Int       // holds(high) is true
        let start = min(max(guess, lower), limit)
        if holds(start) {
            high = start
            var step = 1
            low = start
            while true {
                low = start - step < lower ? lower - 1 : start - step
                if low < lower || !holds(low) { break }
                high = low
                step *= 2
            }
        } else {
            low = start
            var step = 1
            while true {
                high = min(start + step, limit)
                if holds(high) { break }
                guard high < limit else {
                    throw VeilError(.numerical, "no quantile below 2^62 was found")
                }
                low = high
                step *= 2
            }
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if holds(middle) { high = middle } else { low = middle }
        }
        return high
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
