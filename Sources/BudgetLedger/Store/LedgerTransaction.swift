/// The statements of one ledger transaction, on whichever store holds the ledger.
///
/// The ledger's SQL is written once, in the dialect SQLite and PostgreSQL share: `?` placeholders (a store
/// that numbers its parameters rewrites them, none occurs inside a literal), `INSERT … ON CONFLICT … DO
/// UPDATE`, `UPDATE … RETURNING`, and `CAST(… AS BIGINT)` around sums (PostgreSQL sums `bigint` into
/// `numeric`).
protocol LedgerTransaction {
    /// Runs `sql` with `arguments` bound to its placeholders and returns every row.
    func rows(_ sql: String, _ arguments: [LedgerValue]) throws -> [LedgerRow]
    /// Runs `sql` and hands each row to `body` as it is read, without holding the whole result.
    func forEachRow(_ sql: String, _ arguments: [LedgerValue], _ body: (LedgerRow) throws -> Void) throws
}

extension LedgerTransaction {
    /// The first row, or nil.
    func row(_ sql: String, _ arguments: [LedgerValue] = []) throws -> LedgerRow? {
        try rows(sql, arguments).first
    }

    /// The first column of the first row, or nil (no row, or NULL).
    func value(_ sql: String, _ arguments: [LedgerValue] = []) throws -> LedgerValue? {
        guard let value = try row(sql, arguments)?.first, !value.isNull else { return nil }
        return value
    }

    /// Runs a statement whose rows are not needed.
    func execute(_ sql: String, _ arguments: [LedgerValue] = []) throws {
        _ = try rows(sql, arguments)
    }
}
