import _TestSupport
import Accounting
import Foundation
import Mechanisms
import PostgresClient
import Testing
@testable import PrivateSQL

/// Arithmetic on clamped values that cannot overflow a database's floating point: PostgreSQL's `float8` raises an
/// error on overflow (after the charge, on extreme data only) where SQLite gives ±Infinity.
@Suite("Private SQL: arithmetic that cannot overflow")
struct FiniteArithmeticBoundsTests {
    static func yaml(_ column: String) -> String {
        """
        scope: s
        tables:
          t:
            privacy_unit: pid
            max_partitions_per_unit: 1
            max_rows_per_partition: 1
            columns:
              pid: {type: integer}
              x: \(column)
        """
    }

    static func plan(_ query: String, column: String) throws -> QueryPlan {
        try QueryPlanner(metadata: PrivacyMetadata.parse(yaml: yaml(column), source: "m.yaml"))
            .plan(query, budget: try PrivacyParameters(epsilon: 1), sampling: .keyedHash(.insecureFixed(1, 2)))
    }

    @Test("MEDIAN and PERCENTILE over bounds whose width overflows are refused at planning (they planned, and failed on PostgreSQL after the charge)",
          arguments: ["SELECT MEDIAN(x) FROM t", "SELECT PERCENTILE(x, 0.9) FROM t"])
    func histogramWidth(query: String) throws {
        #expect {
            _ = try Self.plan(query, column: "{type: real, lower: -1e308, upper: 1e308}")
        } throws: { error in
            guard let error = error as? QueryError else { return false }
            return error.code == .invalidParameter && error.reason.contains("too wide for MEDIAN or PERCENTILE")
        }
        // A finite width, however large, plans.
        _ = try Self.plan(query, column: "{type: real, lower: -8e307, upper: 8e307}")
    }

    @Test("on PostgreSQL extreme values at the widest accepted histogram and a large sum bound give SQLite's totals, without error")
    func postgresAtTheLimits() throws {
        let url = try PostgresTestServer.freshDatabase()
        let session = try PostgresSession(url: url)
        defer { session.close() }
        try session.execute("CREATE TABLE t (pid int8, x float8)")
        // 3,000 units at the upper bound (beyond it: 1e308), 3,000 at the lower, and one row of 1.
        try session.execute("INSERT INTO t SELECT i, CASE WHEN i % 2 = 0 THEN 1e308 ELSE -8e307 END "
                            + "FROM generate_series(1, 6000) AS i")
        try session.execute("INSERT INTO t VALUES (6001, 1)")
        let sqlite = try TemporaryDatabase("CREATE TABLE t (pid INTEGER, x REAL)")
        try sqlite.queue.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
                INSERT INTO t SELECT i, CASE WHEN i % 2 = 0 THEN 1e308 ELSE -8e307 END FROM n
                """)
            try db.execute(sql: "INSERT INTO t VALUES (6001, 1)")
        }
        for (query, column) in [("SELECT MEDIAN(x), COUNT(x) FROM t", "{type: real, lower: -8e307, upper: 8e307}"),
                                ("SELECT SUM(x), AVG(x) FROM t", "{type: real, lower: -1e30, upper: 1e30}"),
                                ("SELECT VARIANCE(x) FROM t", "{type: real, lower: -1e15, upper: 1e15}")] {
            let plan = try Self.plan(query, column: column)
            var fromPostgres: [TrueGroup] = []
            try PostgresBackend(url: url).run(plan, timeLimit: .seconds(60)) { fromPostgres.append($0) }
            let fromSQLite = try sqlite.backend().run(plan, form: .sql)
            #expect(fromPostgres.map(\.values) == fromSQLite.map(\.values), "\(query)")
            #expect(fromPostgres.count == 1)
        }
    }
}
