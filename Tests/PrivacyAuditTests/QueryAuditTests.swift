import _TestSupport
import Accounting
import Foundation
import GRDB
import Mechanisms
import PrivacyAudit
import PrivateSQL
import Testing

/// The query audit: neighbouring copies differ by exactly one unit, the original is never written, runs are
/// charged to a throw-away ledger, and a correct query is not flagged.
@Suite("Query audits")
struct QueryAuditTests {
    /// Units 1 (3 rows), 2 (1 row), 3 (2 rows) and 4 (1 row) in `t`, one row of unit 1 in `u`.
    static func database() throws -> TemporaryDatabase {
        try TemporaryDatabase("""
        CREATE TABLE t (uid INTEGER, x INTEGER);
        INSERT INTO t VALUES (1, 5), (1, 6), (1, 7), (2, 1), (3, 2), (3, 3), (4, 4);
        CREATE TABLE u (uid INTEGER, y INTEGER);
        INSERT INTO u VALUES (1, 9), (2, 8);
        """)
    }

    static func metadata() throws -> PrivacyMetadata {
        try PrivacyMetadata.parse(yaml: """
        scope: s
        tables:
          t:
            privacy_unit: uid
            max_partitions_per_unit: 1
            max_rows_per_partition: 1
            columns:
              uid: {type: integer}
              x: {type: integer, lower: 0, upper: 10}
          u:
            privacy_unit: uid
            max_partitions_per_unit: 1
            max_rows_per_partition: 1
            columns:
              uid: {type: integer}
              y: {type: integer, lower: 0, upper: 10}
        """, source: "audit test metadata")
    }

    @Test("The heaviest unit is removed from every table keyed by its column; the original file is untouched")
    func heaviestRemoved() throws {
        let database = try Self.database()
        let before = try FileFingerprint(database.path)
        let metadata = try Self.metadata()
        let copies = try NeighbouringDatabases(databasePath: database.path, table: try #require(metadata.tables.first { $0.name == "t" }), metadata: metadata,
                                               removed: .heaviest)
        let counts = try DatabaseQueue(path: copies.neighbour.path).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE uid = 1"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM t"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM u"))
        }
        #expect(counts.0 == 0 && counts.1 == 4 && counts.2 == 1)
        let original = try DatabaseQueue(path: copies.original.path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") }
        #expect(original == 7)
        copies.remove()
        #expect(!FileManager.default.fileExists(atPath: copies.folder.path))
        #expect(try FileFingerprint(database.path) == before)
    }

    @Test("A random unit removes all of one unit's rows, and nothing else")
    func randomRemoved() throws {
        let database = try Self.database()
        let metadata = try Self.metadata()
        let copies = try NeighbouringDatabases(databasePath: database.path, table: try #require(metadata.tables.first { $0.name == "t" }), metadata: metadata,
                                               removed: .random)
        defer { copies.remove() }
        let perUnit = try DatabaseQueue(path: copies.neighbour.path).read { db in
            try Row.fetchAll(db, sql: "SELECT uid, count(*) AS n FROM t GROUP BY uid").map { ($0["uid"] as Int, $0["n"] as Int) }
        }
        let full = [1: 3, 2: 1, 3: 2, 4: 1]
        #expect(perUnit.count == 3)
        #expect(perUnit.allSatisfy { full[$0.0] == $0.1 })
    }

    @Test("A PostgreSQL URL is refused: the audit copies a SQLite file")
    func postgresRefused() throws {
        let metadata = try Self.metadata()
        #expect(throws: VeilError(.invalidInput, "a query audit copies the database and needs a SQLite file, not a PostgreSQL URL")) {
            try NeighbouringDatabases(databasePath: "postgres://veil@127.0.0.1:5432/db", table: try #require(metadata.tables.first { $0.name == "t" }),
                                      metadata: metadata, removed: .heaviest)
        }
    }

    @Test("COUNT(*) at ε = 1 through the whole engine: a non-trivial bound, not above ε (α = 0.05, fixed seed)")
    func countNotFlagged() throws {
        let database = try Self.database()
        var source = InsecureSeededRandomSource(seed: 5)
        let audit = try QueryAudit(query: "SELECT COUNT(*) AS n FROM t", databasePath: database.path,
                                   metadata: try Self.metadata(), budget: try PrivacyParameters(epsilon: 1),
                                   trials: 300, confidence: 0.95, using: &source)
        #expect(audit.cells.count == 1)
        #expect(audit.cells[0].column == "n")
        #expect(audit.epsilonLowerBound > 0.2, "ε̂ = \(audit.epsilonLowerBound)")
        #expect(!audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: database.folder.path) == ["data.sqlite"])
    }
}
