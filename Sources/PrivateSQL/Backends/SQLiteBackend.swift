import Foundation
import GRDB
import Mechanisms

/// One group's true (un-noised) quantities as computed by the database.
///
/// Internal on purpose: true aggregates are never printed, logged or returned to callers outside the
/// module; they exist only to be noised (DESIGN.md §2 rule 7). No `description` is provided.
struct TrueGroup: Sendable {
    /// Key values, in the plan's key order.
    let key: [SQLValue]
    /// For each quantity of the plan, its coordinates as exact integers in units of its granularity.
    var values: [[Int64]]
}

/// Runs rewritten private-query SQL against a SQLite database file opened read-only.
///
/// The connection registers `veil_priority(k0, k1, values…)`, the SipHash-2-4 of the values under the
/// 128-bit key `(k0, k1)`, which the rewrite uses to choose the groups each unit keeps.
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
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "veil.private-sql"
        configuration.prepareDatabase { db in
            db.add(function: SQLiteBackend.priorityFunction)
            // The rewrite's intermediate tables (GROUP BY, window partitions) stay in memory; pages are read
            // through a memory map and a 64 MiB page cache. None of these write to the file.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.read { db in _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
        } catch {
            throw VeilError(.invalidInput, "cannot open database \(path) read-only: \(Self.describe(error))")
        }
        self.path = path
    }

    /// `veil_priority(k0, k1, v1, v2, …)`: SipHash-2-4 under key (k0, k1) of the values' canonical bytes
    /// (a type tag word, then 8 little-endian bytes for numbers or the UTF-8 bytes and length for text and blobs).
    static let priorityFunction = DatabaseFunction("veil_priority", argumentCount: nil, pure: true) { values in
        guard values.count >= 2, let k0 = Int64.fromDatabaseValue(values[0]),
              let k1 = Int64.fromDatabaseValue(values[1]) else {
            throw DatabaseError(message: "veil_priority needs a two-integer key")
        }
        var hasher = SipHash24(k0: UInt64(bitPattern: k0), k1: UInt64(bitPattern: k1))
        for value in values.dropFirst(2) {
            switch value.storage {
            case .null:
                hasher.append(0)
            case .int64(let v):
                hasher.append(1)
                hasher.append(UInt64(bitPattern: v))
            case .double(let v):
                hasher.append(2)
                hasher.append(v.bitPattern)
            case .string(let s):
                hasher.append(3)
                hasher.append(UInt64(s.utf8.count))
                hasher.append(s.utf8)
            case .blob(let data):
                hasher.append(4)
                hasher.append(UInt64(data.count))
                hasher.append(data)
            }
        }
        return Int64(bitPattern: hasher.finalize())
    }

    /// Runs the plan's SQL and returns every group's true quantities.
    /// - Throws: ``VeilError`` (`invalid_input`) if the database rejects the statement (e.g. the table or a
    ///   column declared in the metadata is missing).
    func run(_ plan: QueryPlan) throws -> [TrueGroup] {
        let keyCount = plan.keys.count
        let scalars = plan.quantities.filter { $0.dimension == 1 }.map(\.index)
        do {
            return try queue.read { db in
                var groups: [TrueGroup] = []
                var positions: [[SQLValue]: Int] = [:]
                let cursor = try Row.fetchCursor(db, sql: plan.sql,
                                                 arguments: StatementArguments(plan.parameters.map(\.databaseValue)))
                while let row = try cursor.next() {
                    let key = (0..<keyCount).map { SQLValue(row[$0] as DatabaseValue) }
                    var values = plan.quantities.map { [Int64](repeating: 0, count: $0.dimension) }
                    for (offset, index) in scalars.enumerated() {
                        values[index][0] = try Self.integer(row[keyCount + offset])
                    }
                    positions[key] = groups.count
                    groups.append(TrueGroup(key: key, values: values))
                }
                for histogram in plan.histogramQueries {
                    let bins = plan.quantities[histogram.quantity].dimension
                    let rows = try Row.fetchCursor(db, sql: histogram.sql,
                                                   arguments: StatementArguments(histogram.parameters.map(\.databaseValue)))
                    while let row = try rows.next() {
                        let key = (0..<keyCount).map { SQLValue(row[$0] as DatabaseValue) }
                        // A group the main statement does not list has no released row (thresholding uses the
                        // main statement's unit counts); its histogram is not needed.
                        guard let position = positions[key] else { continue }
                        let bin = Int(try Self.integer(row[keyCount]))
                        guard bin >= 0, bin < bins else { throw DatabaseError(message: "histogram bin out of range") }
                        groups[position].values[histogram.quantity][bin] = try Self.integer(row[keyCount + 1])
                    }
                }
                return groups
            }
        } catch {
            throw VeilError(.invalidInput, "the database could not run the query on table \(plan.table.name) of "
                            + "\(path): \(Self.describe(error))")
        }
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
        case .blob(let data): self = .text(data.map { String(format: "%02x", $0) }.joined())
        }
    }
}
