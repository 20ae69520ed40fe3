import CGSL
import Foundation
import Mechanisms

/// The regularised incomplete beta function `I_x(a, b)` and its inverse in `x`, computed without GSL's
/// `gsl_cdf_beta_Pinv`.
///
/// GSL 2.7's `gsl_cdf_beta_Pinv` aborts the process through the default GSL error handler ("betainv.c:181:
/// inverse failed to converge") for ordinary audit inputs such as Beta(311, 190) at 0.005, and its
/// `gsl_cdf_beta_P` can abort on underflow in far tails; an audit must neither abort nor fall back to an
/// approximation. Here `I_x(a, b)` is evaluated with the continued fraction of DLMF 8.17.22 (modified Lentz
/// method, Lentz 1976; Thompson & Barnett 1986), its prefactor `x^a (1 − x)^b / (a B(a, b))` in logarithms
/// (GSL's `gsl_sf_lnbeta`), and the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` (DLMF 8.17.4) where the
/// fraction converges slowly. The inverse is found by bisection, which cannot fail to converge because
/// `I_x` is increasing in `x`.
enum IncompleteBeta {
    /// The most terms of the continued fraction; it needs about `O(√max(a, b))` near the mean.
    static let maximumTerms = 1_000_000

    /// `I_x(a, b)` for `a, b > 0` and `x` in [0, 1].
    ///
    /// - Throws: ``VeilError`` (`numerical`) if the continued fraction does not converge.
    static func regularized(x: Double, a: Double, b: Double) throws -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) {
            return 1 - (try regularized(x: 1 - x, a: b, b: a))
        }
        let logPrefactor = a * Foundation.log(x) + b * Foundation.log1p(-x) - gsl_sf_lnbeta(a, b) - Foundation.log(a)
        return Foundation.exp(logPrefactor) * (try continuedFraction(x: x, a: a, b: b))
    }

    /// `1/(1 + d₁/(1 + d₂/(1 + …)))` with the coefficients of DLMF 8.17.22:
    /// `d_{2m} = m(b − m)x/((a + 2m − 1)(a + 2m))`, `d_{2m+1} = −(a + m)(a + b + m)x/((a + 2m)(a + 2m + 1))`.
    static func continuedFraction(x: Double, a: Double, b: Double) throws -> Double {
        let tiny = 1e-300
        // Modified Lentz for 0 + 1/(1 + d₁/(1 + d₂/(1 + …))).
        var value = tiny
        var c = value
        var d = 0.0
        for j in 1...maximumTerms {
            let numerator: Double
            if j == 1 {
                numerator = 1
            } else {
                let i = j - 1   // the coefficient d_i
                let m = Double(i / 2)
                if i % 2 == 0 {
                    numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                } else {
                    numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                }
            }
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = c * d
            value *= delta
            if abs(delta - 1) < 1e-15 { return value }
        }
        throw VeilError(.numerical, "the incomplete beta function I_\(x)(\(a), \(b)) did not converge")
    }

    /// The `x` in [0, 1] with `I_x(a, b) = probability`, to a relative precision near 1e−15.
    ///
    /// - Throws: ``VeilError`` (`numerical`) if `I_x` cannot be evaluated.
    static func quantile(probability: Double, a: Double, b: Double) throws -> Double {
        var low = 0.0
        var high = 1.0
        for _ in 0..<2000 {
            let mid = low / 2 + high / 2
            guard mid > low, mid < high else { break }
            if try regularized(x: mid, a: a, b: b) < probability { low = mid } else { high = mid }
            if high - low <= 1e-15 * high { break }
        }
        return low / 2 + high / 2
    }
}
