import Foundation
import PostgresClient

/// The PostgreSQL server the tests use.
///
/// `make test` and `.ci/run` start a throw-away server (`scripts/with-postgres.sh`) and export its URL as
/// `VEIL_TEST_POSTGRES_URL`. When the variable is unset outside CI (`swift test` run by hand), the first test that
/// asks starts a server of its own with `scripts/pg-server.sh` and stops it when the test process exits. In CI
/// (`CI` set) a missing variable fails the test instead: a test that needs the server must never pass without it.
public enum PostgresTestServer {
    /// The server's URL (its `postgres` database).
    public static func url() throws -> PostgresURL {
        try shared.url()
    }

    /// A new, empty database on the test server, for one test (tests run in parallel; each gets its own).
    public static func freshDatabase(_ prefix: String = "veil_test") throws -> PostgresURL {
        let server = try url()
        let name = "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let session = try PostgresSession(url: server)
        defer { session.close() }
        try session.execute("CREATE DATABASE \(PostgresIdentifier.quote(name))")
        return server.withDatabase(name)
    }

    private static let shared = SharedServer()

    private final class SharedServer: @unchecked Sendable {
        private let lock = NSLock()
        private var started: Result<PostgresURL, any Error>?

        func url() throws -> PostgresURL {
            lock.lock()
            defer { lock.unlock() }
            if let started { return try started.get() }
            let result = Result { try Self.locate() }
            started = result
            return try result.get()
        }

        private static func locate() throws -> PostgresURL {
            let environment = ProcessInfo.processInfo.environment
            if let url = environment["VEIL_TEST_POSTGRES_URL"], !url.isEmpty {
                return try PostgresURL(url)
            }
            if environment["CI"] != nil {
                throw TestServerError("VEIL_TEST_POSTGRES_URL is not set: CI runs the tests through scripts/with-postgres.sh")
            }
            let folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("veil-postgres-\(ProcessInfo.processInfo.processIdentifier)").path
            guard try runScriptQuietly("pg-server.sh", ["start", folder]) == 0,
                  let url = try? String(contentsOfFile: folder + "/url", encoding: .utf8) else {
                throw TestServerError("scripts/pg-server.sh could not start PostgreSQL (is the postgresql package installed?)")
            }
            ownedServerFolder = folder
            atexit {
                guard let folder = ownedServerFolder else { return }
                _ = try? runScriptQuietly("pg-server.sh", ["stop", folder])
            }
            return try PostgresURL(url.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    public struct TestServerError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}

/// The folder of the server this test process started itself, stopped at exit.
nonisolated(unsafe) private var ownedServerFolder: String?
