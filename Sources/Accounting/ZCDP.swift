import Foundation

/// Zero-concentrated differential privacy (Bun & Steinke 2016, "Concentrated Differential Privacy:
/// Simplifications, Extensions, and Lower Bounds"): a mechanism is ρ-zCDP when its Rényi divergence
/// is at most ρ·α at every order α > 1. zCDP composes by adding ρ.
public enum ZCDP {
    /// The ρ of an event, where it has one.
    ///
    /// - `gaussian(m)`: 1/(2m²) (Bun & Steinke 2016, Proposition 1.6);
    /// - `discreteGaussian(σ, Δ)`: Δ²/(2σ²) (Canonne, Kamath, Steinke 2020, Theorem 14);
    /// - pure ε-DP events (`laplace(b)` with ε = 1/b, `discreteLaplace(t, Δ)` with ε = Δ/t,
    ///   `epsilonDelta(ε, 0)`): ε²/2 (Bun & Steinke 2016, Proposition 1.4);
    /// - compositions add up.
    ///
    /// Poisson sampling and (ε, δ) events with δ > 0 have no zCDP bound here: they throw `.unsupported`.
    public static func rho(for event: DPEvent) throws -> Double {
        try event.validate()
        return try rhoUnchecked(event)
    }

    private static func rhoUnchecked(_ event: DPEvent) throws -> Double {
        switch event {
        case .gaussian(let m):
            return 1 / (2 * m * m)
        case .discreteGaussian(let sigma, let sensitivity):
            return Double(sensitivity) * Double(sensitivity) / (2 * sigma * sigma)
        case .laplace(let b):
            return 1 / (2 * b * b)
        case .discreteLaplace(let scale, let sensitivity):
            let eps = Double(sensitivity) / scale
            return eps * eps / 2
        case .epsilonDelta(let epsilon, let delta):
            guard delta == 0 else {
                throw VeilError(.unsupported,
                    "an (ε, δ) event with δ > 0 (δ = \(delta)) has no zCDP bound; use basic composition or the PLD accountant")
            }
            return epsilon * epsilon / 2
        case .poissonSampled(let q, let inner):
            if q == 1 { return try rhoUnchecked(inner) }
            if q == 0 { return 0 }
            throw VeilError(.unsupported,
                "zCDP does not capture amplification by Poisson sampling; use the RDP or PLD accountant for sampled events")
        case .selfComposed(let inner, let count):
            return count == 0 ? 0 : Double(count) * (try rhoUnchecked(inner))
        case .composed(let events):
            return try events.reduce(0) { $0 + (try rhoUnchecked($1)) }
        }
    }

    /// The smallest ε such that ρ-zCDP implies (ε, δ)-DP, by the conversion of Canonne, Kamath and
    /// Steinke 2020 ("The Discrete Gaussian for Differential Privacy", Corollary 13):
    ///
    ///     δ = exp((α − 1)(αρ − ε)) / (α − 1) · (1 − 1/α)^α,  minimised over α > 1,
    ///
    /// i.e. ε(α) = αρ + (log(1/δ) + α·log(1 − 1/α) − log(α − 1))/(α − 1). It is never worse than the
    /// classic ρ + 2√(ρ·log(1/δ)) (Bun & Steinke 2016, Proposition 1.3), which is checked too.
    public static func epsilon(rho: Double, delta: Double) throws -> Double {
        try ParameterCheck.delta(delta)
        guard rho.isFinite, rho >= 0 else {
            throw VeilError.invalidParameter("rho", rho, allowed: "a finite number ≥ 0")
        }
        if rho == 0 { return 0 }
        let logInverseDelta = -log(delta)
        func epsilonAt(_ alpha: Double) -> Double {
            alpha * rho + (logInverseDelta + alpha * log1p(-1 / alpha) - log(alpha - 1)) / (alpha - 1)
        }
        // Every α > 1 gives a valid bound, so the search only affects tightness: a coarse scan in
        // log(α − 1) brackets the minimum, a ternary search refines it.
        var bestX = 0.0, bestValue = Double.infinity
        for k in -40...60 {
            let x = Double(k) * 0.5          // α − 1 = e^x, from e^-20 to e^30
            let v = epsilonAt(1 + exp(x))
            if v < bestValue { bestValue = v; bestX = x }
        }
        var lo = bestX - 0.5, hi = bestX + 0.5
        for _ in 0..<100 {
            let m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3
            if epsilonAt(1 + exp(m1)) < epsilonAt(1 + exp(m2)) { hi = m2 } else { lo = m1 }
        }
        let refined = min(bestValue, epsilonAt(1 + exp((lo + hi) / 2)))
        let classic = rho + 2 * (rho * logInverseDelta).squareRoot()
        return max(0, min(refined, classic))
    }

    /// The smallest δ such that ρ-zCDP implies (ε, δ)-DP (the same conversion, solved for δ).
    public static func delta(rho: Double, epsilon: Double) throws -> Double {
        guard rho.isFinite, rho >= 0 else {
            throw VeilError.invalidParameter("rho", rho, allowed: "a finite number ≥ 0")
        }
        guard epsilon.isFinite, epsilon >= 0 else {
            throw VeilError.invalidParameter("epsilon", epsilon, allowed: "a finite number ≥ 0")
        }
        if rho == 0 { return 0 }
        func logDeltaAt(_ alpha: Double) -> Double {
            (alpha - 1) * (alpha * rho - epsilon) + alpha * log1p(-1 / alpha) - log(alpha - 1)
        }
        // As for ε: every α gives a valid δ; scan, then refine.
        var best = 0.0
        for k in -40...60 {
            best = min(best, logDeltaAt(1 + exp(Double(k) * 0.5)))
        }
        var lo = -20.0, hi = 30.0
        for _ in 0..<200 {
            let m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3
            if logDeltaAt(1 + exp(m1)) < logDeltaAt(1 + exp(m2)) { hi = m2 } else { lo = m1 }
        }
        best = min(best, logDeltaAt(1 + exp((lo + hi) / 2)))
        return min(1, exp(best))
    }

    /// The largest ρ whose ρ-zCDP guarantee converts to (ε, δ)-DP by ``epsilon(rho:delta:)`` (Canonne, Kamath,
    /// Steinke 2020, Corollary 13), found by bisection (ε(ρ) increases with ρ) and rounded down so that the
    /// conversion of the returned ρ is at most ε.
    ///
    /// - Parameters:
    ///   - epsilon: the target ε, finite and > 0.
    ///   - delta: the target δ, in (0, 1).
    public static func largestRho(epsilon: Double, delta: Double) -> Double {
        func fits(_ rho: Double) -> Bool { ((try? ZCDP.epsilon(rho: rho, delta: delta)) ?? .infinity) <= epsilon }
        // ρ + 2√(ρ log(1/δ)) ≥ ε(ρ), so the classic inversion is a lower bound that fits.
        let l = Foundation.log(1 / delta)
        var low = pow((epsilon + l).squareRoot() - l.squareRoot(), 2) * (1 - 1e-12)
        var high = epsilon
        if !fits(low) { low = 0 }
        while fits(high) { high *= 2 }
        for _ in 0..<100 where high - low > 1e-15 * high {
            let mid = (low + high) / 2
            if fits(mid) { low = mid } else { high = mid }
        }
        return low
    }
}

/// A ``PrivacyAccountant`` over zCDP: adds the ρ of each event and converts with ``ZCDP/epsilon(rho:delta:)``.
public struct ZCDPAccountant: PrivacyAccountant {
    public var name: String { "zcdp" }
    public init() {}

    public func epsilon(for event: DPEvent, delta: Double) throws -> Double {
        try ZCDP.epsilon(rho: ZCDP.rho(for: event), delta: delta)
    }

    public func delta(for event: DPEvent, epsilon: Double) throws -> Double {
        try ZCDP.delta(rho: ZCDP.rho(for: event), epsilon: epsilon)
    }
}
