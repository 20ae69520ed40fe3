import Accounting

/// Charges one budget (`scope`) of a ``Ledger``: the production ``BudgetCharger``.
///
/// Each verb is one ledger transaction (``Ledger/reserve(event:cost:scope:analyst:purpose:)``,
/// ``Ledger/commit(_:resultDigest:)``, ``Ledger/refund(_:reason:)``). A reservation that is neither committed
/// nor refunded (the process died in between) stays open and counts as spent until an operator resolves it
/// (`veil budget resolve`).
public struct LedgerBudgetCharger: BudgetCharger {
    /// The open ledger.
    public let ledger: Ledger
    /// The budget charged.
    public let scope: String
    /// The most the analyst of each reservation may spend in ``scope``, checked with the scope's own limit in the
    /// same transaction; nil for none.
    public let analystLimit: AnalystLimit?

    /// A charger for the budget `scope` of `ledger` (whether it exists is checked by ``checkBudget()`` and by
    /// every reservation); with `analystLimit`, a reservation must also fit the analyst's limit in the scope.
    public init(ledger: Ledger, scope: String, analystLimit: AnalystLimit? = nil) {
        self.ledger = ledger
        self.scope = scope
        self.analystLimit = analystLimit
    }

    /// Reserves `cost` on ``scope``.
    /// - Throws: as ``Ledger/reserve(event:cost:scope:analyst:purpose:)``; a missing budget is `unknown_scope`
    ///   with the `veil budget create` command that creates it.
    public func reserve(event: DPEvent, cost: PrivacyParameters, analyst: String, purpose: String) throws -> Reservation {
        do {
            return try ledger.reserve(event: event, cost: cost, scope: scope, analyst: analyst, purpose: purpose,
                                      analystLimit: analystLimit)
        } catch let error as VeilError where error.code == .unknownScope {
            throw VeilError(.unknownScope, "no budget named \"\(scope)\" in the ledger \(ledger.path); create it first, e.g. "
                            + "`veil budget create \(scope) --epsilon 3 --delta 1e-5 --ledger \(ledger.path)`")
        }
    }

    public func commit(_ reservation: Reservation, resultDigest: String) throws {
        try ledger.commit(reservation, resultDigest: resultDigest)
    }

    public func refund(_ reservation: Reservation, reason: String) throws {
        try ledger.refund(reservation, reason: reason)
    }

    /// Throws `unknown_scope` unless ``scope`` is a budget of the ledger.
    public func checkBudget() throws {
        _ = try ledger.budget(scope: scope)
    }

    public var ledgerPath: String? { ledger.path }

    public var releaseNotes: [String] { [] }
}
