import CGSL
import Foundation

/// How a Gaussian mechanism turns a target (ε, δ) into a noise parameter σ.
///
/// - ``classic``: σ = Δ·√(2·ln(1.25/δ))/ε (Dwork & Roth 2014, "The Algorithmic Foundations of
///   Differential Privacy", Theorem A.1). The theorem needs ε < 1; Veil refuses ε ≥ 1 for it.
/// - ``analytic``: the smallest σ with
///   `Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ) ≤ δ` (Balle & Wang 2018, "Improving the Gaussian
///   Mechanism for Differential Privacy", Theorem 8; found here by bisection, as in their Algorithm 1,
///   since the left side decreases in σ). Valid for every ε > 0 and never larger than ``classic``.
public enum GaussianCalibration: String, Sendable, Codable, CaseIterable {
    case classic
    case analytic

    /// Relative width at which the continuous bisection stops.
    static let tolerance = 1e-12

    /// σ for the continuous Gaussian mechanism on a query of L2 sensitivity Δ.
    ///
    /// - Parameters:
    ///   - epsilon: ε > 0 (and ε < 1 for ``classic``).
    ///   - delta: δ in (0, 1).
    ///   - sensitivity: Δ > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public func sigma(epsilon: Double, delta: Double, sensitivity: Double) throws -> Double {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.delta(delta)
        try ParameterCheck.sensitivity(sensitivity)
        switch self {
        case .classic:
            guard epsilon < 1 else {
                throw VeilError.invalidParameter(
                    "epsilon", epsilon,
                    allowed: "in (0, 1) for the classic Gaussian calibration (Dwork & Roth 2014, Theorem A.1); use the analytic calibration for larger epsilon")
            }
            return sensitivity * (2 * Foundation.log(1.25 / delta)).squareRoot() / epsilon
        case .analytic:
            return try Self.bisect(target: delta) {
                Self.analyticDelta(sigma: $0, epsilon: epsilon, sensitivity: sensitivity)
            } start: { sensitivity * (2 * Foundation.log(1.25 / delta)).squareRoot() / epsilon }
        }
    }

    /// The exact δ(ε) of the continuous Gaussian mechanism with noise σ on a Δ-sensitive query
    /// (Balle & Wang 2018, Theorem 8): `Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ)`.
    ///
    /// - Parameters:
    ///   - sigma: σ > 0.
    ///   - epsilon: ε ≥ 0.
    ///   - sensitivity: Δ > 0.
    public static func analyticDelta(sigma: Double, epsilon: Double, sensitivity: Double) -> Double {
        let a = sensitivity / (2 * sigma)
        let b = epsilon * sigma / sensitivity
        let first = gsl_cdf_ugaussian_P(a - b)
        let second = Foundation.exp(epsilon + logPhi(-a - b))
        return max(0, first - second)
    }

    /// The δ(ε) of the discrete Gaussian mechanism `q(x) + N_ℤ(0, σ²)` on an integer query of
    /// sensitivity Δ, or a rigorous upper bound on it.
    ///
    /// Canonne, Kamath, Steinke 2020, Theorem 7: the mechanism is (ε, δ)-DP for
    /// `δ = P[Y > εσ²/Δ − Δ/2] − e^ε·P[Y > εσ²/Δ + Δ/2]` with `Y ~ N_ℤ(0, σ²)`. For
    /// σ ≤ ``NoiseQuantile/discreteGaussianSummationLimit`` both tails are summed from the mass
    /// function. For larger σ the first tail is bounded above and the second below by comparing the
    /// weights with the normal integral (midpoint bounds with their error term where the weight is
    /// convex, see `tailUpperBound` and `logTailLowerBound`) and the normaliser with its Poisson-summation
    /// form `√(2π)σ(1 + η)`, `η = 2e^{−2π²σ²}/(1 − e^{−2π²σ²})`, so the value returned is ≥ the true δ.
    ///
    /// - Parameters:
    ///   - sigma: σ > 0.
    ///   - epsilon: ε ≥ 0.
    ///   - sensitivity: the integer sensitivity Δ ≥ 1.
    public static func discreteDelta(sigma: Double, epsilon: Double, sensitivity: Int) -> Double {
        let delta = Double(sensitivity)
        let centre = epsilon * sigma * sigma / delta
        // P[Y > c] = P[Y ≥ ⌊c⌋ + 1]. Beyond 2^62 (a σ far above what the samplers accept) the first tail is
        // taken from 2^62, which only raises it, and the subtracted second tail is dropped, so δ is not underestimated.
        let representable = centre + delta / 2 < 0x1p62
        let j1 = centre - delta / 2 < 0x1p62 ? Int((centre - delta / 2).rounded(.down)) + 1 : 1 << 62
        let j2 = representable ? Int((centre + delta / 2).rounded(.down)) + 1 : 1 << 62
        if sigma <= NoiseQuantile.discreteGaussianSummationLimit {
            let table = DiscreteGaussianTable(sigma: sigma)
            let second = representable ? table.upperTail(from: j2) : 0
            let scaled = second > 0 ? Foundation.exp(epsilon + Foundation.log(second)) : 0
            return max(0, table.upperTail(from: j1) - scaled)
        }
        let q = 2 * Double.pi * Double.pi * sigma * sigma
        let eta = q > 700 ? 0 : 2 * Foundation.exp(-q) / -Foundation.expm1(-q)
        let upper = tailUpperBound(from: j1, sigma: sigma, eta: eta)
        let lowerLog = representable ? logTailLowerBound(from: j2, sigma: sigma, eta: eta) : -Double.infinity
        return max(0, upper - Foundation.exp(epsilon + lowerLog))
    }

    /// σ for the discrete Gaussian mechanism on an integer query of sensitivity Δ, on the grid of
    /// numbers with 12 significant bits, such that ``discreteDelta(sigma:epsilon:sensitivity:)`` ≤ δ.
    ///
    /// ``analytic`` starts from Balle & Wang's continuous σ and searches the discrete bound
    /// directly; ``classic`` returns the larger of the classic σ and the analytic discrete σ, so its
    /// guarantee rests on Theorem 7 as well. The grid keeps σ² a short fraction, so the sampler stays
    /// in machine words; rounding σ up only adds noise (at most 2^−11 relative).
    ///
    /// - Parameters:
    ///   - epsilon: ε > 0 (and ε < 1 for ``classic``).
    ///   - delta: δ in (0, 1).
    ///   - sensitivity: the integer sensitivity Δ ≥ 1.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range, or
    ///   (`numerical`) if no σ on the grid meets δ.
    public func discreteSigma(epsilon: Double, delta: Double, sensitivity: Int) throws -> Double {
        try ParameterCheck.integerSensitivity(sensitivity)
        let continuous = try GaussianCalibration.analytic.sigma(
            epsilon: epsilon, delta: delta, sensitivity: Double(sensitivity))
        let target = delta * (1 - 1e-9)
        let found = try Self.bisect(target: target, tolerance: 1e-7) {
            Self.discreteDelta(sigma: $0, epsilon: epsilon, sensitivity: sensitivity)
        } start: { continuous }
        var sigma = Self.roundUpToGrid(found)
        var steps = 0
        while Self.discreteDelta(sigma: sigma, epsilon: epsilon, sensitivity: sensitivity) > target {
            sigma = Self.roundUpToGrid(sigma.nextUp)
            steps += 1
            guard steps < 4096 else {
                throw VeilError(.numerical, "no discrete Gaussian sigma found for epsilon \(epsilon), delta \(delta), sensitivity \(sensitivity)")
            }
        }
        if self == .classic {
            let classic = try self.sigma(epsilon: epsilon, delta: delta, sensitivity: Double(sensitivity))
            sigma = max(sigma, Self.roundUpToGrid(classic))
        }
        return sigma
    }

    /// The smallest number ≥ `value` with at most 12 significant bits.
    public static func roundUpToGrid(_ value: Double) -> Double {
        let step = Double(sign: .plus, exponent: value.exponent - 11, significand: 1)
        return (value / step).rounded(.up) * step
    }

    // MARK: Numerics

    /// ln Φ(x), accurate in the far lower tail.
    static func logPhi(_ x: Double) -> Double {
        Foundation.log(0.5) + gsl_sf_log_erfc(-x / 2.0.squareRoot())
    }

    /// Upper bound on P[Y ≥ j] for the discrete Gaussian, from `S(j) = Σ_{k≥j} e^{−k²/2σ²}` and a
    /// normaliser of at least `√(2π)σ`.
    ///
    /// Where the weight function `f` is convex on `[j − ½, ∞)` (that is, `j − ½ ≥ σ`), the midpoint
    /// inequality `f(k) ≤ ∫_{k−½}^{k+½} f` (Hermite–Hadamard) gives `S(j) ≤ ∫_{j−½}^∞ f`; otherwise
    /// `S(j) ≤ ∫_{j−1}^∞ f` because `f` decreases on `[0, ∞)`.
    static func tailUpperBound(from j: Int, sigma: Double, eta: Double) -> Double {
        if j >= 1 {
            let y = Double(j) - 0.5
            return gsl_cdf_ugaussian_Q((y >= sigma ? y : Double(j - 1)) / sigma)
        }
        return 1 - Foundation.exp(logTailLowerBound(from: 1 - j, sigma: sigma, eta: eta))
    }

    /// ln of a lower bound on P[Y ≥ j] for the discrete Gaussian, with a normaliser of at most
    /// `√(2π)σ(1 + η)`.
    ///
    /// Where `f''` is positive and decreasing on `[j − ½, ∞)` (`j − ½ ≥ √3·σ`), the midpoint error
    /// `∫_{k−½}^{k+½} f − f(k) ≤ f''(k − ½)/24` summed over `k ≥ j` is at most
    /// `(f''(y) − f'(y))/24` with `y = j − ½`, so `S(j) ≥ ∫_y^∞ f − (f''(y) − f'(y))/24`; otherwise
    /// `S(j) ≥ ∫_j^∞ f`.
    static func logTailLowerBound(from j: Int, sigma: Double, eta: Double) -> Double {
        if j >= 1 {
            let y = Double(j) - 0.5
            if y >= 3.0.squareRoot() * sigma {
                let z = y / sigma
                let density = Foundation.exp(-z * z / 2) / (2 * Double.pi).squareRoot() / sigma
                let s2 = sigma * sigma
                let correction = density * ((y * y - s2) / (s2 * s2) + y / s2) / 24
                let value = gsl_cdf_ugaussian_Q(z) - correction
                if value > 0 { return Foundation.log(value) - Foundation.log1p(eta) }
            }
            return logPhi(-Double(j) / sigma) - Foundation.log1p(eta)
        }
        return Foundation.log(max(0, 1 - tailUpperBound(from: 1 - j, sigma: sigma, eta: eta)))
    }

    /// The smallest σ (to relative ``tolerance``) with `delta(σ) ≤ target`, for `delta` decreasing in σ.
    static func bisect(
        target: Double, tolerance: Double = tolerance, _ delta: (Double) -> Double, start: () -> Double
    ) throws -> Double {
        let first = start()
        guard first.isFinite else {
            throw VeilError(.invalidParameter, "no finite Gaussian sigma meets delta \(target): epsilon is too small "
                            + "for the sensitivity (the classic sigma Δ·√(2·ln(1.25/δ))/ε is \(first))")
        }
        var high = max(first, 1e-6)
        var doublings = 0
        while delta(high) > target {
            high *= 2
            doublings += 1
            guard doublings < 200, high.isFinite else {
                throw VeilError(.numerical, "Gaussian calibration found no sigma meeting delta \(target)")
            }
        }
        var low = high / 2
        while delta(low) <= target && low > 1e-300 { low /= 2 }
        while (high - low) > tolerance * high {
            let mid = (low + high) / 2
            if delta(mid) <= target { high = mid } else { low = mid }
        }
        return high
    }
}
