import Accounting
import Foundation
import PostgresClient

/// The privacy-budget ledger: budgets, reservations and releases as an append-only hash chain
/// (docs/design.md §2 rules 3 and 4), in one SQLite file or on a PostgreSQL server (``open(location:mode:durability:)``).
///
/// Several processes (on several machines, with PostgreSQL) may use the same ledger at once: every
/// charge runs in one write transaction that checks the budget and appends the entry while no other
/// writer runs (see ``SQLiteLedgerStore`` and ``PostgresLedgerStore``), so two charges can never both
/// pass the same check.
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
        /// On PostgreSQL: `synchronous_commit = on` for reservations, `off` for commits and refunds.
        case full
        /// `PRAGMA synchronous = NORMAL` in WAL mode: a charge survives the crash of any process,
        /// but the last transactions may be lost in an operating-system crash or power loss (the
        /// chain stays consistent). For benchmarks and scratch ledgers, not for real budgets.
        /// On PostgreSQL: `synchronous_commit = off` for every transaction.
        case normal
    }

    /// The path of the ledger file, or the URL of its PostgreSQL server without the password.
    public let path: String
    /// When reservations reach the disk.
    public let durability: Durability
    /// Where the entries are kept: the only part of the ledger that differs between SQLite and PostgreSQL.
    let store: any LedgerStore
    /// How many read transactions this connection has run (see ``read(_:)``): lets tests check that
    /// a report or a listing is built from one snapshot.
    let readTransactions = TransactionCounter()

    /// Opens (or, with `.createIfMissing`, creates) the ledger file at `path`.
    ///
    /// A file that is not an SQLite database, or an SQLite database without the ledger's tables, is
    /// refused without being written to.
    /// - Parameters:
    ///   - path: the ledger file.
    ///   - mode: whether a missing file may be created.
    ///   - durability: when transactions reach the disk; keep the default `.full` for real budgets.
    /// - Throws: `ledgerUnavailable` when the file is missing, a directory, not SQLite, or not a ledger.
    public convenience init(path: String, mode: OpenMode = .existing, durability: Durability = .full) throws {
        self.init(store: try SQLiteLedgerStore(path: path, mode: mode, durability: durability), durability: durability)
    }

    /// Opens (or creates) the ledger at `location`: a `postgres://user@host:port/db` URL (the ledger lives
    /// in the database's schema `veil_ledger`, see docs/budget-ledger.md), or else the path of an SQLite file.
    /// - Throws: `invalid_input` for a malformed URL; `database_unavailable` when the server cannot be
    ///   reached; otherwise as ``init(path:mode:durability:)``.
    public static func open(location: String, mode: OpenMode = .existing, durability: Durability = .full) throws -> Ledger {
        guard PostgresURL.isPostgresURL(location) else {
            return try Ledger(path: location, mode: mode, durability: durability)
        }
        let url = try PostgresURL(location)
        return Ledger(store: try PostgresLedgerStore(url: url, mode: mode, durability: durability), durability: durability)
    }

    /// Whether `location` names a ledger on a server (a `postgres://` or `postgresql://` URL) rather than a file.
    public static func isServerLocation(_ location: String) -> Bool {
        PostgresURL.isPostgresURL(location)
    }

    init(store: any LedgerStore, durability: Durability) {
        self.store = store
        self.durability = durability
        path = store.location
    }

    /// The ledger path or URL to use: `explicitPath` if given, else `$VEIL_LEDGER`, else ``defaultPath``.
    public static func resolvePath(_ explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicitPath, !explicitPath.isEmpty { return explicitPath }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }

    // MARK: - Transactions

    /// Runs `body` in one write transaction with the current head of the chain: no other writer runs
    /// beside it (`BEGIN IMMEDIATE` on SQLite, the ledger's row lock on PostgreSQL).
    ///
    /// - Parameter flushImmediately: whether the transaction must reach the disk before this returns
    ///   (the ledger's durability setting applies). Pass `false` only for entries whose loss in a
    ///   power cut is safe: commits and refunds. If one is lost, its reservation is open again and so
    ///   counts as spent until an operator resolves it — budget can be wasted, never overspent
    ///   (docs/design.md §2 rule 3). The store writes later transactions after it, in order, so the
    ///   chain stays whole. Reservations always use the durability setting.
    func append<T>(flushImmediately: Bool = true, _ body: (any LedgerTransaction, ChainHead) throws -> T) throws -> T {
        try store.write(flushImmediately: flushImmediately) { db in try body(db, try Self.head(db)) }
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    func read<T>(_ body: (any LedgerTransaction) throws -> T) throws -> T {
        readTransactions.increment()
        return try store.read(body)
    }

    static func head(_ db: any LedgerTransaction) throws -> ChainHead {
        if let row = try db.row("SELECT id, hash FROM entry ORDER BY id DESC LIMIT 1") {
            guard let id = row[0].int64, let hash = row[1].string else {
                throw LedgerFailure.corrupt("the last entry has no integer id or no hash")
            }
            return ChainHead(id: id, hash: hash)
        }
        return ChainHead(id: 0, hash: LedgerEntry.genesisHash)
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
