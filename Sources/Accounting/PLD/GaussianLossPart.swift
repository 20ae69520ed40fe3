import CGSL
import Foundation

/// The Gaussian pair `P₀ = N(0, σ²)`, `P₁ = N(1, σ²)` (noise multiplier σ, sensitivity 1):
/// `ℓ(x) = (2x − 1)/(2σ²)`, so the outcome at loss `ℓ` is `x = σ²ℓ + 1/2` and
/// `P₀(ℓ(X) ≤ ℓ) = Φ(σℓ + 1/(2σ))`, `P₁(ℓ(X) ≤ ℓ) = Φ(σℓ − 1/(2σ))`
/// (Koskela et al. 2020; Sommer et al. 2019).
///
/// Cumulative positions keep whichever Gaussian tail is smaller, computed with `erfc`, so that
/// masses of cells far in either tail are differences of small numbers, not of numbers near 1.
struct GaussianLossPart: ContinuousLossPart {
    let sigma: Double

    /// `Φ(z)` if `z ≤ 0` (`isUpper == false`), else `1 − Φ(z)` (`isUpper == true`).
    struct TailValue {
        let value: Double
        let isUpper: Bool

        init(z: Double) {
            if z <= 0 {
                value = 0.5 * Foundation.erfc(-z / 2.0.squareRoot())
                isUpper = false
            } else {
                value = 0.5 * Foundation.erfc(z / 2.0.squareRoot())
                isUpper = true
            }
        }

        /// The standard normal mass between `from` and `to` (`from ≤ to`).
        static func mass(from a: TailValue, to b: TailValue) -> Double {
            let m: Double
            switch (a.isUpper, b.isUpper) {
            case (false, false): m = b.value - a.value
            case (true, true): m = a.value - b.value
            case (false, true): m = 1 - a.value - b.value
            case (true, false): m = 0
            }
            return Swift.max(0, m)
        }
    }

    struct Position {
        let p0: TailValue
        let p1: TailValue
    }

    var lossRange: (lower: Double, upper: Double) { (-.infinity, .infinity) }

    func position(atLoss ell: Double) -> Position {
        let half = 1 / (2 * sigma)
        return Position(p0: TailValue(z: sigma * ell + half), p1: TailValue(z: sigma * ell - half))
    }

    func masses(from: Position, to: Position) -> (mass0: Double, mass1: Double) {
        (TailValue.mass(from: from.p0, to: to.p0), TailValue.mass(from: from.p1, to: to.p1))
    }

    func lossQuantiles(tailMass: Double) -> (p0: (lower: Double, upper: Double), p1: (lower: Double, upper: Double)) {
        let z = gsl_cdf_ugaussian_Qinv(tailMass)
        let half = 1 / (2 * sigma)
        return (((-z - half) / sigma, (z - half) / sigma), ((-z + half) / sigma, (z + half) / sigma))
    }
}
