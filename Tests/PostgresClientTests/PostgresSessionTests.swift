import Foundation
import Mechanisms
import PostgresClient
import Testing
import _TestSupport

/// Runs against the test server (`PostgresTestServer`): every statement here really reaches PostgreSQL.
@Suite struct PostgresSessionTests {
    @Test func boundParametersRoundTripEveryTypeAndAreNeverSplicedIntoTheText() throws {
        let session = try PostgresSession(url: try PostgresTestServer.url())
        defer { session.close() }
        let hostile = "x'); DROP TABLE pg_class; --"
        let row = try session.query("SELECT $1::int8, $2::float8, $3::text, $4::bool, $5::bytea, $6::text",
                                    [.integer(-9_007_199_254_740_993), .real(0.1), .text(hostile), .boolean(true),
                                     .bytes([0, 255, 7]), .null])
        #expect(row == [[.integer(-9_007_199_254_740_993), .real(0.1), .text(hostile), .boolean(true),
                         .bytes([0, 255, 7]), .null]])
    }

    @Test func numericResultsKeepEveryDigit() throws {
        let session = try PostgresSession(url: try PostgresTestServer.url())
        defer { session.close() }
        let rows = try session.query("SELECT 12345678901234567890123::numeric + 1")
        #expect(rows == [[.text("12345678901234567890124")]])
    }

    @Test func streamsRowsOneAtATimeAndStopsOnTheCallbacksError() throws {
        let session = try PostgresSession(url: try PostgresTestServer.url())
        defer { session.close() }
        var total: Int64 = 0
        var count = 0
        try session.forEachRow("SELECT generate_series(1, $1::int)", [.integer(1000)]) { row in
            total += row[0].integer ?? 0
            count += 1
        }
        #expect(count == 1000)
        #expect(total == 500_500)

        struct Stop: Error {}
        var seen = 0
        #expect(throws: Stop.self) {
            try session.forEachRow("SELECT generate_series(1, 100000)") { _ in
                seen += 1
                if seen == 10 { throw Stop() }
            }
        }
        #expect(seen == 10)
        // The connection is still usable after the stopped statement.
        #expect(try session.query("SELECT 1") == [[.integer(1)]])
    }

    @Test func statementErrorsNameTheSQLStateButNeverAValueOfTheData() throws {
        let session = try PostgresSession(url: try PostgresTestServer.url())
        defer { session.close() }
        do {
            _ = try session.query("SELECT $1::text::int", [.text("secret-value-42")])
            Issue.record("the cast succeeded")
        } catch let error as VeilError {
            #expect(error.code == .databaseError)
            #expect(error.message.contains("22P02"), "\(error.message)")
            #expect(!error.message.contains("secret-value-42"), "\(error.message)")
            #expect(PostgresSession.sqlState(of: error) == "22P02")
        }
    }

    @Test func schemaErrorsSayWhatIsMissing() throws {
        let session = try PostgresSession(url: try PostgresTestServer.url())
        defer { session.close() }
        let error = #expect(throws: VeilError.self) { try session.query("SELECT * FROM no_such_table_here") }
        #expect(error?.message.contains("no_such_table_here") == true, "\(error?.message ?? "")")
    }

    @Test func aServerThatIsNotThereIsReportedWithoutThePassword() throws {
        // Port 1 on loopback: nothing listens there.
        let url = try PostgresURL("postgres://veil:hunter2@127.0.0.1:1/none")
        let error = #expect(throws: VeilError.self) { try PostgresSession(url: url) }
        #expect(error?.code == .databaseUnavailable)
        #expect(error?.message.contains("postgres://veil@127.0.0.1:1/none") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func aTransactionCommitsWhatItsBodyDidAndRollsBackWhenItThrows() throws {
        let database = try PostgresTestServer.freshDatabase()
        let session = try PostgresSession(url: database)
        defer { session.close() }
        try session.execute("CREATE TABLE t (v int8)")
        _ = try session.transaction { try $0.query("INSERT INTO t VALUES ($1)", [.integer(1)]) }
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try session.transaction { session in
                try session.query("INSERT INTO t VALUES ($1)", [.integer(2)])
                throw Abort()
            }
        }
        #expect(try session.query("SELECT v FROM t ORDER BY v") == [[.integer(1)]])
    }

    @Test func copyRefusesNamesThatWouldEndTheQuotedIdentifierEarly() throws {
        let session = try PostgresSession(url: try PostgresTestServer.url())
        defer { session.close() }
        let error = #expect(throws: VeilError.self) {
            try session.copyIn(table: "t\" (x) FROM PROGRAM 'id'; --", columns: []) { nil }
        }
        #expect(error?.code == .invalidInput)
    }

    @Test func serializationFailuresAreRetriedUntilBothWritersCommit() throws {
        let database = try PostgresTestServer.freshDatabase()
        let setup = try PostgresSession(url: database)
        defer { setup.close() }
        try setup.execute("CREATE TABLE counter (n int8)")
        try setup.execute("INSERT INTO counter VALUES (0)")
        // Two writers each add 1, 40 times, with read-then-write under SERIALIZABLE: without the retry one of them
        // fails with SQLSTATE 40001 and the counter ends below 80.
        let writers = (0..<2).map { _ in Thread.detachNewThreadAndWait {
            let session = try PostgresSession(url: database)
            defer { session.close() }
            for _ in 0..<40 {
                try session.transaction { session in
                    let n = try session.query("SELECT n FROM counter")[0][0].integer ?? 0
                    try session.query("UPDATE counter SET n = $1", [.integer(n + 1)])
                }
            }
        } }
        for writer in writers { try writer.wait() }
        #expect(try setup.query("SELECT n FROM counter") == [[.integer(80)]])
    }

    @Test func copyInStoresEveryFieldExactlyIncludingTabsNewlinesBackslashesAndNulls() throws {
        let database = try PostgresTestServer.freshDatabase()
        let session = try PostgresSession(url: database)
        defer { session.close() }
        try session.execute("CREATE TABLE \"Odd Name\" (id int8, \"Note\" text)")
        let rows: [[String?]] = (0..<2000).map { i in ["\(i)", i % 7 == 0 ? nil : "n\t\(i)\\\n\"é\""] }
        var blocks = stride(from: 0, to: rows.count, by: 500).map { start in
            Array(rows[start..<min(start + 500, rows.count)].map(PostgresCopyText.row).joined().utf8)
        }.makeIterator()
        try session.copyIn(table: "Odd Name", columns: ["id", "Note"]) { blocks.next() }
        let stored = try session.query("SELECT id, \"Note\" FROM \"Odd Name\" ORDER BY id")
        #expect(stored.count == 2000)
        #expect(stored.enumerated().allSatisfy { i, row in
            row == [.integer(Int64(i)), i % 7 == 0 ? .null : .text("n\t\(i)\\\n\"é\"")]
        })
    }
}

extension Thread {
    /// Runs `body` on a new thread; `wait()` on the result blocks until it ends and rethrows its error.
    fileprivate static func detachNewThreadAndWait(_ body: @escaping @Sendable () throws -> Void) -> PendingThread {
        let pending = PendingThread()
        Thread.detachNewThread {
            do { try body() } catch { pending.error = error }
            pending.done.signal()
        }
        return pending
    }
}

fileprivate final class PendingThread: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var error: (any Error)?
    func wait() throws {
        done.wait()
        if let error { throw error }
    }
}
