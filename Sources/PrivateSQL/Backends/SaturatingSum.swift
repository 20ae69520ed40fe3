import GRDB
import GRDBSQLite

/// `veil_sum(x)`: the SQL form's per-group total, the exact sum of its integer arguments (`NULL` skipped) clamped
/// to the range of `Int64`, and 0 for no rows.
///
/// SQLite's own `SUM` fails with "integer overflow" when a total leaves 64 bits; that failure would happen after
/// the data was read and depend on it (one more unit at the bound makes the query fail), a noise-free bit. The
/// total is kept in 128 bits (at most 2⁶⁴ rows of at most 2⁶³ each cannot overflow it) and clamped at the end,
/// exactly as ``BoundedTotals/saturatedTotal(_:)`` clamps the single-pass totals: clamping is 1-Lipschitz, so the
/// sensitivity of the total is unchanged (docs/design.md §2 rule 8).
enum SaturatingSum {
    /// Registers `veil_sum` on the connection of `db`.
    static func register(_ db: Database) throws {
        let code = sqlite3_create_function_v2(
            db.sqliteConnection, "veil_sum", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, nil,
            { context, _, argv in
                guard let argv, sqlite3_value_type(argv[0]) != SQLITE_NULL,
                      let state = sqlite3_aggregate_context(context, Int32(MemoryLayout<Int128>.size)) else { return }
                let total = state.loadUnaligned(as: Int128.self)
                // The rewriter CASTs every quantity to INTEGER; any other value is read as SQLite converts it.
                state.storeBytes(of: total + Int128(sqlite3_value_int64(argv[0])), as: Int128.self)
            },
            { context in
                // A size of 0 returns the state only if a step allocated it (NULL: no rows, total 0).
                let total = sqlite3_aggregate_context(context, 0)?.loadUnaligned(as: Int128.self) ?? 0
                sqlite3_result_int64(context, Int64(clamping: total))
            },
            nil)
        guard code == SQLITE_OK else { throw DatabaseError(message: "cannot register veil_sum (SQLite code \(code))") }
    }
}
