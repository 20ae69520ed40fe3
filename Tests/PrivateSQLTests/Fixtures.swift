import _TestSupport
import Accounting
import Foundation
import GRDB
@testable import PrivateSQL

/// The metadata of the contract example, used across the suites.
let healthYAML = PrivacyMetadataFixture.visits().yaml

func healthMetadata() throws -> PrivacyMetadata {
    try PrivacyMetadata.parse(yaml: healthYAML, source: "privacy.yaml")
}

extension TemporaryDatabase {
    func backend() throws -> SQLiteBackend { try SQLiteBackend(path: path) }
}

/// The true groups of `query` on `database` (no noise), as a dictionary from the first key to the quantities.
func trueGroups(_ query: String, metadata: PrivacyMetadata, database: TemporaryDatabase,
                epsilon: Double = 1, delta: Double = 1e-6,
                sampling: PartitionSampling = .keyedHash(.insecureFixed(1, 2))) throws -> (QueryPlan, [TrueGroup]) {
    let plan = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: epsilon, delta: delta),
                                                         sampling: sampling)
    return (plan, try database.backend().run(plan))
}

/// Builds the `visits` table with the given rows (person, year, visits, income, female, region).
func makeVisits(_ database: TemporaryDatabase,
                _ rows: [(Int, Int, Int?, Double?, Int, String)]) throws {
    try database.queue.write { db in
        try db.execute(sql: """
            CREATE TABLE visits (person_id INTEGER, year INTEGER, doctor_visits INTEGER, income REAL,
                                 female INTEGER, region TEXT, age INTEGER)
            """)
        for row in rows {
            try db.execute(sql: "INSERT INTO visits VALUES (?, ?, ?, ?, ?, ?, 40)",
                           arguments: [row.0, row.1, row.2, row.3, row.4, row.5])
        }
    }
}

/// A database whose `visits` is a view over an infinite recursive CTE: a query on it never ends by itself.
func endlessVisitsDatabase() throws -> TemporaryDatabase {
    let database = try TemporaryDatabase()
    try database.queue.write { db in
        try db.execute(sql: """
            CREATE VIEW visits AS
            WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)
            SELECT n % 50 AS person_id, 1984 + n % 5 AS year, n % 30 AS doctor_visits, 1.0 AS income,
                   0 AS female, 'north' AS region, 40 AS age FROM r
            """)
    }
    return database
}
