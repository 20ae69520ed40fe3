import BudgetLedger
import Foundation

/// Charges a training run to a scope of the privacy-budget ledger (DESIGN.md §2 rules 3 and 4).
///
/// ``DPSGDTrainer`` calls ``reserve(event:epsilon:delta:)`` with the whole planned run before it
/// draws any noise: the ledger checks the budget in one transaction and makes the reservation
/// durable, or refuses the run (`budgetExhausted`, with what is left). The reservation is the charge:
/// the ledger never lowers it, so a run that stops early stays charged its planned cost, which is
/// conservative. ``commit(event:epsilon:delta:)`` only notes what was spent; the ledger entry is
/// committed by ``recordRelease(resultDigest:)`` once the model file exists, with the file's digest.
/// If the process dies in between, the reservation stays open and counts as spent until an operator
/// resolves it (`veil budget resolve`).
public final class LedgerBudgetCharger: PrivacyBudgetCharger {
    public let ledger: Ledger
    public let scope: String
    public let analyst: String
    public let purpose: String
    /// The reservation made for the run, once made.
    public private(set) var reservation: Reservation?
    /// The (ε, δ) the finished run spent, once known.
    public private(set) var spent: (epsilon: Double, delta: Double)?

    /// - Parameters:
    ///   - ledger: the open ledger.
    ///   - scope: the budget to charge (must exist).
    ///   - analyst: who trains.
    ///   - purpose: why (recorded in the audit trail).
    public init(ledger: Ledger, scope: String, analyst: String, purpose: String) {
        self.ledger = ledger
        self.scope = scope
        self.analyst = analyst
        self.purpose = purpose
    }

    public func reserve(event: DPEvent, epsilon: Double, delta: Double) throws {
        precondition(reservation == nil, "a training run reserves once")
        reservation = try ledger.reserve(event: event, cost: PrivacyCost(epsilon: epsilon, delta: delta),
                                         scope: scope, analyst: analyst, purpose: purpose)
    }

    public func commit(event: DPEvent, epsilon: Double, delta: Double) throws {
        spent = (epsilon, delta)
    }

    /// Commits the reservation with the digest of what was released (the model file).
    @discardableResult
    public func recordRelease(resultDigest: String) throws -> LedgerEntry? {
        guard let reservation else { return nil }
        return try ledger.commit(reservation, resultDigest: resultDigest)
    }

    /// A short reference to the reservation for the model's privacy card: `PATH#ID`.
    public var entryReference: String? {
        reservation.map { "\(ledger.path)#\($0.id)" }
    }
}
