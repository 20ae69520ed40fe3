import Mechanisms

// Audit targets with a known optimal event: randomised response. Their audited bound should approach the
// claimed ε as the trials grow, which validates the audit itself.

/// Binary randomised response (``BinaryRandomizedResponse``): true bit `1` on `D`, `0` on `D'`; the statistic
/// is the report (1 or 0). The event `{x ≥ 1}` has probabilities `e^ε/(1 + e^ε)` and `1/(1 + e^ε)`, whose
/// ratio is exactly `e^ε`.
public struct BinaryRandomizedResponseAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: BinaryRandomizedResponse
    public let claim: PrivacyClaim

    /// - Parameter epsilon: the claimed ε, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double) throws {
        mechanism = try BinaryRandomizedResponse(epsilon: epsilon)
        claim = try PrivacyClaim(epsilon: epsilon)
    }

    public var name: String { "randomized-response" }
    public var neighbours: String { "true bit 1 vs 0" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        mechanism.respond(input == .original, using: &source) ? 1 : 0
    }
}

/// k-ary randomised response (``KaryRandomizedResponse``): true category 0 on `D`, 1 on `D'`; the statistic is
/// the reported category. The event `{x ≤ 0}` has probabilities `e^ε/(e^ε + k − 1)` and `1/(e^ε + k − 1)`,
/// whose ratio is exactly `e^ε`.
public struct KaryRandomizedResponseAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: KaryRandomizedResponse
    public let claim: PrivacyClaim

    /// - Parameters:
    ///   - epsilon: the claimed ε, finite and > 0.
    ///   - categories: the number of categories `k ≥ 2` (default 4).
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double, categories: Int = 4) throws {
        mechanism = try KaryRandomizedResponse(epsilon: epsilon, categories: categories)
        claim = try PrivacyClaim(epsilon: epsilon)
    }

    public var name: String { "kary-randomized-response" }
    public var neighbours: String { "true category 0 vs 1 of \(mechanism.categories)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double(try mechanism.respond(input == .original ? 0 : 1, using: &source))
    }
}
