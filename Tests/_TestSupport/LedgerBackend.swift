import Foundation
import PostgresClient

/// The stores a ledger test runs on: an SQLite file, or a fresh database on the PostgreSQL test server.
public enum LedgerBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// A new, empty ledger location for one test: `name` in `folder`, or a new database on the test server
    /// (see ``PostgresTestServer/freshDatabase(_:)``) as a `postgres://` URL.
    public func freshLocation(in folder: TemporaryFolder, name: String = "l.sqlite") throws -> String {
        switch self {
        case .sqlite: folder.path(name)
        case .postgres: try PostgresTestServer.freshDatabase("veil_ledger_test").redacted
        }
    }
}
