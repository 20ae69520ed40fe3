import Accounting
import Foundation

/// Privacy of the sum of n clients' distributed discrete Gaussian encodings (Kairouz, Liu, Steinke
/// 2021). A sum of discrete Gaussians is not a discrete Gaussian; the paper bounds how far it is:
///
///     τ = 10 · Σ_{k=1}^{n−1} exp(−2π²σ² · k/(k+1))                     (Theorem 1)
///
/// where σ² is each client's noise variance in integer units. With Δ₂ the rounded L2 norm bound and
/// Δ₁ = Δ₂ · min(√d, Δ₂) the L1 bound of the integer-valued update, the sum satisfies ½ε²-concentrated
/// DP (ρ-zCDP with ρ = ε²/2) for
///
///     ε = min{ √(Δ₂²/(nσ²) + 2τd),  Δ₂/(√n·σ) + τ√d }                   (Theorem 1)
///
/// and (α, ε(α))-RDP for every α > 1 with
///
///     ε(α) = min{ α·Δ₂²/(2nσ²) + τd,
///                 (α/2)·(Δ₂²/(nσ²) + 2Δ₁τ/(√n·σ) + τ²d),
///                 (α/2)·(Δ₂/(√n·σ) + τ√d)² }                              (Proposition 14)
///
/// n must be the number of clients whose noise is certainly in the sum — with SecAgg, the round's
/// minimum number of masked inputs — not the number invited.
public struct DistributedDiscreteGaussianAccounting: Sendable, Hashable {
    /// Δ₂, integer units.
    public let l2Sensitivity: Double
    /// Δ₁, integer units.
    public let l1Sensitivity: Double
    /// Per-client noise standard deviation σ, integer units.
    public let localStddev: Double
    /// Clients whose noise is in the sum.
    public let clients: Int
    /// Dimension d of the rotated vector.
    public let dimension: Int
    /// τ of Theorem 1.
    public let tau: Double

    /// - Throws: ``VeilError`` (`invalid_parameter`) when a value is out of range, or σ < 1/2: the
    ///   regime where τ stops being negligible and the bound says nothing useful.
    public init(l2Sensitivity: Double, localStddev: Double, clients: Int, dimension: Int) throws {
        try ParameterCheck.positive(l2Sensitivity, name: "l2 sensitivity")
        try ParameterCheck.count(clients, name: "clients", minimum: 1)
        try ParameterCheck.count(dimension, name: "dimension", minimum: 1)
        guard localStddev.isFinite, localStddev >= 0.5 else {
            throw VeilError.invalidParameter("local noise stddev (integer units)", localStddev, allowed: "a finite number ≥ 1/2")
        }
        self.l2Sensitivity = l2Sensitivity
        self.l1Sensitivity = l2Sensitivity * min(Double(dimension).squareRoot(), l2Sensitivity)
        self.localStddev = localStddev
        self.clients = clients
        self.dimension = dimension
        let s2 = localStddev * localStddev
        var sum = 0.0
        for k in 1..<max(clients, 1) {
            let kk = Double(k)
            sum += exp(-2 * Double.pi * Double.pi * s2 * kk / (kk + 1))
        }
        tau = 10 * sum
    }

    /// The accounting of a DDG round with `parameters`, of which at least `minimumClients` add noise.
    public init(parameters: DistributedDiscreteGaussianParameters, minimumClients: Int) throws {
        guard minimumClients >= 1, minimumClients <= parameters.clients else {
            throw VeilError.invalidParameter("minimum clients", minimumClients, allowed: "in 1 ... \(parameters.clients)")
        }
        try self.init(l2Sensitivity: parameters.roundedNormBound, localStddev: parameters.localVariance.doubleValue.squareRoot(),
                      clients: minimumClients, dimension: parameters.paddedDimension)
    }

    /// ε of Theorem 1: the sum is ½ε²-concentrated DP.
    public var concentratedEpsilon: Double {
        let n = Double(clients), d = Double(dimension), s2 = localStddev * localStddev
        let first = (l2Sensitivity * l2Sensitivity / (n * s2) + 2 * tau * d).squareRoot()
        let second = l2Sensitivity / (n.squareRoot() * localStddev) + tau * d.squareRoot()
        return min(first, second)
    }

    /// ρ = ε²/2 of Theorem 1 (zero-concentrated DP), which composes by addition over rounds.
    public var rho: Double { concentratedEpsilon * concentratedEpsilon / 2 }

    /// The RDP ε(α) of Proposition 14.
    public func rdp(order alpha: Double) -> Double {
        let n = Double(clients), d = Double(dimension), s = localStddev
        let scale2 = l2Sensitivity * l2Sensitivity / (n * s * s)
        let first = alpha * scale2 / 2 + tau * d
        let second = alpha / 2 * (scale2 + 2 * l1Sensitivity * tau / (n.squareRoot() * s) + tau * tau * d)
        let root = l2Sensitivity / (n.squareRoot() * s) + tau * d.squareRoot()
        return min(first, second, alpha / 2 * root * root)
    }

    /// (ε, δ) after `rounds` rounds: the better of the RDP curve (converted by ``RDPConversion``) and
    /// the zCDP bound (converted by ``ZCDP/epsilon(rho:delta:)``).
    public func epsilon(delta: Double, rounds: Int = 1, orders: [Double] = RDPAccountant.defaultOrders) throws -> Double {
        try ParameterCheck.count(rounds, name: "rounds", minimum: 1)
        let r = Double(rounds)
        let viaRDP = try RDPConversion.epsilon(orders: orders, rdp: orders.map { r * rdp(order: $0) }, delta: delta).epsilon
        let viaZCDP = try ZCDP.epsilon(rho: r * rho, delta: delta)
        return min(viaRDP, viaZCDP)
    }
}
