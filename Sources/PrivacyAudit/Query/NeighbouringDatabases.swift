import Foundation
import GRDB
import Mechanisms
import PrivateSQL

/// Which privacy unit a query audit removes to build the neighbouring database.
public enum RemovedUnit: String, Sendable, Hashable, Codable, CaseIterable {
    /// The unit with the most rows in the queried table (ties: the smallest unit value): the unit whose
    /// absence moves unbounded aggregates most, so the one a missed bound shows on.
    case heaviest
    /// A unit chosen uniformly at random (with the operating system's CSPRNG).
    case random
}

/// Two temporary copies of a SQLite database that differ by one privacy unit: `D` (the copy) and `D'` (the
/// copy without every row of one unit, in every table of the metadata whose privacy unit is the same
/// column; with row privacy, one row of the queried table).
///
/// The folder and its copies are removed by ``remove()``. The removed unit is never reported: it is a value
/// of the private data.
public struct NeighbouringDatabases: Sendable {
    /// The folder holding the copies (and the audit's throw-away ledger).
    public let folder: URL
    /// The copy of the database: `D`.
    public let original: URL
    /// The copy without one unit: `D'`.
    public let neighbour: URL

    /// Copies `databasePath` twice into a new temporary folder and removes one unit from the second copy.
    ///
    /// - Parameters:
    ///   - databasePath: a SQLite database file (a PostgreSQL URL is refused).
    ///   - table: the queried table's metadata.
    ///   - metadata: all tables' metadata (the unit is removed from each table keyed by the same column).
    ///   - removed: which unit to remove.
    /// - Throws: ``VeilError`` (`invalid_input`) for a missing file, a PostgreSQL URL or a table without rows;
    ///   the database's errors otherwise.
    public init(databasePath: String, table: TableMetadata, metadata: PrivacyMetadata, removed: RemovedUnit) throws {
        guard !databasePath.hasPrefix("postgres://"), !databasePath.hasPrefix("postgresql://") else {
            throw VeilError(.invalidInput, "a query audit copies the database and needs a SQLite file, not a PostgreSQL URL")
        }
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw VeilError(.invalidInput, "database \(databasePath) does not exist")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-audit-\(UUID().uuidString)")
        // Copies of private data: a folder only the owner can enter.
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        original = folder.appendingPathComponent("original.sqlite")
        neighbour = folder.appendingPathComponent("neighbour.sqlite")
        do {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: databasePath), to: original)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: databasePath), to: neighbour)
            let queue = try DatabaseQueue(path: neighbour.path)
            try queue.write { db in try Self.removeUnit(db, table: table, metadata: metadata, removed: removed) }
            try queue.close()
        } catch {
            remove()
            throw error
        }
    }

    /// Deletes the temporary folder and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    static func removeUnit(_ db: Database, table: TableMetadata, metadata: PrivacyMetadata, removed: RemovedUnit) throws {
        let tableName = quoted(table.name)
        switch table.privacyUnit {
        case .row:
            let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(tableName)") ?? 0
            guard rows > 0 else { throw VeilError(.invalidInput, "table \(table.name) has no rows to remove") }
            var source = SecureRandomSource()
            let offset = Int(source.uniform(below: UInt64(rows)))
            try db.execute(sql: "DELETE FROM \(tableName) WHERE rowid = (SELECT rowid FROM \(tableName) ORDER BY rowid "
                           + "LIMIT 1 OFFSET ?)", arguments: [offset])
        case .column(let column):
            let unitColumn = quoted(column)
            let unit: DatabaseValue?
            switch removed {
            case .heaviest:
                unit = try DatabaseValue.fetchOne(db, sql: "SELECT \(unitColumn) FROM \(tableName) WHERE \(unitColumn) IS NOT NULL "
                                                  + "GROUP BY \(unitColumn) ORDER BY count(*) DESC, \(unitColumn) LIMIT 1")
            case .random:
                let units = try Int.fetchOne(db, sql: "SELECT count(DISTINCT \(unitColumn)) FROM \(tableName)") ?? 0
                guard units > 0 else { throw VeilError(.invalidInput, "table \(table.name) has no privacy unit to remove") }
                var source = SecureRandomSource()
                let offset = Int(source.uniform(below: UInt64(units)))
                unit = try DatabaseValue.fetchOne(db, sql: "SELECT DISTINCT \(unitColumn) FROM \(tableName) WHERE \(unitColumn) "
                                                  + "IS NOT NULL ORDER BY \(unitColumn) LIMIT 1 OFFSET ?", arguments: [offset])
            }
            guard let unit else { throw VeilError(.invalidInput, "table \(table.name) has no privacy unit to remove") }
            for other in metadata.tables where other.privacyUnit == .column(column) {
                let exists = try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' "
                                               + "AND name = ?", arguments: [other.name]) ?? false
                guard exists else { continue }
                try db.execute(sql: "DELETE FROM \(quoted(other.name)) WHERE \(unitColumn) = ?", arguments: [unit])
            }
        }
    }

    /// An SQL identifier in double quotes, inner quotes doubled.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
