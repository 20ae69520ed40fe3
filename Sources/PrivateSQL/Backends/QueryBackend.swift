import Foundation
import Mechanisms
import PostgresClient

/// A database that answers a plan's statements: SQLite (``SQLiteBackend``) or PostgreSQL (``PostgresBackend``).
///
/// Both follow the engine's order (docs/design.md §2 rule 3): ``validate(_:)`` reads the schema only and runs before
/// the reservation; ``run(_:timeLimit:each:)`` reads rows and runs after it.
protocol QueryBackend {
    /// Checks, without reading a row, that the database can run the plan.
    /// - Throws: ``VeilError`` (`invalid_input`) naming what is missing.
    func validate(_ plan: QueryPlan) throws
    /// Runs the plan and hands every group's true quantities to `body`, in the plan's group order.
    /// - Throws: ``VeilError``: `query_timeout` past the time limit; `query_failed` if the database fails.
    func run(_ plan: QueryPlan, timeLimit: Duration, each body: (TrueGroup) -> Void) throws
}

extension SQLiteBackend: QueryBackend {
    func run(_ plan: QueryPlan, timeLimit: Duration, each body: (TrueGroup) -> Void) throws {
        try run(plan, form: .singlePass, timeLimit: timeLimit, limits: .standard, each: body)
    }
}

/// Which backend a `--db` value names.
enum QueryDatabase {
    /// A `postgres://` or `postgresql://` URL opens a ``PostgresBackend`` (a connection, no rows read); anything
    /// else is a SQLite file opened read-only.
    /// - Throws: ``VeilError``: `invalid_input` (missing file, malformed URL), `database_unavailable` (server down).
    static func open(_ database: String) throws -> any QueryBackend {
        if PostgresURL.isPostgresURL(database) { return try PostgresBackend(url: PostgresURL(database)) }
        return try SQLiteBackend(path: database)
    }
}
