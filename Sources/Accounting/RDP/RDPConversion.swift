import Foundation

/// Conversions from Rényi differential privacy to (ε, δ)-DP.
///
/// Both directions use the improved bound of Balle, Barthe, Gaboardi, Hsu and Sato 2020
/// ("Hypothesis Testing Interpretations and Rényi Differential Privacy", Theorem 21), the one
/// Google's dp_accounting and Opacus use: a mechanism with RDP ε_R(α) at order α > 1 is (ε, δ)-DP for
///
///     ε = ε_R(α) + log((α − 1)/α) − (log δ + log α)/(α − 1),
///
/// and the best ε is the minimum over the orders. It improves on Mironov 2017, Proposition 3
/// (ε = ε_R(α) + log(1/δ)/(α − 1)) by about log(α)/(α − 1).
public enum RDPConversion {
    /// The smallest ε over the orders, and the order that gives it.
    ///
    /// - Parameters:
    ///   - orders: Rényi orders α > 1.
    ///   - rdp: the RDP ε_R(α) at each order (`+infinity` where unknown or unbounded).
    ///   - delta: target δ in (0, 1).
    /// - Returns: ε ≥ 0 (`+infinity` if no order gives a finite bound) and the best order.
    public static func epsilon(orders: [Double], rdp: [Double], delta: Double) throws -> (epsilon: Double, order: Double) {
        try ParameterCheck.delta(delta)
        precondition(orders.count == rdp.count, "one RDP value per order")
        var best = (epsilon: Double.infinity, order: Double.nan)
        let logDelta = log(delta)
        for (alpha, r) in zip(orders, rdp) where alpha > 1 && r.isFinite {
            guard r >= 0 else { throw VeilError(.numerical, "negative RDP value \(r) at order \(alpha)") }
            let eps = r + log1p(-1 / alpha) - (logDelta + log(alpha)) / (alpha - 1)
            if eps < best.epsilon { best = (eps, alpha) }
        }
        return (max(0, best.epsilon), best.order)
    }

    /// The smallest δ over the orders at which the RDP curve certifies (ε, δ)-DP.
    ///
    /// Per order, the minimum of the Balle et al. 2020 bound
    /// log δ = (α − 1)(ε_R(α) − ε + log(1 − 1/α)) − log α (used for α > 1.01, where it is
    /// numerically stable) and the bound through the KL divergence δ ≤ sqrt(1 − e^(−ε_R(α))),
    /// as in dp_accounting.
    public static func delta(orders: [Double], rdp: [Double], epsilon: Double) throws -> Double {
        guard epsilon.isFinite, epsilon >= 0 else {
            throw VeilError.invalidParameter("epsilon", epsilon, allowed: "a finite number ≥ 0")
        }
        precondition(orders.count == rdp.count, "one RDP value per order")
        var bestLogDelta = 0.0
        for (alpha, r) in zip(orders, rdp) where alpha > 1 && r.isFinite {
            guard r >= 0 else { throw VeilError(.numerical, "negative RDP value \(r) at order \(alpha)") }
            var logDelta = r == 0 ? -Double.infinity : 0.5 * log1p(-exp(-r))
            if alpha > 1.01 {
                logDelta = min(logDelta, (alpha - 1) * (r - epsilon + log1p(-1 / alpha)) - log(alpha))
            }
            bestLogDelta = min(bestLogDelta, logDelta)
        }
        return min(1, exp(bestLogDelta))
    }
}
