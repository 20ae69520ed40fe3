import Accounting
import Foundation

/// A ``BudgetCharger`` that records nothing: for tests, benchmarks and throw-away experiments on synthetic or
/// public data only.
///
/// Engines refuse to release without a charger, so that nothing is ever released uncharged by accident
/// (docs/design.md §2 rule 3). Passing this type is the explicit, visible way to do exactly that; the name says so
/// at every call site, like `InsecureSeededRandomSource`. A released artefact then carries
/// ``releaseNotes`` saying that its cost was recorded in no ledger. Production code charges a ledger with
/// ``LedgerBudgetCharger``.
public struct InsecureUnrecordedBudgetCharger: BudgetCharger {
    /// The note added to the privacy card of a model trained with this charger.
    public static let cardNote = "privacy cost recorded in no ledger (InsecureUnrecordedBudgetCharger: tests and experiments only)"

    /// The scope named in the reservations it hands out.
    public static let scope = "unrecorded"

    /// A charger that records nothing.
    public init() {}

    /// Accepts any reservation and records nothing: the reservation's id is 0 (no ledger entry).
    public func reserve(event: DPEvent, cost: PrivacyParameters, analyst: String, purpose: String) throws -> Reservation {
        Reservation(id: 0, scope: Self.scope, analyst: analyst, purpose: purpose, event: event, cost: cost, time: Date())
    }

    /// Records nothing.
    public func commit(_ reservation: Reservation, resultDigest: String) throws {}

    /// Records nothing.
    public func refund(_ reservation: Reservation, reason: String) throws {}

    /// Any budget "exists".
    public func checkBudget() throws {}

    /// No ledger.
    public var ledgerPath: String? { nil }

    /// ``cardNote``.
    public var releaseNotes: [String] { [Self.cardNote] }
}
