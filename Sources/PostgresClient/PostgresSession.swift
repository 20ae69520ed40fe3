import Foundation
import Logging
import Mechanisms
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

extension VeilError.Code {
    /// The PostgreSQL server could not be reached or refused the connection (down, wrong port, wrong password).
    public static let databaseUnavailable = VeilError.Code("database_unavailable", category: .failure)
    /// The PostgreSQL server reported an error while running a statement.
    public static let databaseError = VeilError.Code("database_error", category: .failure)
}

/// One connection to a PostgreSQL server, used from synchronous code: every call blocks its caller until the
/// server has answered.
///
/// Statements take their values as bound parameters (`$1`, `$2`, …), never spliced into the SQL text. The
/// connection runs on the shared NIO event loop group; callers wait on it, so they must not be that group's own
/// threads (Veil's engines run on the caller's thread or a task's, never on an event loop).
///
/// Errors never carry the server's message text for statement errors, since messages such as `invalid input
/// syntax for type integer: "…"` or a constraint's `Key (x)=(…)` quote values of the data; they carry the
/// SQLSTATE code and its class instead (see ``describe(_:)``).
public final class PostgresSession: @unchecked Sendable {
    public let url: PostgresURL
    private let connection: PostgresConnection
    private let logger = Logger(label: "veil.postgres")
    private let lock = NSLock()
    private var closed = false

    /// Connects to `url`.
    /// - Parameters:
    ///   - applicationName: shown in the server's `pg_stat_activity`.
    ///   - settings: run-time parameters (`search_path`, `synchronous_commit`, …) set for the whole session in the
    ///     start-up packet, as `SET` would, without a round trip each.
    /// - Throws: ``VeilError`` (`database_unavailable`) naming the server (never its password) and the reason;
    ///   (`invalid_input`) if `sslrootcert` cannot be read.
    public init(url: PostgresURL, applicationName: String = "veil", settings: [(String, String)] = []) throws {
        self.url = url
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: try Self.tls(for: url))
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)] + settings
        do {
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                id: Self.nextConnectionID(), logger: logger
            ).wait()
        } catch {
            throw VeilError(.databaseUnavailable, "cannot connect to \(url.redacted): \(Self.describe(error))")
        }
    }

    deinit { close() }

    /// Closes the connection; later calls fail. Closing twice does nothing.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        try? connection.close().wait()
    }

    /// Runs `sql` with `parameters` bound to `$1…$n` and returns every row.
    /// - Throws: ``VeilError`` (`database_error`) with the SQLSTATE (see ``describe(_:)``).
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> [[PostgresValue]] {
        let rows = try run(sql, parameters) { connection, query, logger in
            connection.query(query, logger: logger).map(\.rows)
        }
        return try rows.map { row in try row.map(PostgresValue.init) }
    }

    /// Runs `sql` and hands each row to `body` as it arrives, without holding the whole result in memory.
    ///
    /// `body` runs on the connection's event-loop thread while the caller waits, one row at a time, so state it
    /// captures is never touched from two threads at once. An error thrown by `body` stops the statement and is
    /// rethrown as is.
    public func forEachRow(_ sql: String, _ parameters: [PostgresValue] = [],
                           _ body: @escaping ([PostgresValue]) throws -> Void) throws {
        let rowHandler = RowHandler(body: body)
        // postgres-nio may hold the row closure a little after the statement ends; `body` must not outlive this
        // call (callers pass closures made escaping with `withoutActuallyEscaping`), so the handler lets go of it.
        defer { rowHandler.body = nil }
        let thrown = FirstError()
        try runRows(sql, parameters, thrown: thrown) { row in
            do {
                try rowHandler.body?(try row.map(PostgresValue.init))
            } catch {
                thrown.error = error
                throw error
            }
        }
    }

    /// ``run(_:_:_:)`` for ``forEachRow(_:_:_:)``: when the row callback threw, its error, not the cancellation
    /// the server reports for the stopped statement.
    private func runRows(_ sql: String, _ parameters: [PostgresValue], thrown: FirstError,
                         _ onRow: @escaping @Sendable (PostgresRow) throws -> Void) throws {
        do {
            _ = try run(sql, parameters) { connection, query, logger in
                connection.query(query, logger: logger, onRow)
            }
        } catch {
            throw thrown.error ?? error
        }
    }

    /// Runs one statement without parameters and discards its rows: for schema set-up and transaction control.
    public func execute(_ statement: String) throws {
        try query(statement)
    }

    /// Runs `body` inside one transaction at `isolation`, committing when it returns and rolling back when it
    /// throws. A serialization failure (SQLSTATE 40001) or a detected deadlock (40P01) reruns the whole body, up to
    /// `attempts` times after a random back-off, since PostgreSQL asks the client to retry such transactions. A body
    /// that hands anything out before it returns (rows streamed to a caller) is not safe to rerun: pass
    /// `attempts: 1`.
    public func transaction<T>(isolation: IsolationLevel = .serializable, attempts: Int = 32,
                               _ body: (PostgresSession) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            try query("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
            do {
                let result = try body(self)
                try query("COMMIT")
                return result
            } catch {
                _ = try? query("ROLLBACK")
                if attempt < attempts, let state = Self.sqlState(of: error), state == "40001" || state == "40P01" {
                    // Back off a random while, growing with each attempt, so that two writers that keep colliding
                    // stop retrying in lockstep (one of them would otherwise lose every time).
                    let ceiling = min(0.2, 0.001 * Double(1 << min(attempt, 8)))
                    Thread.sleep(forTimeInterval: Double.random(in: 0...ceiling))
                    continue
                }
                throw error
            }
        }
    }

    /// Streams rows into `table` with `COPY … FROM STDIN` (text format): `produce` returns the next block of COPY
    /// text (tab-separated fields, `\N` for NULL, backslash escapes, one row per line; see ``PostgresCopyText``) and
    /// `nil` at the end. `table` is one identifier in the search path, taken exactly (case and spaces kept);
    /// names holding a double quote are refused.
    ///
    /// Blocks the caller until the server has stored every row.
    public func copyIn(table: String, columns: [String], produce: @escaping () throws -> [UInt8]?) throws {
        let connection = connection
        let logger = logger
        let producer = UncheckedBlockProducer(produce: produce)
        // postgres-nio wraps the table and each column name in double quotes without doubling inner ones, so a name
        // holding a double quote could end the identifier early: such names are refused.
        if let bad = ([table] + columns).first(where: { $0.contains("\"") || $0.contains("\0") || $0.isEmpty }) {
            throw VeilError(.invalidInput, "the name \(bad.debugDescription) cannot be used with COPY")
        }
        let outcome = BlockingOutcome()
        // The task runs on a queue of its own, not on Swift's cooperative pool: the caller blocks until the copy
        // ends, and when callers block every thread of that pool (tests run on it) a task queued there would never
        // start.
        Task(executorPreference: BlockingCallExecutor.shared) {
            do {
                try await connection.copyFrom(table: table, columns: columns,
                                              logger: logger) { writer in
                    while let block = try producer.produce() {
                        try await writer.write(ByteBuffer(bytes: block))
                    }
                }
            } catch {
                outcome.error = error
            }
            outcome.done.signal()
        }
        outcome.done.wait()
        if let error = outcome.error {
            if error is VeilError { throw error }
            throw VeilError(.databaseError, "PostgreSQL COPY into \(table) failed: \(Self.describe(error))",
                            cause: error)
        }
    }

    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// The SQLSTATE of a failed statement, if `error` came from the server (kept on ``VeilError/cause``).
    public static func sqlState(of error: any Error) -> String? {
        serverFields(of: (error as? VeilError)?.cause ?? error)?.state
    }

    /// The SQLSTATE and message of a server error, from either of postgres-nio's error types (statements run
    /// through the simple query protocol report the older `PostgresError`).
    private static func serverFields(of error: any Error) -> (state: String, message: String?)? {
        if let error = error as? PSQLError, let info = error.serverInfo {
            return (info[.sqlState] ?? "?????", info[.message])
        }
        if case .server(let response) = error as? PostgresError {
            return (response.fields[.sqlState] ?? "?????", response.fields[.message])
        }
        return nil
    }

    /// A one-line description of `error` that says nothing about the data: for server errors, the SQLSTATE and its
    /// class, plus the server's message only for classes that concern the connection, authentication or the
    /// schema (classes 08, 28, 3D, 42: missing tables and columns, syntax); for client-side errors, their kind.
    public static func describe(_ error: any Error) -> String {
        if let veil = error as? VeilError { return veil.message }
        if let (state, message) = serverFields(of: error) {
            let stateClass = String(state.prefix(2))
            if ["08", "28", "3D", "42"].contains(stateClass), let message {
                return "server error \(state): \(message.prefix(200))"
            }
            return "server error \(state) (class \(stateClass): \(Self.className(stateClass)))"
        }
        if let error = error as? PostgresError {
            if case .connectionClosed = error { return "the server closed the connection" }
            return "protocol error"
        }
        guard let error = error as? PSQLError else {
            if let ssl = error as? NIOSSLError { return "TLS failed (\(ssl))" }
            if error is IOError || error is ChannelError {
                return "connection failed (\(String(describing: error).prefix(120)))"
            }
            return "connection failed (\(type(of: error)))"
        }
        switch error.code {
        case .connectionError:
            let cause = error.underlying.map { String(describing: $0).prefix(120) } ?? "unknown"
            return "connection failed (\(cause))"
        case .serverClosedConnection, .uncleanShutdown: return "the server closed the connection"
        case .clientClosedConnection: return "the connection was closed"
        case .sslUnsupported: return "the server does not offer TLS"
        case .failedToAddSSLHandler: return "TLS could not be set up"
        case .authMechanismRequiresPassword: return "the server asks for a password (give it in the URL or $PGPASSWORD)"
        case .unsupportedAuthMechanism: return "the server asks for an authentication method Veil does not speak"
        case .saslError: return "authentication failed"
        case .queryCancelled: return "the statement was cancelled"
        default: return "protocol error (\(error.code))"
        }
    }

    // MARK: - Internals

    private func run<Result: Sendable>(
        _ sql: String, _ parameters: [PostgresValue],
        _ start: (PostgresConnection, PostgresQuery, Logger) -> EventLoopFuture<Result>
    ) throws -> Result {
        // A statement sent on a connection the server has closed (a restart, a network cut) is never answered
        // by postgres-nio; fail it instead of waiting forever.
        guard !connection.isClosed else {
            throw VeilError(.databaseUnavailable, "the connection to \(url.redacted) was closed")
        }
        var bindings = PostgresBindings()
        for parameter in parameters { bindings.append(parameter) }
        let query = PostgresQuery(unsafeSQL: sql, binds: bindings)
        do {
            return try start(connection, query, logger).wait()
        } catch let error as VeilError {
            throw error
        } catch let error as PSQLError {
            throw VeilError(.databaseError, "PostgreSQL \(Self.describe(error))", cause: error)
        } catch {
            throw VeilError(.databaseError, "PostgreSQL \(Self.describe(error))", cause: error)
        }
    }

    private static func tls(for url: PostgresURL) throws -> PostgresConnection.Configuration.TLS {
        switch url.tls {
        case .disable:
            return .disable
        case .verifyFull:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            if let path = url.rootCertificatePath {
                do {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
                } catch {
                    throw VeilError(.invalidInput, "cannot read sslrootcert \(path)")
                }
            }
            do {
                return .require(try NIOSSLContext(configuration: configuration))
            } catch {
                throw VeilError(.invalidInput, "cannot set up TLS for \(url.redacted): \(error)")
            }
        }
    }

    private static let connectionCounter = ConnectionCounter()

    private static func nextConnectionID() -> Int { connectionCounter.next() }

    /// Names of the SQLSTATE classes a statement can fail with (PostgreSQL documentation, Appendix A).
    private static func className(_ stateClass: String) -> String {
        switch stateClass {
        case "22": "data exception"
        case "23": "integrity constraint violation"
        case "25": "invalid transaction state"
        case "40": "transaction rollback"
        case "53": "insufficient resources"
        case "54": "program limit exceeded"
        case "55": "object not in prerequisite state"
        case "57": "operator intervention"
        case "58": "system error"
        case "XX": "internal error"
        default: "error"
        }
    }
}

/// Numbers connections for postgres-nio's log metadata.
private final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
}

/// The row callback of ``PostgresSession/forEachRow(_:_:_:)``: called only while the caller waits, one row at
/// a time, so it needs no synchronisation of its own; cleared when the call returns.
private final class RowHandler: @unchecked Sendable {
    var body: (([PostgresValue]) throws -> Void)?

    init(body: @escaping ([PostgresValue]) throws -> Void) {
        self.body = body
    }
}

/// The block source of ``PostgresSession/copyIn(table:columns:produce:)``: called from one task at a time while
/// the caller waits.
private struct UncheckedBlockProducer: @unchecked Sendable {
    let produce: () throws -> [UInt8]?
}

/// Runs the tasks of blocking calls (``PostgresSession/copyIn(table:columns:produce:)``) on a dispatch queue of
/// their own, so they make progress even while every thread of Swift's cooperative pool waits for one of them.
private final class BlockingCallExecutor: TaskExecutor {
    static let shared = BlockingCallExecutor()
    private let queue = DispatchQueue(label: "veil.postgres.blocking-calls", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// How a blocking call's task ended, and the semaphore its caller waits on.
private final class BlockingOutcome: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var error: (any Error)?
}

/// The first error a row callback threw, handed back to the waiting caller.
private final class FirstError: @unchecked Sendable {
    var error: (any Error)?
}
