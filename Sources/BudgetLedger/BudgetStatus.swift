import Accounting

/// What a budget has spent and what it has left, under its composition rule.
///
/// Open reservations count as spent (docs/design.md §2 rule 3): ``epsilonReserved`` is what they add on
/// top of the committed charges, and ``epsilonRemaining`` = total − (spent + reserved), never below 0.
/// Under `rdp` and `zcdp`, δ is the conversion parameter: ``deltaSpent`` is the budget's δ once
/// anything is charged (the releases are (ε_spent, δ)-DP), ``deltaReserved`` is 0, and
/// ``deltaRemaining`` stays the budget's δ.
public struct BudgetStatus: Sendable, Codable, Hashable {
    /// The budget.
    public let budget: Budget
    /// ε of the committed charges.
    public let epsilonSpent: Double
    /// δ of the committed charges (see the type's note for `rdp` and `zcdp`).
    public let deltaSpent: Double
    /// ε added by the open reservations.
    public let epsilonReserved: Double
    /// δ added by the open reservations.
    public let deltaReserved: Double
    /// ε still available.
    public let epsilonRemaining: Double
    /// δ still available.
    public let deltaRemaining: Double
    /// Number of committed charges.
    public let committed: Int
    /// Number of open reservations.
    public let open: Int
    /// Number of refunded reservations.
    public let refunded: Int
    /// Per analyst, the cost of their committed and open charges, composed under the budget's rule.
    public let analysts: [AnalystUsage]
}

/// One analyst's share of a budget: their committed and open charges composed on their own.
public struct AnalystUsage: Sendable, Codable, Hashable {
    /// The analyst's name.
    public let analyst: String
    /// ε of their committed and open charges.
    public let epsilon: Double
    /// δ of their committed and open charges.
    public let delta: Double
    /// Number of committed and open charges.
    public let charges: Int
}
