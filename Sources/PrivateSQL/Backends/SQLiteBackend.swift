import BudgetLedger
import Foundation
import GRDB
import GRDBSQLite
import Mechanisms

/// One group's true (un-noised) quantities as computed by the database.
///
/// Internal on purpose: true aggregates are never printed, logged or returned to callers outside the
/// module; they exist only to be noised (docs/design.md §2 rule 7). No `description` is provided.
struct TrueGroup: Sendable {
    /// Key values, in the plan's key order.
    let key: [SQLValue]
    /// For each quantity of the plan, its coordinates as exact integers in units of its granularity.
    var values: [[Int64]]
}

/// The two forms of a plan's main statement, which compute the same true totals.
enum MainStatementForm {
    /// ``QueryPlan/boundedScan`` where the plan has one, else ``QueryPlan/sql``.
    case singlePass
    /// ``QueryPlan/sql``.
    case sql
}

/// Runs rewritten private-query SQL against a SQLite database file opened read-only.
///
/// With user-level privacy the main statement is the plan's ``BoundedScan``, aggregated in one pass by
/// ``BoundedAggregator``; otherwise it is ``QueryPlan/sql``. The connection registers `veil_priority(k0, k1,
/// values…)`, the keyed hash the SQL form uses to choose the groups each unit keeps.
public final class SQLiteBackend: Sendable {
    private let queue: DatabaseQueue
    /// The database file.
    public let path: String

    /// Opens `path` read-only.
    /// - Parameter path: an existing SQLite database file.
    /// - Throws: ``VeilError`` (`invalid_input`) if the file is missing or is not a SQLite database.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw VeilError(.invalidInput, "database \(path) does not exist")
        }
        do {
            queue = try ReadOnlyDatabase.open(path: path, label: "veil.private-sql") { db in
                db.add(function: SQLiteBackend.priorityFunction)
                try SaturatingSum.register(db)
                // The rewrite's intermediate tables (GROUP BY, window partitions) stay in memory; pages are read
                // through a memory map and a 64 MiB page cache. None of these write to the file.
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                try db.execute(sql: "PRAGMA cache_size = -65536")
                try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            }
            try queue.read { db in _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
        } catch {
            throw VeilError(.invalidInput, "cannot open database \(path) read-only: \(Self.describe(error))")
        }
        self.path = path
    }

    /// `veil_priority(k0, k1, v1, v2, …)`: ``KeyedPriority/priority(key:of:)`` of the values under the key (k0, k1)
    /// (blobs are hashed as the text of their hex digits).
    static let priorityFunction = DatabaseFunction("veil_priority", argumentCount: nil, pure: true) { values in
        guard values.count >= 2, let k0 = Int64.fromDatabaseValue(values[0]),
              let k1 = Int64.fromDatabaseValue(values[1]) else {
            throw DatabaseError(message: "veil_priority needs a two-integer key")
        }
        let key = PartitionSamplingKey(k0: UInt64(bitPattern: k0), k1: UInt64(bitPattern: k1))
        return KeyedPriority.priority(key: key, of: values.dropFirst(2).map(SQLValue.init))
    }

    /// Checks, without reading a row, that the database can run the plan: every statement of it compiles, so
    /// the table and the columns the metadata declares exist. Run before the reservation, so that a wrong file or
    /// table costs no budget.
    /// - Throws: ``VeilError`` (`invalid_input`) naming what is missing.
    public func validate(_ plan: QueryPlan) throws {
        do {
            try queue.read { db in
                for source in plan.rewriter.relation.sources {
                    let name = source.table.name
                    guard try db.tableExists(name) || db.viewExists(name) else {
                        throw DatabaseError(message: "no table or view named \(name)")
                    }
                }
                try Self.checkJoinedUnits(plan, db: db)
                // Compiling reads the schema only; a view or a recursive CTE is not evaluated.
                _ = try db.makeStatement(sql: plan.sql)
                for histogram in plan.histogramQueries { _ = try db.makeStatement(sql: histogram.sql) }
            }
        } catch {
            var reason = Self.describe(error)
            if plan.table.maxRowsPerUnit != nil, reason.contains("_rowid_") {
                reason += " (max_rows_per_unit needs the table's _rowid_ to sample rows; a WITHOUT ROWID table has "
                    + "none: declare max_partitions_per_unit and max_rows_per_partition instead)"
            }
            throw VeilError(.invalidInput, "the database \(path) cannot answer a query on table \(plan.table.name): "
                            + reason)
        }
    }

    /// Runs the plan's SQL and returns every group's true quantities.
    ///
    /// Nothing in the data can make it fail: totals saturate at the range of `Int64` (``SaturatingSum``,
    /// ``BoundedTotals/saturatedTotal(_:)``), and a single-pass scan that outgrows its ``SinglePassLimits``
    /// gives way to the SQL form, which computes the same totals. What remains is the time limit and faults
    /// of the database itself.
    /// - Parameters:
    ///   - form: which form of the main statement to run (the single-pass one unless a test compares).
    ///   - timeLimit: the longest the statements may run together (see ``StatementDeadline``).
    ///   - limits: what the single-pass scan holds before the SQL form takes over.
    /// - Throws: ``VeilError``: `query_timeout` past the time limit; `query_failed` if the database fails.
    func run(_ plan: QueryPlan, form: MainStatementForm = .singlePass,
             timeLimit: Duration = PrivateQueryEngine.defaultTimeLimit,
             limits: SinglePassLimits = .standard) throws -> [TrueGroup] {
        var groups: [TrueGroup] = []
        try run(plan, form: form, timeLimit: timeLimit, limits: limits) { groups.append($0) }
        return groups
    }

    /// ``run(_:form:timeLimit:limits:)`` that hands the groups to `body` one at a time, in the same order. When
    /// the plan has no histogram, no more than one true group is held at a time, so the caller (the engine noises
    /// each group and keeps the released ones) needs memory for the aggregation only, not for every group.
    func run(_ plan: QueryPlan, form: MainStatementForm = .singlePass,
             timeLimit: Duration = PrivateQueryEngine.defaultTimeLimit,
             limits: SinglePassLimits = .standard, each body: (TrueGroup) -> Void) throws {
        let deadline = StatementDeadline(limit: timeLimit)
        do {
            try queue.read { db in
                try deadline.enforce(on: db) { try trueGroups(plan, db: db, form: form, limits: limits, each: body) }
            }
        } catch {
            if deadline.expired {
                throw VeilError(.queryTimeout, "the query on table \(plan.table.name) ran longer than its time limit "
                                + "of \(timeLimit) and was stopped")
            }
            throw VeilError(.queryFailed, "the database \(path) failed while running the query on table "
                            + "\(plan.table.name): \(Self.describe(error))")
        }
    }

    private func trueGroups(_ plan: QueryPlan, db: Database, form: MainStatementForm, limits: SinglePassLimits,
                            each body: (TrueGroup) -> Void) throws {
        let keyCount = plan.keys.count
        // Histograms are joined to their groups by key, so their groups are collected first; otherwise each
        // group goes to `body` as soon as it is complete.
        var collected = HistogramJoin()
        let streaming = plan.histogramQueries.isEmpty
        func emit(_ group: TrueGroup) {
            if streaming { body(group) } else { collected.append(group) }
        }
        var singlePass = false
        if form == .singlePass, let scan = plan.boundedScan, Self.comparesBytewise(plan, db: db) {
            let aggregator = BoundedAggregator(scan: scan, table: plan.table, quantities: plan.quantities,
                                               sampling: plan.sampling, limits: limits)
            var totals: BoundedTotals?
            do {
                try aggregator.scan(db, sql: scan.sql, arguments: StatementArguments(scan.parameters.map(\.databaseValue)))
                totals = try aggregator.totals(plan: plan, scan: scan)
                singlePass = true
            } catch is SinglePassLimitExceeded {
                // Too many rows or groups to hold: the SQL form computes the same totals with bounded memory.
            }
            totals?.forEachGroup(emit)
        }
        if !singlePass {
            let scalars = plan.quantities.filter { $0.dimension == 1 }.map(\.index)
            let cursor = try Row.fetchCursor(db, sql: plan.sql,
                                             arguments: StatementArguments(plan.parameters.map(\.databaseValue)))
            while let row = try cursor.next() {
                let key = (0..<keyCount).map { SQLValue(row[$0] as DatabaseValue).canonicalKey }
                var values = plan.quantities.map { [Int64](repeating: 0, count: $0.dimension) }
                for (offset, index) in scalars.enumerated() {
                    values[index][0] = try Self.integer(row[keyCount + offset])
                }
                emit(TrueGroup(key: key, values: values))
            }
        }
        guard !plan.histogramQueries.isEmpty else { return }
        for histogram in plan.histogramQueries {
            let rows = try Row.fetchCursor(db, sql: histogram.sql,
                                           arguments: StatementArguments(histogram.parameters.map(\.databaseValue)))
            while let row = try rows.next() {
                try collected.add(key: (0..<keyCount).map { SQLValue(row[$0] as DatabaseValue).canonicalKey },
                                  quantity: histogram.quantity, bins: plan.quantities[histogram.quantity].dimension,
                                  bin: try Self.integer(row[keyCount]), count: try Self.integer(row[keyCount + 1]))
            }
        }
        collected.groups.forEach(body)
    }

    /// Whether the unit and key columns of `plan` compare text byte by byte (the `BINARY` collation, the default),
    /// as the single pass does. A column declared with another collation (`COLLATE NOCASE`, `RTRIM`) groups text
    /// differently in SQLite, and a view's columns may inherit one; such plans run in the SQL form, which groups as
    /// SQLite does. The decision reads the schema only.
    static func comparesBytewise(_ plan: QueryPlan, db: Database) -> Bool {
        guard case .column(let unit) = plan.table.privacyUnit else { return true }
        for column in [unit] + plan.keys.map(\.column) {
            let (table, declared) = plan.rewriter.relation.origin(of: column)
            guard collation(of: declared, in: table, db: db) == "BINARY" else { return false }
        }
        return true
    }

    /// Refuses a join over a private table whose unit column has a collation other than `BINARY`. In SQLite the
    /// left operand's collation decides `=`, so `b.unit = a.unit` with `b.unit COLLATE NOCASE` would pair one unit
    /// of `b` ('bob') with several units of `a` ('Bob', 'BOB'), each bounded on its own: that unit's rows would then
    /// count once per match. The check reads the schema only; a view's columns report no collation and pass.
    static func checkJoinedUnits(_ plan: QueryPlan, db: Database) throws {
        guard plan.rewriter.relation.isJoin else { return }
        for source in plan.rewriter.relation.sources where !source.table.isPublic {
            guard case .column(let unit) = source.table.privacyUnit,
                  let collation = collation(of: unit, in: source.table.name, db: db), collation != "BINARY" else { continue }
            throw DatabaseError(message: "the privacy unit column \(unit) of table \(source.table.name) has the "
                                + "collation \(collation): a join on it could pair one unit's rows with several units of "
                                + "another table, so joins need unit columns that compare byte by byte (BINARY)")
        }
    }

    /// The declared collation of `column` in `table`, upper-cased; nil when SQLite does not report one.
    private static func collation(of column: String, in table: String, db: Database) -> String? {
        var collation: UnsafePointer<CChar>?
        let code = sqlite3_table_column_metadata(db.sqliteConnection, nil, table, column, nil, &collation, nil, nil, nil)
        guard code == SQLITE_OK, let collation else { return nil }
        return String(cString: collation).uppercased()
    }

    private static func integer(_ value: DatabaseValue) throws -> Int64 {
        guard let integer = Int64.fromDatabaseValue(value) else {
            throw DatabaseError(message: "a quantity column is not an integer")
        }
        return integer
    }

    static func describe(_ error: Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return String(describing: error)
    }
}

extension SQLValue {
    /// The value as GRDB binds it.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let v): v.databaseValue
        case .real(let v): v.databaseValue
        case .text(let v): v.databaseValue
        }
    }

    /// A value read from the database (blobs become text of their hex digits).
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let v): self = .integer(v)
        case .double(let v): self = .real(v)
        case .string(let s): self = .text(s)
        case .blob(let data): self = .hexText(of: data)
        }
    }
}
