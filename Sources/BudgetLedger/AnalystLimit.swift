import Accounting

/// The most one analyst may spend inside a budget: a share of the scope's (ε, δ) set by the data owner.
///
/// The ledger checks it in the same transaction as the scope's own limit
/// (``Ledger/reserve(event:cost:scope:analyst:purpose:analystLimit:)``), so a reservation passes only when it fits
/// both. The analyst's spending is the sum of the declared (ε, δ) of their reservations in the scope that were not
/// refunded — basic composition, whatever the scope's rule. Basic composition never understates the privacy loss of
/// the same charges under `rdp` or `zcdp`, so the limit holds under every rule (it is conservative there).
public struct AnalystLimit: Sendable, Codable, Hashable {
    /// The analyst's total ε in the scope.
    public let epsilon: Double
    /// The analyst's total δ in the scope.
    public let delta: Double

    /// A limit, validated.
    /// - Parameters:
    ///   - epsilon: total ε, finite, > 0 and at most ``FixedPointAmount/maximumEpsilon``.
    ///   - delta: total δ in [0, 1).
    /// - Throws: `invalidParameter` naming the value out of range.
    public init(epsilon: Double, delta: Double) throws {
        try ParameterCheck.epsilon(epsilon, name: "analyst epsilon")
        guard epsilon <= FixedPointAmount.maximumEpsilon else {
            throw VeilError.invalidParameter("analyst epsilon", epsilon, allowed: "at most \(FixedPointAmount.maximumEpsilon)")
        }
        try ParameterCheck.deltaOrZero(delta, name: "analyst delta")
        self.epsilon = epsilon
        self.delta = delta == 0 ? 0 : delta
    }
}

/// What one analyst has spent in one budget: committed and open reservations, not refunded ones.
public struct AnalystSpending: Sendable, Codable, Hashable {
    /// The budget.
    public let scope: String
    /// The analyst.
    public let analyst: String
    /// The sum of the declared ε of the analyst's reservations that were not refunded.
    public let epsilon: Double
    /// The sum of their declared δ.
    public let delta: Double
    /// How many reservations that is.
    public let charges: Int
}
