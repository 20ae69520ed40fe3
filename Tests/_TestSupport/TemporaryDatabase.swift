import Foundation
import GRDB

/// A SQLite file of its own, in a folder of its own, removed when the value is released.
public final class TemporaryDatabase: @unchecked Sendable {
    private let temporary: TemporaryFolder
    /// The folder that holds the database file (and nothing else unless the test adds it).
    public var folder: URL { temporary.url }
    /// The database file.
    public let url: URL
    /// A connection to it, for building the test's tables.
    public let queue: DatabaseQueue

    /// Creates the file and runs `sql` (any number of statements) in it.
    public init(_ sql: String = "") throws {
        temporary = try TemporaryFolder("sqlite")
        url = temporary.url.appendingPathComponent("data.sqlite")
        queue = try DatabaseQueue(path: url.path)
        if !sql.isEmpty { try queue.write { try $0.execute(sql: sql) } }
    }

    /// The database file's path.
    public var path: String { url.path }
}
