import CGSL
import Foundation

/// Rényi DP of the Poisson-subsampled Gaussian mechanism (DP-SGD's step).
///
/// For sampling rate q and noise multiplier σ (noise standard deviation over L2 sensitivity), the
/// add-or-remove-one RDP at order α is ε_R(α) = log(A_α)/(α − 1) with
///
///     A_α = E_{z∼μ₀}[((1 − q) + q·μ₁(z)/μ₀(z))^α],  μ₀ = N(0, σ²), μ₁ = N(1, σ²)
///
/// (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism",
/// Section 3). Integer orders use the exact binomial expansion
/// A_α = Σᵢ C(α, i)(1 − q)^(α−i) qⁱ exp((i² − i)/(2σ²)); fractional orders use the two convergent
/// series of their Section 3.3, which split the integral at z₀ = σ²·log(1/q − 1) + 1/2. Every sum is
/// taken in log space so that large orders and tiny rates neither overflow nor underflow.
enum SubsampledGaussianRDP {
    /// Maximum number of terms of each fractional-order series before the order is given up
    /// (reported as +∞, which the conversion to (ε, δ) then ignores: conservative).
    static let maximumSeriesTerms = 100_000

    /// RDP ε_R(α) of one step; +∞ when it cannot be bounded.
    static func rdp(samplingRate q: Double, noiseMultiplier sigma: Double, order alpha: Double) -> Double {
        if q == 0 { return 0 }
        if sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        if alpha == .infinity { return .infinity }
        let logA = alpha == alpha.rounded() && alpha < 1e6
            ? logAIntegerOrder(q: q, sigma: sigma, alpha: Int(alpha))
            : logAFractionalOrder(q: q, sigma: sigma, alpha: alpha)
        guard let logA, logA.isFinite else { return .infinity }
        return max(0, logA / (alpha - 1))
    }

    /// log A_α for an integer order by the binomial expansion.
    static func logAIntegerOrder(q: Double, sigma: Double, alpha: Int) -> Double? {
        let logQ = log(q), log1mQ = log1p(-q)
        let twoSigmaSquared = 2 * sigma * sigma
        let a = Double(alpha)
        var logA = -Double.infinity
        var logBinomial = 0.0   // log C(α, i), updated by C(α, i+1) = C(α, i)·(α − i)/(i + 1)
        for i in 0...alpha {
            let d = Double(i)
            let term = logBinomial + d * logQ + (a - d) * log1mQ + (d * d - d) / twoSigmaSquared
            logA = LogSpace.add(logA, term)
            logBinomial += log(a - d) - log(d + 1)
        }
        return logA
    }

    /// log A_α for a fractional order by the two series of Mironov, Talwar, Zhang 2019, §3.3.
    ///
    /// Returns `nil` if a partial sum turns negative (loss of precision) or the series do not
    /// converge within ``maximumSeriesTerms`` terms.
    static func logAFractionalOrder(q: Double, sigma: Double, alpha: Double) -> Double? {
        var logA0 = -Double.infinity, logA1 = -Double.infinity
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        let logQ = log(q), log1mQ = log1p(-q)
        let twoSigmaSquared = 2 * sigma * sigma
        let sqrt2Sigma = sqrt(2) * sigma
        let floorAlpha = Int(alpha.rounded(.down))
        // log |C(α, i)|, updated by |C(α, i+1)| = |C(α, i)|·|α − i|/(i + 1). Its sign is negative
        // when an odd number of the factors α − k (k = 0 … i−1) are negative, i.e. k > ⌊α⌋.
        var logAbsBinomial = 0.0
        for i in 0..<maximumSeriesTerms {
            let d = Double(i)
            let j = alpha - d
            let positive = max(0, i - 1 - floorAlpha) % 2 == 0
            defer { logAbsBinomial += log(abs(j)) - log(d + 1) }
            let logT0 = logAbsBinomial + d * logQ + j * log1mQ
            let logT1 = logAbsBinomial + j * logQ + d * log1mQ
            let logE0 = log(0.5) + gsl_sf_log_erfc((d - z0) / sqrt2Sigma)
            let logE1 = log(0.5) + gsl_sf_log_erfc((z0 - j) / sqrt2Sigma)
            let logS0 = logT0 + (d * d - d) / twoSigmaSquared + logE0
            let logS1 = logT1 + (j * j - j) / twoSigmaSquared + logE1
            if positive {
                logA0 = LogSpace.add(logA0, logS0)
                logA1 = LogSpace.add(logA1, logS1)
            } else {
                guard let a0 = LogSpace.subtract(logA0, logS0), let a1 = LogSpace.subtract(logA1, logS1) else {
                    return nil
                }
                logA0 = a0
                logA1 = a1
            }
            if max(logS0, logS1) < -30 && d > alpha { return LogSpace.add(logA0, logA1) }
        }
        return nil
    }
}
