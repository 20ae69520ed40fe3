import Accounting
import Foundation

/// A reservation together with what became of it: the unit of a budget's history and audit report.
public struct Charge: Sendable, Codable, Hashable {
    /// The reservation.
    public let reservation: Reservation
    /// The reservation's event as stored (JSON text, exactly as produced).
    public let eventJSON: String
    /// Open, committed or refunded.
    public let state: ReservationState
    /// When it was committed or refunded.
    public let resolvedAt: Date?
    /// For a committed charge: the digest of the released result.
    public let resultDigest: String?
    /// A refund's reason, or the note of an operator's resolution.
    public let note: String?
    /// The id of the commit or refund entry.
    public let resolutionEntry: Int64?
}
