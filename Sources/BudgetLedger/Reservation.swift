import Accounting
import Foundation

/// A durable reservation of privacy budget, made before any noisy value exists
/// (docs/design.md §2 rule 3). Commit it once the release is made, or refund it if nothing was released.
public struct Reservation: Sendable, Codable, Hashable {
    /// The ledger entry id of the reservation.
    public let id: Int64
    /// The budget charged.
    public let scope: String
    /// Who asked for the release.
    public let analyst: String
    /// Why.
    public let purpose: String
    /// The mechanism events of the release.
    public let event: DPEvent
    /// The declared (ε, δ) cost.
    public let cost: PrivacyParameters
    /// When the reservation was made.
    public let time: Date
}

/// What became of a reservation.
public enum ReservationState: String, Sendable, Codable, Hashable {
    /// Reserved and neither committed nor refunded: counts as spent.
    case open
    /// The release was made; the charge stands.
    case committed
    /// Nothing was released; the reservation no longer counts.
    case refunded
}

/// How an operator resolves a reservation left open (for instance by a crash).
public enum Resolution: String, Sendable, Codable, Hashable {
    /// Record it as released: the charge stands.
    case commit
    /// Record that nothing was released: the budget is given back.
    case refund
}
