import Foundation
import GRDB
import GRDBSQLite
import Mechanisms

/// Contribution bounding in one pass over the table, inside SQLite.
///
/// The plan's ``BoundedScan`` statement is `SELECT veil_bound(unit, keys…, columns…) FROM table WHERE …`: SQLite
/// filters the rows and calls the aggregate `veil_bound` once per row. The aggregate interns the row's group,
/// clamps its values and files it, a few 64-bit words, under a partition chosen by a hash of its unit
/// (``BoundedAccumulation``, ``UnitPartitionedRows``); past ``SinglePassLimits/memoryBytes`` the rows go to an
/// unlinked temporary file. After the scan ``UnitBounding`` bounds the partitions one at a time: per unit the R
/// rows of `max_rows_per_unit`, one accumulator block per group, at most k groups, and each kept pair's
/// contribution bounded exactly as ``SQLRewriter`` bounds it in SQL and added to its group's total. Only these
/// per-group totals leave the aggregation.
///
/// The pure-SQL form (``QueryPlan/sql``) computes the same totals, but SQLite answers a `GROUP BY` by sorting,
/// and the bounded plan sorts two or three times where the plain query sorts once. Partitioning by unit is one
/// sequential pass, and it makes the work independent of the order of the rows: an earlier version kept one
/// accumulator block per (unit, group) of the whole table in a hash table, which was as fast as plain SQL on
/// tables stored unit by unit but missed the processor's caches on every row of a table in arrival order, and
/// held some 50 bytes per pair. Past ``SinglePassLimits`` the scan stops and ``SQLiteBackend`` runs the SQL form.
/// Units and keys are told apart as SQLite's `GROUP BY` tells them apart (``GroupingValue``).
final class BoundedAggregator {
    /// Everything the scan accumulates (a struct, so the per-row work pays one exclusivity check, not one per field).
    private(set) var accumulation: BoundedAccumulation

    /// An aggregator for rows `(unit, key₁…key_keyCount, column₁…)` within `limits`.
    init(keyCount: Int, columns: [(bounds: ClosedRange<Double>?, squaresAround: Double?)],
         limits: SinglePassLimits = .standard, rowSampling: RowSampling? = nil) {
        accumulation = BoundedAccumulation(keyCount: keyCount, columns: columns, limits: limits,
                                           rowSampling: rowSampling)
    }

    /// An aggregator for the plan's single-pass statement.
    convenience init(scan: BoundedScan, table: TableMetadata, quantities: [NoisyQuantity],
                     sampling: PartitionSampling, limits: SinglePassLimits = .standard) {
        self.init(keyCount: scan.keyCount,
                  columns: scan.columns.map { name in
                      let squares = quantities.lazy.compactMap { q -> Double? in
                          if case .centeredSumOfSquares(let c, let center) = q.kind, c.name == name { return center }
                          return nil
                      }.first
                      return (table.column(named: name)?.bounds, squares)
                  },
                  limits: limits,
                  rowSampling: scan.maxRowsPerUnit.map { RowSampling(maxRows: $0, sampling: sampling) })
    }

    /// Runs `statement` (which calls `veil_bound` as its only aggregate) with this aggregator behind `veil_bound`.
    func scan(_ db: Database, sql: String, arguments: StatementArguments) throws {
        let connection = db.sqliteConnection
        let context = Unmanaged.passUnretained(self).toOpaque()
        let registered = sqlite3_create_function_v2(
            connection, "veil_bound", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY, context, nil,
            { context, argc, argv in
                guard let argv, let data = sqlite3_user_data(context) else { return }
                let aggregator = Unmanaged<BoundedAggregator>.fromOpaque(data).takeUnretainedValue()
                aggregator.accumulation.step(Int(argc), argv)
                // Stop the statement at once rather than reading the remaining rows for nothing.
                if let failure = aggregator.accumulation.failure { sqlite3_result_error(context, failure, -1) }
            },
            { context in
                guard let data = sqlite3_user_data(context) else { return }
                let aggregator = Unmanaged<BoundedAggregator>.fromOpaque(data).takeUnretainedValue()
                if let failure = aggregator.accumulation.failure {
                    sqlite3_result_error(context, failure, -1)
                } else {
                    sqlite3_result_int64(context, Int64(aggregator.accumulation.groupCount))
                }
            },
            nil)
        guard registered == SQLITE_OK else {
            throw DatabaseError(message: "cannot register veil_bound (SQLite code \(registered))")
        }
        defer { sqlite3_create_function_v2(connection, "veil_bound", -1, SQLITE_UTF8, nil, nil, nil, nil, nil) }
        do {
            _ = try withExtendedLifetime(self) { try Row.fetchOne(db, sql: sql, arguments: arguments) }
        } catch {
            if accumulation.limitExceeded { throw SinglePassLimitExceeded() }
            throw error
        }
        if accumulation.limitExceeded { throw SinglePassLimitExceeded() }
        if let failure = accumulation.failure { throw DatabaseError(message: failure) }
    }

    /// Bounds the scanned rows (``UnitBounding``) and returns the per-group totals; the rows are released as their
    /// partitions are read.
    /// - Throws: ``SinglePassLimitExceeded`` if the temporary file cannot be read back.
    func totals(plan: QueryPlan, scan: BoundedScan) throws -> BoundedTotals {
        try UnitBounding(plan: plan, scan: scan).totals(&accumulation)
    }
}
