import Mechanisms

/// Exact (Clopper–Pearson) confidence bounds for a binomial proportion.
///
/// With `k` successes in `n` independent trials of success probability `p`, the one-sided bounds at
/// confidence `1 − α` are the beta quantiles (C. J. Clopper, E. S. Pearson 1934, "The use of confidence or
/// fiducial limits illustrated in the case of the binomial", Biometrika 26(4); the beta form is
/// e.g. Brown, Cai, DasGupta 2001, "Interval Estimation for a Binomial Proportion", Statistical Science
/// 16(2), eq. (4)):
///
/// - lower: `B⁻¹(α; k, n − k + 1)`, and 0 when `k = 0`;
/// - upper: `B⁻¹(1 − α; k + 1, n − k)`, and 1 when `k = n`,
///
/// where `B⁻¹(·; a, b)` is the quantile of the Beta(a, b) distribution, the inverse in `x` of the regularised
/// incomplete beta function `I_x(a, b)` (see ``IncompleteBeta`` for why not GSL's `gsl_cdf_beta_Pinv`).
/// The upper bound is computed as `1 − B⁻¹(α; n − k, k + 1)` (DLMF 8.17.4), so that both bounds solve for a
/// small tail probability and neither loses precision to `1 − α`.
/// Each bound holds with probability at least `1 − α` for every `p`: the interval is exact, never
/// anti-conservative, unlike the normal approximation.
public enum ClopperPearson {
    /// The lower bound `p_L` with `P(p ≥ p_L) ≥ 1 − alpha`.
    ///
    /// - Parameters:
    ///   - successes: `k`, in `0...trials`.
    ///   - trials: `n ≥ 1`.
    ///   - alpha: the one-sided error probability, in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the argument out of range; (`numerical`) if the
    ///   incomplete beta function does not converge.
    public static func lowerBound(successes: Int, trials: Int, alpha: Double) throws -> Double {
        try check(successes: successes, trials: trials, alpha: alpha)
        if successes == 0 { return 0 }
        return try IncompleteBeta.quantile(probability: alpha, a: Double(successes), b: Double(trials - successes + 1))
    }

    /// The upper bound `p_U` with `P(p ≤ p_U) ≥ 1 − alpha`.
    ///
    /// - Parameters:
    ///   - successes: `k`, in `0...trials`.
    ///   - trials: `n ≥ 1`.
    ///   - alpha: the one-sided error probability, in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the argument out of range; (`numerical`) if the
    ///   incomplete beta function does not converge.
    public static func upperBound(successes: Int, trials: Int, alpha: Double) throws -> Double {
        try check(successes: successes, trials: trials, alpha: alpha)
        if successes == trials { return 1 }
        return 1 - (try IncompleteBeta.quantile(probability: alpha, a: Double(trials - successes),
                                                b: Double(successes + 1)))
    }

    /// The two-sided interval at confidence `confidence`: each side at `α/2` with `α = 1 − confidence`.
    ///
    /// - Parameters:
    ///   - successes: `k`, in `0...trials`.
    ///   - trials: `n ≥ 1`.
    ///   - confidence: the coverage, in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the argument out of range.
    public static func interval(successes: Int, trials: Int, confidence: Double) throws -> ClosedRange<Double> {
        try ParameterCheck.confidenceLevel(confidence, name: "confidence")
        let alpha = (1 - confidence) / 2
        return try lowerBound(successes: successes, trials: trials, alpha: alpha)
            ... upperBound(successes: successes, trials: trials, alpha: alpha)
    }

    static func check(successes: Int, trials: Int, alpha: Double) throws {
        guard trials >= 1 else {
            throw VeilError.invalidParameter("trials", trials, allowed: "at least 1")
        }
        guard (0...trials).contains(successes) else {
            throw VeilError.invalidParameter("successes", successes, allowed: "in 0...\(trials)")
        }
        guard alpha.isFinite, alpha > 0, alpha < 1 else {
            throw VeilError.invalidParameter("alpha", alpha, allowed: "in the open interval (0, 1)")
        }
    }
}
