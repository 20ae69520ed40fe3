import Accounting
import Foundation
import GRDB

/// A ledger in one SQLite file (the default store).
///
/// Several processes may use the same file at once: the database is in WAL mode, waits up to
/// ``Ledger/busyTimeout`` for a lock, and every write runs in one `BEGIN IMMEDIATE` transaction, so
/// writers take turns.
final class SQLiteLedgerStore: LedgerStore {
    let location: String
    let durability: Ledger.Durability
    let database: DatabaseQueue

    /// Opens (or, with `.createIfMissing`, creates) the ledger file at `path`.
    ///
    /// A file that is not an SQLite database, or an SQLite database without the ledger's tables, is
    /// refused without being written to.
    /// - Throws: `ledgerUnavailable` when the file is missing, a directory, not SQLite, or not a ledger.
    init(path: String, mode: Ledger.OpenMode, durability: Ledger.Durability) throws {
        location = path
        self.durability = durability
        let existing = try Self.inspectFile(at: path, mode: mode)
        var configuration = Configuration()
        configuration.busyMode = .timeout(Ledger.busyTimeout)
        configuration.label = "veil-ledger"
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            // With FULL, every commit reaches the disk before `reserve` or `commit` returns.
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        database = try LedgerFailure.storage(path) {
            try DatabaseQueue(path: path, configuration: configuration)
        }
        try LedgerFailure.storage(path) {
            try Self.prepareSchema(database, path: path, mode: mode, checkTables: existing)
        }
    }

    func write<T>(flushImmediately: Bool, _ body: (any LedgerTransaction) throws -> T) throws -> T {
        try LedgerFailure.storage(location) {
            var result: T?
            try database.writeWithoutTransaction { db in
                let relax = !flushImmediately && durability == .full
                if relax { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                defer { if relax { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteLedgerTransaction(db: db))
                    return .commit
                }
            }
            guard let result else { throw VeilError(.ledgerStorage, "ledger \(location): the transaction did not run") }
            return result
        }
    }

    func read<T>(_ body: (any LedgerTransaction) throws -> T) throws -> T {
        try LedgerFailure.storage(location) {
            try database.read { db in try body(SQLiteLedgerTransaction(db: db)) }
        }
    }

    /// Checks that an existing database holds only the ledger's tables, then creates or completes
    /// the schema with the migrator. Several processes may create the same new ledger at once: one
    /// of them migrates while the others wait for its lock, see its tables, and look again.
    private static func prepareSchema(_ database: DatabaseQueue, path: String, mode: Ledger.OpenMode, checkTables: Bool) throws {
        let ledgerTables: Set<String> = ["entry", "scope_total", "scope_composition", "grdb_migrations"]
        let migrator = LedgerSchema.migrator
        var attempts = 0
        while true {
            do {
                if checkTables {
                    let tables = try database.read { db in
                        Set(try String.fetchAll(db, sql: """
                            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                            """))
                    }
                    // An SQLite file with other tables, or (unless creating) with none, is not ours.
                    guard tables.isSubset(of: ledgerTables), !(tables.isEmpty && mode == .existing) else {
                        throw VeilError(.ledgerUnavailable, "\(path) is an SQLite database but not a Veil ledger")
                    }
                }
                if try database.read({ try migrator.hasCompletedMigrations($0) }) { return }
                try database.writeWithoutTransaction { db in
                    _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                }
                try migrator.migrate(database)
                return
            } catch let error as DatabaseError
                where attempts < 50 && [.SQLITE_ERROR, .SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) {
                // Another process is creating the schema ("no such table", "table already exists").
                attempts += 1
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    /// Checks the file before SQLite opens it; returns whether it exists with content.
    private static func inspectFile(at path: String, mode: Ledger.OpenMode) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            if mode == .existing {
                throw VeilError(.ledgerUnavailable, "no ledger at \(path) (create a budget first with `veil budget create`)")
            }
            return false
        }
        guard !isDirectory.boolValue else {
            throw VeilError(.ledgerUnavailable, "\(path) is a directory, not a ledger file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw VeilError(.ledgerUnavailable, "cannot read \(path)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty {
            if mode == .existing { throw VeilError(.ledgerUnavailable, "\(path) is empty, not a Veil ledger") }
            return false
        }
        guard header == Data("SQLite format 3\0".utf8) else {
            throw VeilError(.ledgerUnavailable, "\(path) is not a Veil ledger (not an SQLite database)")
        }
        return true
    }
}

/// The statements of one SQLite transaction (statements are prepared once per connection and cached).
struct SQLiteLedgerTransaction: LedgerTransaction {
    let db: Database

    func rows(_ sql: String, _ arguments: [LedgerValue]) throws -> [LedgerRow] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments)).map(Self.row)
    }

    func forEachRow(_ sql: String, _ arguments: [LedgerValue], _ body: (LedgerRow) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: Self.arguments(arguments))
        while let row = try cursor.next() { try body(Self.row(row)) }
    }

    private static func arguments(_ values: [LedgerValue]) -> StatementArguments {
        StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: nil
            case .integer(let v): v
            case .real(let v): v
            case .text(let v): v
            }
        })
    }

    private static func row(_ row: Row) -> LedgerRow {
        row.databaseValues.map { value in
            switch value.storage {
            case .null: .null
            case .int64(let v): .integer(v)
            case .double(let v): .real(v)
            case .string(let v): .text(v)
            case .blob(let data): String(data: data, encoding: .utf8).map(LedgerValue.text) ?? .null
            }
        }
    }
}
