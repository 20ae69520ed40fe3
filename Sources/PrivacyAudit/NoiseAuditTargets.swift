import Mechanisms

// Audit targets for the noise mechanisms: each releases one number on a count or a sum whose value differs by
// the sensitivity between the two inputs, and the statistic is the released number itself.

// MARK: - Integer noise

/// The discrete Laplace mechanism (``DiscreteLaplaceMechanism``) on a count: 0 on `D`, 1 on `D'` (one privacy
/// unit added, Δ = 1). Its privacy loss is exactly ±ε on every output, so threshold events are tight.
public struct DiscreteLaplaceAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: DiscreteLaplaceMechanism
    public let claim: PrivacyClaim

    /// - Parameter epsilon: the claimed ε, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double) throws {
        mechanism = try DiscreteLaplaceMechanism(epsilon: epsilon, sensitivity: 1)
        claim = try PrivacyClaim(epsilon: epsilon)
    }

    public var name: String { "discrete-laplace" }
    public var neighbours: String { "count 0 vs 1 (Δ = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double(mechanism.release(input == .original ? 0 : 1, using: &source).value)
    }
}

/// The discrete Gaussian mechanism (``DiscreteGaussianMechanism``) calibrated to (ε, δ) on a count: 0 on `D`,
/// 1 on `D'` (Δ = 1).
public struct DiscreteGaussianAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: DiscreteGaussianMechanism
    public let claim: PrivacyClaim

    /// - Parameters:
    ///   - epsilon: the claimed ε, finite and > 0.
    ///   - delta: the claimed δ, in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double, delta: Double) throws {
        mechanism = try DiscreteGaussianMechanism(epsilon: epsilon, delta: delta, sensitivity: 1)
        claim = try PrivacyClaim(epsilon: epsilon, delta: delta)
    }

    public var name: String { "discrete-gaussian" }
    public var neighbours: String { "count 0 vs 1 (Δ = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double(mechanism.release(input == .original ? 0 : 1, using: &source).value)
    }
}

// MARK: - Real values on a grid

/// The granular Laplace mechanism (``GranularLaplaceMechanism``) on a real-valued sum of sensitivity 1:
/// 0 on `D`, 1 on `D'`. Both values lie on the default grid, so the grid indices differ by `1/g`, one unit
/// less than the `⌊Δ/g⌋ + 1` the event charges (a relative difference near 2^−20).
public struct GranularLaplaceAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: GranularLaplaceMechanism
    public let claim: PrivacyClaim

    /// - Parameter epsilon: the claimed ε, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double) throws {
        mechanism = try GranularLaplaceMechanism(epsilon: epsilon, sensitivity: 1)
        claim = try PrivacyClaim(epsilon: epsilon)
    }

    public var name: String { "granular-laplace" }
    public var neighbours: String { "sum 0.0 vs 1.0 (Δ = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        try mechanism.release(input == .original ? 0 : 1, using: &source).value
    }
}

/// The granular Gaussian mechanism (``GranularGaussianMechanism``) calibrated to (ε, δ) on a real-valued sum
/// of sensitivity 1: 0 on `D`, 1 on `D'`.
public struct GranularGaussianAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: GranularGaussianMechanism
    public let claim: PrivacyClaim

    /// - Parameters:
    ///   - epsilon: the claimed ε, finite and > 0.
    ///   - delta: the claimed δ, in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double, delta: Double) throws {
        mechanism = try GranularGaussianMechanism(epsilon: epsilon, delta: delta, sensitivity: 1)
        claim = try PrivacyClaim(epsilon: epsilon, delta: delta)
    }

    public var name: String { "granular-gaussian" }
    public var neighbours: String { "sum 0.0 vs 1.0 (Δ = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        try mechanism.release(input == .original ? 0 : 1, using: &source).value
    }
}
