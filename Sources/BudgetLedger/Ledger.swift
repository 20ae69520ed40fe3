import Accounting
import Foundation
import GRDB

/// The privacy-budget ledger: one SQLite file holding budgets, reservations and releases as an
/// append-only hash chain (docs/design.md §2 rules 3 and 4).
///
/// Several processes may use the same file at once: the database is in WAL mode, waits up to
/// ``busyTimeout`` for a lock, and every charge runs in one `BEGIN IMMEDIATE` transaction that
/// checks the budget and appends the entry, so two charges can never both pass the same check.
///
/// ```swift
/// let ledger = try Ledger(path: "veil-ledger.sqlite", mode: .createIfMissing)
/// try ledger.createBudget(scope: "health_panel", epsilon: 3, delta: 1e-6, composition: .rdp)
/// let reservation = try ledger.reserve(event: .gaussian(noiseMultiplier: 4), cost: cost,
///                                      scope: "health_panel", analyst: "ana", purpose: "weekly counts")
/// // … draw the noise and release …
/// try ledger.commit(reservation, resultDigest: digest)
/// ```
public final class Ledger: Sendable {
    /// Whether opening may create a new ledger file.
    public enum OpenMode: Sendable {
        /// The file must exist and be a Veil ledger.
        case existing
        /// Create an empty ledger if the file does not exist (or is empty).
        case createIfMissing
    }

    /// The default file name, in the current directory.
    public static let defaultPath = "veil-ledger.sqlite"
    /// The environment variable that overrides the default path.
    public static let environmentVariable = "VEIL_LEDGER"
    /// How long a writer waits for another process's transaction before giving up.
    public static let busyTimeout: TimeInterval = 60

    /// When a committed transaction is on disk.
    public enum Durability: Sendable {
        /// `PRAGMA synchronous = FULL` for reservations: a reservation is flushed to disk (fsync)
        /// before `reserve` returns, so it survives a process crash, an operating-system crash and a
        /// power loss. Commits and refunds survive any process crash and reach the disk with the next
        /// flush; a power cut can only leave their reservation open (counted as spent). The default.
        case full
        /// `PRAGMA synchronous = NORMAL` in WAL mode: a charge survives the crash of any process,
        /// but the last transactions may be lost in an operating-system crash or power loss (the
        /// chain stays consistent). For benchmarks and scratch ledgers, not for real budgets.
        case normal
    }

    /// The path of the ledger file.
    public let path: String
    /// When reservations reach the disk.
    public let durability: Durability
    let database: DatabaseQueue
    /// How many read transactions this connection has run (see ``read(_:)``): lets tests check that
    /// a report or a listing is built from one snapshot.
    let readTransactions = TransactionCounter()

    /// Opens (or, with `.createIfMissing`, creates) the ledger at `path`.
    ///
    /// A file that is not an SQLite database, or an SQLite database without the ledger's tables, is
    /// refused without being written to.
    /// - Parameters:
    ///   - path: the ledger file.
    ///   - mode: whether a missing file may be created.
    ///   - durability: when transactions reach the disk; keep the default `.full` for real budgets.
    /// - Throws: `ledgerUnavailable` when the file is missing, a directory, not SQLite, or not a ledger.
    public init(path: String, mode: OpenMode = .existing, durability: Durability = .full) throws {
        self.path = path
        self.durability = durability
        let existing = try Self.inspectFile(at: path, mode: mode)
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
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

    /// Checks that an existing database holds only the ledger's tables, then creates or completes
    /// the schema with the migrator. Several processes may create the same new ledger at once: one
    /// of them migrates while the others wait for its lock, see its tables, and look again.
    private static func prepareSchema(_ database: DatabaseQueue, path: String, mode: OpenMode, checkTables: Bool) throws {
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

    /// The ledger path to use: `explicitPath` if given, else `$VEIL_LEDGER`, else ``defaultPath``.
    public static func resolvePath(_ explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicitPath, !explicitPath.isEmpty { return explicitPath }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }

    /// Checks the file before SQLite opens it; returns whether it exists with content.
    private static func inspectFile(at path: String, mode: OpenMode) throws -> Bool {
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

    // MARK: - Transactions

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction with the current head of the chain.
    ///
    /// - Parameter flushImmediately: whether the transaction must reach the disk before this returns
    ///   (the ledger's durability setting applies). Pass `false` only for entries whose loss in a
    ///   power cut is safe: commits and refunds. If one is lost, its reservation is open again and so
    ///   counts as spent until an operator resolves it — budget can be wasted, never overspent
    ///   (docs/design.md §2 rule 3). In WAL mode the next flushed transaction writes it to disk too, in
    ///   order, so the chain stays whole. Reservations always use the durability setting.
    func append<T>(flushImmediately: Bool = true, _ body: (Database, ChainHead) throws -> T) throws -> T {
        try LedgerFailure.storage(path) {
            var result: T?
            try database.writeWithoutTransaction { db in
                let relax = !flushImmediately && durability == .full
                if relax { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                defer { if relax { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
                try db.inTransaction(.immediate) {
                    result = try body(db, try Self.head(db))
                    return .commit
                }
            }
            guard let result else { throw VeilError(.ledgerStorage, "ledger \(path): the transaction did not run") }
            return result
        }
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        readTransactions.increment()
        return try LedgerFailure.storage(path) {
            try database.read { db in try body(db) }
        }
    }

    static func head(_ db: Database) throws -> ChainHead {
        if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM entry ORDER BY id DESC LIMIT 1")) {
            return ChainHead(id: row[0], hash: row[1])
        }
        return ChainHead(id: 0, hash: LedgerEntry.genesisHash)
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
