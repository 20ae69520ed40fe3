import Accounting
import Foundation

// MARK: - Per-analyst limits inside a budget

extension Ledger {
    /// What `analyst` has spent in `scope` (committed and open reservations; refunded ones do not count).
    /// - Throws: `unknownScope` when there is no such budget; `invalidParameter` for an empty analyst or one
    ///   holding the character NUL.
    public func spending(scope: String, analyst: String) throws -> AnalystSpending {
        let analyst = try LedgerTextField.checked(analyst, field: "analyst", allowed: "a non-empty name")
        return try read { db in
            guard try Self.budget(db, scope: scope) != nil else { throw LedgerFailure.unknownScope(scope) }
            let spent = try Self.analystSpentUnits(db, scope: scope, analyst: analyst)
            return AnalystSpending(
                scope: scope, analyst: analyst,
                epsilon: FixedPointAmount.value(units: spent.epsilon, scale: FixedPointAmount.epsilonScale),
                delta: FixedPointAmount.value(units: spent.delta, scale: FixedPointAmount.deltaScale),
                charges: spent.count)
        }
    }

    /// Sums the units of one analyst's reservations in one scope (arguments: scope, analyst) that were not
    /// refunded, through the index `entry_analyst` (see ``LedgerSchema``). Written once for both stores' SQL.
    static let analystSpentSQL = """
        SELECT CAST(coalesce(sum(r.epsilon_units), 0) AS BIGINT), CAST(coalesce(sum(r.delta_units), 0) AS BIGINT),
               count(*) FROM entry r
        WHERE r.scope = ? AND r.kind = 'reserve' AND r.analyst = ?
          AND NOT EXISTS (SELECT 1 FROM entry x WHERE x.reservation = r.id AND x.kind = 'refund')
        """

    /// The fixed-point units of `analyst`'s reservations in `scope` that were not refunded, and their number.
    static func analystSpentUnits(_ db: any LedgerTransaction, scope: String, analyst: String) throws -> (epsilon: Int64, delta: Int64, count: Int) {
        let row = try db.row(analystSpentSQL, [.text(scope), .text(analyst)])
        guard let row, let e = row[0].int64, let d = row[1].int64, let n = row[2].int64.map(Int.init) else {
            throw LedgerFailure.corrupt("the reservations of \(analyst) in \(scope) cannot be summed")
        }
        return (e, d, n)
    }

    /// Refuses a charge of `epsilonUnits`/`deltaUnits` that would take `analyst` past `limit` in `scope`; runs
    /// inside the reservation's transaction, so two charges cannot both pass the same check.
    /// - Throws: `budgetExhausted` ("analyst budget exhausted: … remaining for ANALYST in SCOPE …").
    static func checkAnalystLimit(_ db: any LedgerTransaction, scope: String, analyst: String, limit: AnalystLimit,
                                  epsilonUnits: Int64, deltaUnits: Int64, cost: PrivacyParameters) throws {
        let limitEpsilon = try FixedPointAmount.units(limit.epsilon, scale: FixedPointAmount.epsilonScale, rounding: .down)
        let limitDelta = try FixedPointAmount.units(limit.delta, scale: FixedPointAmount.deltaScale, rounding: .down)
        let spent = try analystSpentUnits(db, scope: scope, analyst: analyst)
        let (newEpsilon, overflowE) = spent.epsilon.addingReportingOverflow(epsilonUnits)
        let (newDelta, overflowD) = spent.delta.addingReportingOverflow(deltaUnits)
        if overflowE || overflowD || newEpsilon > limitEpsilon || newDelta > limitDelta {
            let e = FixedPointAmount.decimalString(units: max(0, limitEpsilon - spent.epsilon), scale: FixedPointAmount.epsilonScale)
            let d = FixedPointAmount.decimalString(units: max(0, limitDelta - spent.delta), scale: FixedPointAmount.deltaScale)
            throw VeilError(.budgetExhausted, """
                analyst budget exhausted: ε \(e), δ \(d) remaining for \(analyst) in \(scope) \
                (this charge needs ε \(NumberText.short(cost.epsilon)), δ \(NumberText.short(cost.delta)))
                """)
        }
    }
}
