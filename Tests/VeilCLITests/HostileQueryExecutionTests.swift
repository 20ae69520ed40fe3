import _TestSupport
import BudgetLedger
import Foundation
import GRDB
import Testing

/// `veil query` against hostile databases: each case gives the arguments, the exit code, a fragment of the message,
/// and what the ledger holds afterwards. A failure detected before any row is read leaves no ledger entry; once rows
/// are read, the charge stands whatever happens; a total that would overflow saturates instead of failing.
@Suite("veil query on hostile databases")
struct HostileQueryExecutionTests {
    /// What the ledger of the scope holds after the run.
    enum LedgerAfter: String, Sendable {
        /// No reservation at all.
        case nothing
        /// One reservation, committed (the charge stands).
        case oneCommitted
    }

    /// A database the case runs against.
    enum Database: String, Sendable, CustomStringConvertible {
        /// 9,223 units at the bound 10¹⁵ and one more unit at the bound: their sum leaves 64 bits.
        case overflowingSum
        /// No file at the path.
        case missing
        /// A file that is not SQLite.
        case notSQLite
        /// A SQLite file without the table the metadata declares.
        case withoutTable
        /// The table is a view over a recursive CTE that never ends.
        case endlessView

        var description: String { rawValue }
    }

    struct Case: Sendable, CustomStringConvertible {
        let database: Database
        let arguments: [String]
        let status: Int32
        let fragment: String
        let ledger: LedgerAfter
        var description: String { "\(database) \(arguments.joined(separator: " "))" }
    }

    static let cases: [Case] = [
        // Item: an overflow of a bounded sum was a free bit (exit 2, refunded). It saturates now: the query answers.
        Case(database: .overflowingSum, arguments: ["--format", "json"], status: 0, fragment: "\"rows\"",
             ledger: .oneCommitted),
        // Failures detected before reading: no reservation, no refund, no entry.
        Case(database: .missing, arguments: [], status: 2, fragment: "does not exist", ledger: .nothing),
        Case(database: .notSQLite, arguments: [], status: 2, fragment: "cannot open database", ledger: .nothing),
        Case(database: .withoutTable, arguments: [], status: 2, fragment: "no table or view named payments",
             ledger: .nothing),
        // A statement that never ends is stopped at the time limit; rows were read, so the charge stands.
        Case(database: .endlessView, arguments: ["--timeout", "1"], status: 1, fragment: "was spent",
             ledger: .oneCommitted),
    ]

    static let metadataYAML = PrivacyMetadataFixture(
        scope: "hostile", table: "payments", unit: "person_id",
        columns: [("person_id", "{type: integer}"), ("amount", "{type: integer, lower: 0, upper: 1000000000000000}")]).yaml

    /// Writes the case's database into `folder` and returns its path.
    static func make(_ database: Database, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("\(database).sqlite").path
        switch database {
        case .missing:
            break
        case .notSQLite:
            try "person_id,amount\n1,2\n".write(toFile: path, atomically: true, encoding: .utf8)
        case .withoutTable:
            let queue = try DatabaseQueue(path: path)
            try queue.write { try $0.execute(sql: "CREATE TABLE other (person_id INTEGER, amount INTEGER)") }
            try queue.close()
        case .overflowingSum:
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE payments (person_id INTEGER, amount INTEGER)")
                let insert = try db.makeStatement(sql: "INSERT INTO payments VALUES (?, 1000000000000000)")
                for person in 1...9_224 { try insert.execute(arguments: [person]) }
            }
            try queue.close()
        case .endlessView:
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: """
                    CREATE VIEW payments AS
                    WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)
                    SELECT n % 100 AS person_id, 1 AS amount FROM r
                    """)
            }
            try queue.close()
        }
        return path
    }

    @Test("hostile databases: exit code, message and ledger", arguments: cases)
    func hostile(_ c: Case) throws {
        let folder = try TemporaryDirectory.make("hostile")
        defer { try? FileManager.default.removeItem(at: folder) }
        let metadata = folder.appendingPathComponent("privacy.yaml")
        try Self.metadataYAML.write(to: metadata, atomically: true, encoding: .utf8)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        let create = try runVeil(["budget", "create", "hostile", "--epsilon", "10", "--delta", "1e-5", "--ledger", ledger])
        #expect(create.status == 0, "\(create.stderr)")
        let db = try Self.make(c.database, in: folder)

        let run = try runVeil(["query", "--db", db, "--metadata", metadata.path, "--ledger", ledger, "--epsilon", "1"]
                              + c.arguments + ["SELECT SUM(amount) AS total FROM payments"])
        #expect(run.status == c.status, "\(run.stderr)")
        #expect((run.status == 0 ? run.stdout : run.stderr).contains(c.fragment), "\(run.stdout)\(run.stderr)")
        if run.status != 0 {
            #expect(run.stderr.split(separator: "\n").count == 1, "one line on stderr: \(run.stderr)")
        }

        let charges = try Ledger(path: ledger).charges(scope: "hostile")
        switch c.ledger {
        case .nothing:
            #expect(charges.isEmpty, "\(charges)")
        case .oneCommitted:
            #expect(charges.map(\.state) == [.committed])
        }
        if c.database == .overflowingSum {
            // 9,224 × 10¹⁵ exceeds Int64.max: the total saturates at 2⁶³ − 1 (noise of scale 10¹⁵ around it).
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let rows = try #require(object["rows"] as? [[String: Any]])
            let total = try #require((rows.first?["total"] as? NSNumber)?.doubleValue)
            #expect(total > 9.0e18, "\(total)")
        }
    }
}
