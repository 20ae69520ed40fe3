import Dispatch
import GRDB
import GRDBSQLite

/// A time limit on the statements of one query, enforced through SQLite's progress handler: every 1,000 virtual
/// machine instructions the handler compares the monotonic clock with the deadline and, once it has passed, makes
/// SQLite abort the running statement with `SQLITE_INTERRUPT`.
///
/// A statement that never ends on its own (a view over a recursive CTE without a bound, a cross join of large
/// tables) then ends within the limit instead of holding the query, its reservation and the machine forever.
final class StatementDeadline {
    /// The monotonic time (``DispatchTime/uptimeNanoseconds``) after which statements are interrupted.
    let deadline: UInt64
    /// The limit it was made from.
    let limit: Duration
    /// Whether the handler interrupted a statement.
    private(set) var expired = false

    /// A deadline `limit` from now.
    init(limit: Duration) {
        self.limit = limit
        let (seconds, attoseconds) = limit.components
        let nanoseconds = seconds >= Int64(UInt64.max / 2_000_000_000) ? UInt64.max / 2
            : UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
        deadline = DispatchTime.now().uptimeNanoseconds + nanoseconds
    }

    /// Runs `body` with the handler installed on the connection of `db`, and removes it afterwards.
    func enforce<T>(on db: Database, _ body: () throws -> T) rethrows -> T {
        let connection = db.sqliteConnection
        sqlite3_progress_handler(connection, 1000, { context in
            guard let context else { return 0 }
            let deadline = Unmanaged<StatementDeadline>.fromOpaque(context).takeUnretainedValue()
            guard DispatchTime.now().uptimeNanoseconds >= deadline.deadline else { return 0 }
            deadline.expired = true
            return 1
        }, Unmanaged.passUnretained(self).toOpaque())
        defer { sqlite3_progress_handler(connection, 0, nil, nil) }
        return try withExtendedLifetime(self) { try body() }
    }
}
