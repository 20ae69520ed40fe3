import Accounting
import Foundation
import PostgresClient

/// A ledger on a PostgreSQL server: processes on several machines can share one budget.
///
/// **Serialisation.** Every write transaction runs at READ COMMITTED and first locks the one row of
/// `ledger_format` with `SELECT … FOR UPDATE`. The hash chain is a single sequence (each entry links
/// to the one before, whatever its scope), so appends must take turns across all scopes anyway, not
/// only within one; the row lock queues writers in the server instead of letting them run and abort
/// as SERIALIZABLE would (40001, then a retry per collision: with 8 processes charging, most of the
/// work would be thrown away). Every statement after the lock sees every earlier committed append.
/// Reads run at REPEATABLE READ: one snapshot, never blocked by writers.
///
/// **Durability.** The connection sets `synchronous_commit = on` (or `off` for ``Ledger/Durability/normal``),
/// so `reserve` returns only after the server has flushed the reservation to its write-ahead log. As
/// with SQLite, commits and refunds use `SET LOCAL synchronous_commit = off`: losing one in a server
/// crash leaves its reservation open, counted as spent.
///
/// A connection lost mid-transaction (server restart) fails the call; when the lost statement was
/// `COMMIT`, the server may or may not have stored it — a reservation then counts as spent or was
/// never made, never twice. The next call reconnects.
final class PostgresLedgerStore: LedgerStore, @unchecked Sendable {
    let url: PostgresURL
    let durability: Ledger.Durability
    var location: String { url.redacted }
    private let lock = NSLock()
    private var session: PostgresSession?

    /// Connects to `url`; creates the schema when `mode` allows and it is missing, and checks its format.
    /// - Throws: `ledgerUnavailable` when there is no ledger (with `.existing`) or one of another format;
    ///   `database_unavailable` when the server cannot be reached.
    init(url: PostgresURL, mode: Ledger.OpenMode, durability: Ledger.Durability) throws {
        self.url = url
        self.durability = durability
        try withSession { session in try Self.prepareSchema(session, location: url.redacted, mode: mode) }
    }

    func write<T>(flushImmediately: Bool, _ body: (any LedgerTransaction) throws -> T) throws -> T {
        try withSession { session in
            try session.transaction(isolation: .readCommitted) { session in
                // The lock, and for a commit or refund `SET LOCAL synchronous_commit = off`, in one round trip.
                let lock = !flushImmediately && durability == .full
                    ? "SELECT format, set_config('synchronous_commit', 'off', true) FROM ledger_format FOR UPDATE"
                    : "SELECT format FROM ledger_format FOR UPDATE"
                guard try session.query(lock).count == 1 else {
                    throw LedgerFailure.corrupt("\(location): the table ledger_format must hold one row")
                }
                return try body(PostgresLedgerTransaction(session: session))
            }
        }
    }

    func read<T>(_ body: (any LedgerTransaction) throws -> T) throws -> T {
        try withSession { session in
            try session.transaction(isolation: .repeatableRead) { session in
                try body(PostgresLedgerTransaction(session: session))
            }
        }
    }

    /// Runs `body` with the connection, one caller at a time; connects first if needed. A failure that
    /// did not come from a statement (the connection broke) drops the connection, so the next call
    /// starts on a new one.
    private func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let current: PostgresSession
        if let session {
            current = session
        } else {
            // The search path and the durability are set in the connection's start-up packet: no round trip.
            current = try PostgresSession(url: url, applicationName: "veil-ledger", settings: [
                ("search_path", PostgresLedgerSchema.schema),
                ("synchronous_commit", durability == .full ? "on" : "off"),
            ])
            session = current
        }
        do {
            return try body(current)
        } catch {
            if PostgresSession.sqlState(of: error) == nil, !Self.isLedgerError(error) {
                current.close()
                session = nil
            }
            throw error
        }
    }

    /// Whether `error` is one the ledger raised itself (the connection is fine).
    private static func isLedgerError(_ error: any Error) -> Bool {
        guard let error = error as? VeilError else { return false }
        return error.code != .databaseError && error.code != .databaseUnavailable
    }

    /// Creates the schema when missing (one process at a time, under an advisory lock) and checks its format.
    private static func prepareSchema(_ session: PostgresSession, location: String, mode: Ledger.OpenMode) throws {
        let schema = PostgresLedgerSchema.schema
        try session.transaction(isolation: .readCommitted) { session in
            // Several processes may create the same new ledger at once: the first takes the lock and
            // creates; the others wait, then find the schema complete.
            try session.query("SELECT pg_advisory_xact_lock(hashtext('\(schema)'))")
            let complete = try session.query("SELECT to_regclass('\(schema).ledger_format') IS NOT NULL")
            if complete.first?.first == .boolean(false) {
                let started = try session.query("SELECT to_regclass('\(schema).entry') IS NOT NULL")
                if started.first?.first == .boolean(true) {
                    throw VeilError(.ledgerUnavailable, "\(location) has a \(schema) schema but not a complete Veil ledger")
                }
                guard mode == .createIfMissing else {
                    throw VeilError(.ledgerUnavailable, "no ledger at \(location) (create a budget first with `veil budget create`)")
                }
                for statement in PostgresLedgerSchema.statements { try session.execute(statement) }
            }
            let formats = try session.query("SELECT format FROM \(schema).ledger_format")
            guard formats.count == 1, let format = formats[0].first?.integer else {
                throw LedgerFailure.corrupt("\(location): the table ledger_format must hold one row")
            }
            guard format == PostgresLedgerSchema.format else {
                throw VeilError(.ledgerUnavailable, """
                    \(location) holds a ledger of format \(format); this version of Veil reads format \(PostgresLedgerSchema.format)
                    """)
            }
        }
    }
}

/// The statements of one PostgreSQL transaction: `?` placeholders become `$1…$n`.
struct PostgresLedgerTransaction: LedgerTransaction {
    let session: PostgresSession

    func rows(_ sql: String, _ arguments: [LedgerValue]) throws -> [LedgerRow] {
        try session.query(Self.numbered(sql), arguments.map(Self.postgresValue)).map { $0.map(Self.ledgerValue) }
    }

    func forEachRow(_ sql: String, _ arguments: [LedgerValue], _ body: (LedgerRow) throws -> Void) throws {
        try withoutActuallyEscaping(body) { body in
            try session.forEachRow(Self.numbered(sql), arguments.map(Self.postgresValue)) { row in try body(row.map(Self.ledgerValue)) }
        }
    }

    /// `sql` with its `?` placeholders numbered `$1`, `$2`, … (the ledger's SQL has no `?` in a literal).
    static func numbered(_ sql: String) -> String {
        var result = ""
        var n = 0
        for character in sql {
            if character == "?" {
                n += 1
                result += "$\(n)"
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func postgresValue(_ value: LedgerValue) -> PostgresValue {
        switch value {
        case .null: .null
        case .integer(let v): .integer(v)
        case .real(let v): .real(v)
        case .text(let v): .text(v)
        }
    }

    private static func ledgerValue(_ value: PostgresValue) -> LedgerValue {
        switch value {
        case .null: .null
        case .integer(let v): .integer(v)
        case .real(let v): .real(v)
        case .text(let v): .text(v)
        case .boolean(let v): .integer(v ? 1 : 0)
        case .bytes(let v): String(bytes: v, encoding: .utf8).map(LedgerValue.text) ?? .null
        }
    }
}
