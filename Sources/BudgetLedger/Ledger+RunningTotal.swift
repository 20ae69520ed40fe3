import Accounting
import Foundation

// MARK: - Running totals

extension Ledger {
    /// The scope's running total (units of every reservation not refunded) as the hash chain records
    /// it, checked against the `scope_total` cache; refuses when they disagree.
    ///
    /// The chain's record is the `total_*_units` of the scope's last `reserve` or `refund` entry
    /// (format 2). That entry is checked first: its hash must match its content, and the entry after
    /// it, if any, must link to that hash. A scope whose last such entry predates format 2 has its
    /// total recomputed from its entries once; the entry this charge appends records it from then
    /// on. Cost: a few index lookups and one SHA-256, whatever the ledger's length.
    ///
    /// - Returns: the total, and the checked entry that records it (nil when the scope has no
    ///   `reserve` or `refund` entry yet), whose `state_digest` binds the composed state.
    /// - Throws: `ledgerDamaged` ("… run `veil budget verify`") when the cache, the entry or its link
    ///   does not match: the file was edited outside Veil, and no charge may rely on it.
    static func verifiedRunningTotal(_ db: any LedgerTransaction, scope: String) throws -> (epsilon: Int64, delta: Int64, last: LedgerEntry?) {
        let chain = try chainRunningTotal(db, scope: scope)
        let cached = try runningTotal(db, scope: scope)
        guard cached.epsilon == chain.epsilon, cached.delta == chain.delta else {
            throw LedgerFailure.totalMismatch(scope, "the cached total says ε units \(cached.epsilon), δ units \(cached.delta); "
                                              + "the chain says \(chain.epsilon), \(chain.delta)")
        }
        return chain
    }

    /// The scope's last `reserve` or `refund` entry (arguments: scope, scope), its ``LedgerSchema/entryColumns``
    /// then the `prev_hash` of the entry after it (NULL when it is the last): one statement, so that a charge on
    /// PostgreSQL pays one round trip for it, not four. Two lookups on the (scope, kind) index, each answered by its
    /// last row; the same SQL for both stores.
    static let lastTotalEntrySQL = """
        SELECT \(LedgerSchema.entryColumns), (SELECT n.prev_hash FROM entry n WHERE n.id = e.id + 1)
        FROM entry e
        WHERE e.id = (SELECT max(last_id) FROM (
            SELECT (SELECT max(id) FROM entry WHERE scope = ? AND kind = 'reserve') AS last_id
            UNION ALL SELECT (SELECT max(id) FROM entry WHERE scope = ? AND kind = 'refund')) AS last_ids)
        """

    /// The running total recorded by the scope's last `reserve` or `refund` entry, after checking
    /// that entry's hash and its link to the next entry.
    static func chainRunningTotal(_ db: any LedgerTransaction, scope: String) throws -> (epsilon: Int64, delta: Int64, last: LedgerEntry?) {
        guard let row = try db.row(lastTotalEntrySQL, [.text(scope), .text(scope)]) else { return (0, 0, nil) }
        let last = try LedgerSchema.entry(from: row)
        guard last.hashMatchesContent else {
            throw LedgerFailure.totalMismatch(scope, "entry \(last.id) does not match its hash")
        }
        let nextLink = row.count > LedgerSchema.entryColumnCount ? row[LedgerSchema.entryColumnCount] : .null
        if !nextLink.isNull, nextLink.string != last.hash {
            throw LedgerFailure.totalMismatch(scope, "entry \(last.id + 1) does not link to entry \(last.id)")
        }
        if let e = last.totalEpsilonUnits, let d = last.totalDeltaUnits { return (e, d, last) }
        // Written by format 1: sum the units of the scope's reservations that were not refunded.
        let sums = try db.row("""
            SELECT CAST(coalesce(sum(r.epsilon_units), 0) AS BIGINT), CAST(coalesce(sum(r.delta_units), 0) AS BIGINT)
            FROM entry r
            WHERE r.scope = ? AND r.kind = 'reserve'
              AND NOT EXISTS (SELECT 1 FROM entry x WHERE x.reservation = r.id AND x.kind = 'refund')
            """, [.text(scope)])
        guard let sums, let e = sums[0].int64, let d = sums[1].int64 else {
            throw LedgerFailure.totalMismatch(scope, "its reservations cannot be summed")
        }
        return (e, d, last)
    }

    /// The cached running total of `scope` (the `scope_total` row).
    static func runningTotal(_ db: any LedgerTransaction, scope: String) throws -> (epsilon: Int64, delta: Int64) {
        guard let row = try db.row("SELECT epsilon_units, delta_units FROM scope_total WHERE scope = ?", [.text(scope)]),
              let e = row[0].int64, let d = row[1].int64 else {
            throw LedgerFailure.totalMismatch(scope, "its cached total is missing or malformed")
        }
        return (e, d)
    }

    /// Sets the cached running total of `scope` to the total the new entry records.
    static func setRunningTotal(_ db: any LedgerTransaction, scope: String, epsilonUnits: Int64, deltaUnits: Int64) throws {
        let updated = try db.rows("UPDATE scope_total SET epsilon_units = ?, delta_units = ? WHERE scope = ? RETURNING scope",
                                  [.integer(epsilonUnits), .integer(deltaUnits), .text(scope)])
        guard updated.count == 1 else {
            throw LedgerFailure.totalMismatch(scope, "its cached total is missing")
        }
    }
}
