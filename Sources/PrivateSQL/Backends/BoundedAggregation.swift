import Foundation
import GRDB
import GRDBSQLite
import Mechanisms

/// Contribution bounding in one pass over the table, inside SQLite.
///
/// The plan's ``BoundedScan`` statement is `SELECT veil_bound(unit, keys…, columns…) FROM table WHERE …`: SQLite
/// filters the rows and calls the aggregate `veil_bound` once per row; the aggregate keeps, in memory, one
/// accumulator per (unit, group) pair (rows, non-null values, sum of clamped values and, where a variance needs
/// it, the sum of squared distances to the middle of the bounds). After the scan every unit keeps at most k of
/// its groups, chosen uniformly at random; each kept pair's contribution to each quantity is bounded exactly as
/// ``SQLRewriter`` bounds it in SQL (counts capped at m, sums clamped to `[m·min(L,0), m·max(U,0)]`, means scaled
/// to at most m rows, rounded to the quantity's grid) and added to its group's total. Only these per-group
/// totals leave the aggregate.
///
/// The pure-SQL form (``QueryPlan/sql``) computes the same totals, but SQLite answers a `GROUP BY` by sorting,
/// and the bounded plan sorts two or three times (per (unit, group), per unit for the sampling window, per
/// group) where the plain query sorts once. Hashing per (unit, group) in one pass costs less than the plain
/// query's single sort. The price is memory: about 40 bytes per (unit, group) pair plus 8 per accumulator
/// (some 0.5 GB for 10 million pairs over few groups), plus a hash-table entry and a key per unit and per group.
/// Past ``SinglePassLimits`` the scan stops and ``SQLiteBackend`` runs the SQL form, which computes the same totals
/// while SQLite sorts. Units and keys are told apart as SQLite's `GROUP BY` tells them apart (``GroupingValue``).
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
                    sqlite3_result_int64(context, Int64(aggregator.accumulation.pairCount))
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
        accumulation.addSampledRows()
        if accumulation.limitExceeded { throw SinglePassLimitExceeded() }
        if let failure = accumulation.failure { throw DatabaseError(message: failure) }
    }
}
