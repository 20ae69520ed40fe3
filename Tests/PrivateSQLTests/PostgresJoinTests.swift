import _TestSupport
import Accounting
import Foundation
import Mechanisms
import PostgresClient
import Testing
@testable import PrivateSQL

/// Join queries on PostgreSQL against SQLite (both forms) on the same rows: the same pre-noise totals under the
/// same sampling key, from the one plan written in each dialect.
@Suite("Private SQL joins on PostgreSQL")
struct PostgresJoinTests {
    /// Prescriptions (person, year, drug, dose) of persons 1–320 (some with none, some not in `visits`), 0–5 each,
    /// and a public `regions` table in which `r1` appears twice and `Zeta` not at all.
    static func joinRows() -> (prescriptions: [(Int, Int, String, Int?)], regions: [(String, String, Int)]) {
        var random = InsecureSeededRandomSource(seed: 44)
        var prescriptions: [(Int, Int, String, Int?)] = []
        for person in 1...320 {
            for _ in 0..<Int(random.uniform(below: UInt64(6))) {
                let dose = random.uniform(below: UInt64(9)) == 0 ? nil : Int(random.uniform(below: UInt64(14)))
                prescriptions.append((person, 1984 + Int(random.uniform(below: UInt64(5))),
                                      "d\(random.uniform(below: UInt64(8)))", dose))
            }
        }
        let regions = [("r0", "north", 1), ("r1", "south", 2), ("r1", "south", 3), ("Ré", "north", 4),
                       ("r3", "south", 7), ("north", "north", 0)]
        return (prescriptions, regions)
    }

    /// `visits`, `prescriptions` and `regions` in a fresh PostgreSQL database.
    static func postgresTables() throws -> PostgresURL {
        let url = try PostgresBackendTests.postgresVisits(PostgresBackendTests.panelRows())
        let (prescriptions, regions) = joinRows()
        let session = try PostgresSession(url: url)
        defer { session.close() }
        try session.execute("CREATE TABLE prescriptions (person_id int8, year int4, drug text, dose int8)")
        try session.execute("CREATE TABLE regions (region text, zone text, weight int4)")
        for row in prescriptions {
            _ = try session.query("INSERT INTO prescriptions VALUES ($1, $2, $3, $4)",
                                  [.integer(Int64(row.0)), .integer(Int64(row.1)), .text(row.2),
                                   row.3.map { .integer(Int64($0)) } ?? .null])
        }
        for row in regions {
            _ = try session.query("INSERT INTO regions VALUES ($1, $2, $3)",
                                  [.text(row.0), .text(row.1), .integer(Int64(row.2))])
        }
        return url
    }

    @Test("both backends compute the same true totals for join queries under the same sampling key", arguments: [
        // Two private tables, public keys.
        "SELECT v.year, COUNT(*), SUM(dose), COUNT(DISTINCT person_id) FROM visits v JOIN prescriptions p "
            + "USING (person_id) GROUP BY v.year",
        // Private keys from the joined table (partition selection, keyed sampling of k groups).
        "SELECT drug, COUNT(*), SUM(v.income), COUNT(DISTINCT v.person_id) FROM visits v "
            + "JOIN prescriptions p ON p.person_id = v.person_id GROUP BY drug",
        // A public lookup with a repeated key, LEFT JOIN, AVG.
        "SELECT zone, COUNT(*), SUM(weight), AVG(doctor_visits) FROM visits LEFT JOIN regions USING (region) GROUP BY zone",
        // Literals in ON and WHERE, MEDIAN, no GROUP BY.
        "SELECT COUNT(*), MEDIAN(dose) FROM visits v JOIN prescriptions p ON v.person_id = p.person_id "
            + "AND p.year = v.year AND p.drug <> 'd1' WHERE v.female = 1",
        // A FROM-subquery that keeps the unit, text keys.
        "SELECT s.region, COUNT(*), VARIANCE(s.pay) FROM (SELECT person_id, region, income AS pay FROM visits "
            + "WHERE income > 2) s JOIN prescriptions USING (person_id) GROUP BY s.region",
        // LEFT JOIN of two private tables, STDDEV.
        "SELECT v.year, STDDEV(dose), COUNT(dose) FROM visits v LEFT JOIN prescriptions p "
            + "ON v.person_id = p.person_id AND p.year = v.year GROUP BY v.year",
    ])
    func sameTotals(query: String) throws {
        let sqlite = try TemporaryDatabase()
        try makeVisits(sqlite, PostgresBackendTests.panelRows())
        let (prescriptions, regions) = Self.joinRows()
        try JoinTests.makeJoinTables(sqlite, prescriptions: prescriptions, regions: regions)
        let postgres = try PostgresBackend(url: Self.postgresTables())
        let plan = try QueryPlanner(metadata: JoinTests.metadata())
            .plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6), sampling: .keyedHash(.insecureFixed(5, 6)))
        let fromPostgres = try PostgresBackendTests.expectSameTotals(plan, postgres: postgres, sqlite: sqlite)
        #expect(fromPostgres.contains { $0.values.contains { $0.contains { $0 != 0 } } })
    }
}
