import Accounting

/// The one interface through which every engine charges privacy budget: private queries, training runs,
/// and later federated rounds and inference.
///
/// The verbs are the ledger's own (docs/design.md §2 rules 3 and 4):
/// 1. ``reserve(event:cost:analyst:purpose:)`` before any noisy value exists. It durably records the
///    cost, or refuses it (`budget_exhausted`, with what is left); an engine that cannot reserve releases
///    nothing.
/// 2. ``commit(_:resultDigest:)`` once the release exists, with a digest of what was released. After a
///    commit the charge can never be refunded.
/// 3. ``refund(_:reason:)`` only when the work failed *before any private data was read*. Once data was
///    read, every outcome can depend on it, so the charge stands: commit it (with the digest of the
///    failure's kind) instead.
///
/// ``LedgerBudgetCharger`` charges one budget of a ``Ledger``; ``InsecureUnrecordedBudgetCharger`` records
/// nothing and exists for tests and experiments on public data only.
public protocol BudgetCharger: Sendable {
    /// Durably reserves `cost` for a release described by `event`; throws to refuse it.
    ///
    /// - Parameters:
    ///   - event: what will be released, so that any accountant can recompute its cost.
    ///   - cost: the declared (ε, δ).
    ///   - analyst: who asks for the release.
    ///   - purpose: why (recorded in the audit trail).
    /// - Returns: the reservation to commit or refund.
    /// - Throws: `budget_exhausted` when the charge does not fit; `unknown_scope` when the budget does not
    ///   exist; `invalid_parameter` for an invalid event, analyst or purpose.
    func reserve(event: DPEvent, cost: PrivacyParameters, analyst: String, purpose: String) throws -> Reservation

    /// Records that the reserved release was made, with a digest of it (e.g. `sha256:…`).
    func commit(_ reservation: Reservation, resultDigest: String) throws

    /// Gives back a reservation whose work failed before any private data was read.
    func refund(_ reservation: Reservation, reason: String) throws

    /// Throws unless a reservation could be attempted (the budget exists). Engines call it before they read
    /// any data, so that a run that could never be charged fails early and costs nothing.
    func checkBudget() throws

    /// The path of the ledger that records the charges, or nil when nothing records them.
    var ledgerPath: String? { get }

    /// Notes a released artefact (a model's privacy card) carries about how its cost was recorded; empty for a
    /// charger backed by a ledger.
    var releaseNotes: [String] { get }
}

extension BudgetCharger {
    /// A short reference to the ledger entry of `reservation` for a released artefact: `PATH#ID`, or nil when
    /// nothing records it.
    public func entryReference(for reservation: Reservation) -> String? {
        ledgerPath.map { "\($0)#\(reservation.id)" }
    }
}
