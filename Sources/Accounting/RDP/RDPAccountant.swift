import Foundation

/// The Rényi-DP accountant: composes events order by order and converts to (ε, δ) with the
/// improved bound of Balle et al. 2020 (see ``RDPConversion``).
///
/// Supported events and their RDP at order α (add-or-remove-one neighbours):
/// - `gaussian(m)`: α/(2m²) (Mironov 2017, Proposition 7);
/// - `poissonSampled(q, gaussian(m))`: the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019);
/// - `laplace(b)`: (1/(α−1))·log(α/(2α−1)·e^((α−1)/b) + (α−1)/(2α−1)·e^(−α/b)) (Mironov 2017, Table II);
/// - `discreteLaplace(t, Δ)`: the exact Rényi divergence between discrete Laplace distributions shifted by Δ
///   (closed form, derived in docs/accounting.md);
/// - `discreteGaussian(σ, Δ)`: α·Δ²/(2σ²), since the discrete Gaussian is Δ²/(2σ²)-zCDP
///   (Canonne, Kamath, Steinke 2020, Proposition 5/Theorem 14);
/// - `epsilonDelta(ε, 0)`: the RDP of binary randomised response with parameter ε, which dominates every
///   ε-DP pair of distributions (Kairouz, Oh, Viswanath 2015) — never more than min(ε, αε²/2);
/// - `selfComposed` and `composed`: RDP adds up (Mironov 2017, Proposition 1).
///
/// `epsilonDelta` with δ > 0 and Poisson sampling of anything but a Gaussian have no RDP curve here;
/// they throw `VeilError` with code `.unsupported` (use the PLD accountant for those).
public struct RDPAccountant: PrivacyAccountant {
    /// dp_accounting's default orders: 1.1 … 10.9 in steps of 0.1, 11 … 63, 128, 256, 512, 1024.
    public static let defaultOrders: [Double] = {
        let fractional: [Double] = (11...109).map { Double($0) / 10 }
        let integer: [Double] = (11...63).map { Double($0) }
        return fractional + integer + [128, 256, 512, 1024]
    }()

    /// The Rényi orders the accountant evaluates (all > 1).
    public let orders: [Double]
    public var name: String { "rdp" }

    /// - Parameter orders: Rényi orders α > 1 (default ``defaultOrders``).
    public init(orders: [Double] = RDPAccountant.defaultOrders) {
        precondition(!orders.isEmpty && orders.allSatisfy { $0 > 1 }, "Rényi orders must be > 1")
        self.orders = orders
    }

    /// The RDP ε_R(α) of `event` at each of ``orders``.
    public func rdp(for event: DPEvent) throws -> [Double] {
        try event.validate()
        return try rdpUnchecked(event)
    }

    public func epsilon(for event: DPEvent, delta: Double) throws -> Double {
        try epsilonAndOrder(for: event, delta: delta).epsilon
    }

    /// The smallest ε at `delta` and the Rényi order that attains it.
    public func epsilonAndOrder(for event: DPEvent, delta: Double) throws -> (epsilon: Double, order: Double) {
        try ParameterCheck.delta(delta)
        return try RDPConversion.epsilon(orders: orders, rdp: rdp(for: event), delta: delta)
    }

    public func delta(for event: DPEvent, epsilon: Double) throws -> Double {
        try RDPConversion.delta(orders: orders, rdp: rdp(for: event), epsilon: epsilon)
    }

    // MARK: - Per-event RDP

    private func rdpUnchecked(_ event: DPEvent) throws -> [Double] {
        switch event {
        case .gaussian(let m):
            return orders.map { $0 / (2 * m * m) }
        case .laplace(let b):
            return orders.map { Self.laplaceRDP(scale: b, order: $0) }
        case .discreteLaplace(let scale, let sensitivity):
            return orders.map { Self.discreteLaplaceRDP(scale: scale, sensitivity: sensitivity, order: $0) }
        case .discreteGaussian(let sigma, let sensitivity):
            let rho = Double(sensitivity) * Double(sensitivity) / (2 * sigma * sigma)
            return orders.map { $0 * rho }
        case .epsilonDelta(let epsilon, let delta):
            guard delta == 0 else {
                throw VeilError(.unsupported,
                    "the RDP accountant cannot analyse an (ε, δ) event with δ > 0 (δ = \(delta)); use the PLD accountant or basic composition")
            }
            return orders.map { Self.pureDPRDP(epsilon: epsilon, order: $0) }
        case .poissonSampled(let q, let inner):
            switch inner {
            case .gaussian(let m):
                return orders.map { SubsampledGaussianRDP.rdp(samplingRate: q, noiseMultiplier: m, order: $0) }
            default:
                if q == 1 { return try rdpUnchecked(inner) }
                if q == 0 { return orders.map { _ in 0 } }
                throw VeilError(.unsupported,
                    "the RDP accountant supports Poisson sampling of a Gaussian event only; use the PLD accountant for a sampled \(inner.kindName)")
            }
        case .selfComposed(let inner, let count):
            if count == 0 { return orders.map { _ in 0 } }
            return try rdpUnchecked(inner).map { $0 * Double(count) }
        case .composed(let events):
            var total = orders.map { _ in 0.0 }
            for inner in events {
                let r = try rdpUnchecked(inner)
                for k in total.indices { total[k] += r[k] }
            }
            return total
        }
    }

    /// RDP of Laplace noise of scale b on a sensitivity-1 query (Mironov 2017, Table II), in log space.
    static func laplaceRDP(scale b: Double, order alpha: Double) -> Double {
        let logSum = LogSpace.add(log(alpha / (2 * alpha - 1)) + (alpha - 1) / b,
                                  log((alpha - 1) / (2 * alpha - 1)) - alpha / b)
        return min(1 / b, max(0, logSum / (alpha - 1)))
    }

    /// Exact RDP between discrete Laplace distributions P(k) ∝ e^(−|k|/t) and its shift by Δ.
    ///
    /// With s = 1/t, Σₖ P(k)^α Q(k)^(1−α) splits into k ≤ 0, 0 < k < Δ and k ≥ Δ, three geometric
    /// series (docs/accounting.md derives it); the result never exceeds the pure-DP bound Δ/t.
    static func discreteLaplaceRDP(scale t: Double, sensitivity: Int, order alpha: Double) -> Double {
        let s = 1 / t, delta = Double(sensitivity)
        let log1mE = log(-expm1(-s))                  // log(1 − e^(−s))
        var terms = [-s * alpha * delta - log1mE,     // k ≥ Δ
                     s * (alpha - 1) * delta - log1mE] // k ≤ 0
        if sensitivity > 1 {
            // Σ_{k=1}^{Δ−1} r^k with r = e^(−s(2α−1)), times e^(s(α−1)Δ).
            let logR = -s * (2 * alpha - 1)
            let logGeometric = logR + log(-expm1(logR * (delta - 1))) - log(-expm1(logR))
            terms.append(s * (alpha - 1) * delta + logGeometric)
        }
        let logNormaliser = log1p(exp(-s)) - log1mE   // log((1 + e^(−s))/(1 − e^(−s)))
        let value = (LogSpace.sum(terms) - logNormaliser) / (alpha - 1)
        return min(delta * s, max(0, value))
    }

    /// RDP of binary randomised response with parameter ε: the largest RDP of any ε-DP pair.
    static func pureDPRDP(epsilon: Double, order alpha: Double) -> Double {
        if epsilon == 0 { return 0 }
        let logSum = LogSpace.add(alpha * epsilon, (1 - alpha) * epsilon) - (epsilon + log1p(exp(-epsilon)))
        return min(epsilon, alpha * epsilon * epsilon / 2, max(0, logSum / (alpha - 1)))
    }
}

extension DPEvent {
    /// The event's type name as it appears in JSON (`"gaussian"`, `"poisson_sampled"`, …).
    public var kindName: String {
        switch self {
        case .laplace: "laplace"
        case .gaussian: "gaussian"
        case .discreteLaplace: "discrete_laplace"
        case .discreteGaussian: "discrete_gaussian"
        case .epsilonDelta: "epsilon_delta"
        case .poissonSampled: "poisson_sampled"
        case .selfComposed: "self_composed"
        case .composed: "composed"
        }
    }
}
