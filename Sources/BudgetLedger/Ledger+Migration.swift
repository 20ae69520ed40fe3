import Accounting
import Foundation

// MARK: - Copying a ledger into another store

extension Ledger {
    /// What ``copyEntries(from:)`` copied.
    public struct MigrationResult: Sendable {
        /// How many entries were copied.
        public let entries: Int
        /// The verification of the source, before copying.
        public let source: ChainVerification
        /// The verification of this ledger, after copying: same entry count and head hash as the source.
        public let target: ChainVerification
    }

    /// Copies every entry of `source`, an SQLite ledger, into this ledger, which must be empty: entry by entry
    /// with the same ids, content and hashes, then the running totals and composed states, in one transaction
    /// (a failure leaves this ledger empty). Both chains are verified: the source before, this one after.
    ///
    /// - Throws: `ledgerDamaged` when the source does not verify (nothing is copied) or the copy does not
    ///   verify to the same head; `ledgerConflict` when this ledger already holds entries;
    ///   `invalidParameter` when `source` is not an SQLite ledger.
    public func copyEntries(from source: Ledger) throws -> MigrationResult {
        guard source.store is SQLiteLedgerStore else {
            throw VeilError.invalidParameter("source ledger", source.path, allowed: "an SQLite ledger file")
        }
        let before = try source.verify()
        guard before.isValid else {
            throw VeilError(.ledgerDamaged, """
                \(source.path) does not verify (entry \(before.firstInvalidEntry.map(String.init) ?? "-"): \
                \(before.problem ?? "damaged")); nothing was copied
                """)
        }
        let copied = try source.read { from in
            try append { to, head in
                let tables = try to.row("SELECT (SELECT count(*) FROM scope_total), (SELECT count(*) FROM scope_composition)")
                guard head.id == 0, tables?[0].int64 == 0, tables?[1].int64 == 0 else {
                    throw VeilError(.ledgerConflict, """
                        \(path) is not empty (its chain ends at entry \(head.id)); migrate copies into an empty ledger only
                        """)
                }
                var count = 0
                try from.forEachRow("SELECT \(LedgerSchema.entryColumns) FROM entry ORDER BY id", []) { row in
                    try LedgerSchema.insert(try LedgerSchema.entry(from: row), into: to)
                    count += 1
                }
                for row in try from.rows("SELECT scope, epsilon_units, delta_units FROM scope_total", []) {
                    try to.execute("INSERT INTO scope_total (scope, epsilon_units, delta_units) VALUES (?, ?, ?)", row)
                }
                for row in try from.rows("SELECT scope, state FROM scope_composition", []) {
                    try to.execute("INSERT INTO scope_composition (scope, state) VALUES (?, ?)", row)
                }
                return count
            }
        }
        let after = try verify()
        guard after.isValid, after.entryCount == before.entryCount, after.headHash == before.headHash else {
            throw VeilError(.ledgerDamaged, """
                the copy in \(path) does not verify to the source's head \(before.headHash) \
                (\(after.problem ?? "\(after.entryCount) entries, head \(after.headHash)"))
                """)
        }
        return MigrationResult(entries: copied, source: before, target: after)
    }
}
