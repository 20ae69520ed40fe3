import PrivateSQL
import Synchronization

/// Read-only connections to one dataset's database, kept open between queries.
///
/// Opening a connection costs a file open, a schema read and the set-up of its page cache, and a fresh connection
/// starts with a cold cache; a service answering many small queries would pay that on every one. A query borrows
/// an idle connection (or opens one when all are busy) and gives it back when it is done, so there are never more
/// connections than queries running at once (``ServiceConfiguration/Limits/maximumConcurrentRequests``), and
/// each is used by one query at a time. A connection whose query threw is closed rather than kept.
///
/// The database is opened read-only and the file is expected not to change while the service runs (the data
/// owner restarts the service to publish new data): a kept connection may go on reading the file it first opened.
final class ReadConnectionPool: Sendable {
    /// The database file.
    let path: String
    private struct State {
        var idle: [SQLiteBackend] = []
        var opened = 0
    }
    private let state = Mutex(State())

    init(path: String) {
        self.path = path
    }

    /// How many connections were opened so far.
    var openedCount: Int { state.withLock { $0.opened } }

    /// Runs `body` with a connection of its own: an idle one, or a new one.
    /// - Throws: what opening the database throws (``SQLiteBackend/init(path:)``), or what `body` throws.
    func withConnection<T>(_ body: (SQLiteBackend) throws -> T) throws -> T {
        let connection: SQLiteBackend
        if let reused = state.withLock({ $0.idle.popLast() }) {
            connection = reused
        } else {
            connection = try SQLiteBackend(path: path)
            state.withLock { $0.opened += 1 }
        }
        let result = try body(connection)
        state.withLock { $0.idle.append(connection) }
        return result
    }
}
