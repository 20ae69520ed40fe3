import _TestSupport
import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import PostgresClient
import Testing
@testable import PrivateSQL

/// The PostgreSQL backend against the SQLite one on the same rows: the same pre-noise totals, and the engine's
/// ledger order.
@Suite("Private SQL on PostgreSQL")
struct PostgresBackendTests {
    /// Rows (person, year, visits, income, female, region) with units of 1–12 rows over several years and regions,
    /// so that many exceed k groups and m rows per group. Incomes are multiples of 1/4 so that every sum is exact in
    /// any order; regions include non-ASCII text.
    static func panelRows() -> [(Int, Int, Int?, Double?, Int, String)] {
        var random = InsecureSeededRandomSource(seed: 43)
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...300 {
            for _ in 0...Int(random.uniform(below: UInt64(12))) {
                let visits = random.uniform(below: UInt64(10)) == 0 ? nil : Int(random.uniform(below: UInt64(40)))
                let income = random.uniform(below: UInt64(8)) == 0 ? nil : Double(random.uniform(below: UInt64(80))) / 4
                let region = ["r0", "r1", "Ré", "r3", "north", "Zeta"][Int(random.uniform(below: UInt64(6)))]
                rows.append((person, 1984 + Int(random.uniform(below: UInt64(5))), visits, income, person % 2, region))
            }
        }
        return rows
    }

    /// The `visits` table of ``makeVisits(_:_:)`` in a fresh PostgreSQL database, loaded with COPY.
    static func postgresVisits(_ rows: [(Int, Int, Int?, Double?, Int, String)]) throws -> PostgresURL {
        let url = try PostgresTestServer.freshDatabase()
        let session = try PostgresSession(url: url)
        defer { session.close() }
        try session.execute("""
            CREATE TABLE visits (person_id int8, year int4, doctor_visits int8, income float8, female int2,
                                 region text, age int4)
            """)
        var pending = true
        try session.copyIn(table: "visits", columns: ["person_id", "year", "doctor_visits", "income", "female",
                                                       "region", "age"]) {
            guard pending else { return nil }
            pending = false
            return Array(rows.map { row in
                PostgresCopyText.row([String(row.0), String(row.1), row.2.map(String.init), row.3.map { String($0) },
                                      String(row.4), row.5, "40"])
            }.joined().utf8)
        }
        return url
    }

    @Test("both backends compute the same true totals for every query shape under the same sampling key", arguments: [
        // Public keys.
        "SELECT year, COUNT(*), SUM(doctor_visits), COUNT(DISTINCT person_id) FROM visits GROUP BY year",
        // Private keys (partition selection), text keys.
        "SELECT region, COUNT(*), COUNT(income), SUM(income), COUNT(DISTINCT person_id) FROM visits GROUP BY region",
        // Two keys, WHERE, STDDEV.
        "SELECT year, region, COUNT(*), SUM(doctor_visits), STDDEV(doctor_visits) FROM visits "
            + "WHERE income > 2 OR income IS NULL GROUP BY year, region",
        // AVG, VARIANCE, no GROUP BY.
        "SELECT COUNT(*), SUM(income), AVG(doctor_visits), VARIANCE(income) FROM visits",
        // MEDIAN and PERCENTILE with public keys, and with private keys.
        "SELECT female, AVG(doctor_visits), MEDIAN(income) FROM visits WHERE region <> 'r3' GROUP BY female",
        "SELECT region, PERCENTILE(doctor_visits, 0.9), COUNT(DISTINCT person_id) FROM visits GROUP BY region",
        // LIKE, IN, BETWEEN.
        "SELECT year, COUNT(*) FROM visits WHERE region LIKE 'R%' AND doctor_visits BETWEEN 3 AND 20 "
            + "AND female IN (0, 1) GROUP BY year",
        // Empty results: public keys (zeros), private keys (no group), no GROUP BY.
        "SELECT year, COUNT(*), SUM(income) FROM visits WHERE year > 3000 GROUP BY year",
        "SELECT region, COUNT(*), COUNT(DISTINCT person_id) FROM visits WHERE year > 3000 GROUP BY region",
        "SELECT COUNT(*), AVG(income) FROM visits WHERE year > 3000",
    ])
    func sameTotals(query: String) throws {
        let rows = Self.panelRows()
        let sqlite = try TemporaryDatabase()
        try makeVisits(sqlite, rows)
        let postgres = try PostgresBackend(url: Self.postgresVisits(rows))
        let metadata = try PrivacyMetadata.parse(yaml: RewriteTests.formsYAML, source: "m.yaml")
        let plan = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                             sampling: .keyedHash(.insecureFixed(5, 6)))
        try postgres.validate(plan)
        var fromPostgres: [TrueGroup] = []
        try postgres.run(plan, timeLimit: .seconds(60)) { fromPostgres.append($0) }
        let sqlForm = try sqlite.backend().run(plan, form: .sql)
        let singlePass = try sqlite.backend().run(plan, form: .singlePass)
        #expect(fromPostgres.map(\.key) == sqlForm.map(\.key))
        #expect(fromPostgres.map(\.values) == sqlForm.map(\.values))
        #expect(fromPostgres.map(\.key) == singlePass.map(\.key))
        #expect(fromPostgres.map(\.values) == singlePass.map(\.values))
        if !query.contains("3000") { #expect(fromPostgres.contains { $0.values.contains { $0.contains { $0 != 0 } } }) }
    }

    @Test("the keyed hash in the server equals KeyedPriority for integers, whole and fractional reals, text and NULL")
    func keyedHashInServer() throws {
        let session = try PostgresSession(url: PostgresTestServer.url())
        defer { session.close() }
        let key = PartitionSamplingKey(k0: 0x0001_0203_0405_0607, k1: 0x0809_0a0b_0c0d_0e0f)
        var parameters: [SQLValue] = []
        let kinds = PostgresColumnKinds(kinds: [:])
        let expression = SQLDialect.postgres(kinds).priority(
            key: key, values: [("7::int8", .integer), ("1.5::float8", .real), ("'é'::text", .text),
                               ("NULL::int8", .integer), ("2.0::float8", .real)], parameters: &parameters)
        let sql = SQLDialect.postgres(kinds).finish("SELECT \(expression)")
        let row = try #require(try session.query(sql, parameters.map(\.postgresValue)).first)
        let expected = KeyedPriority.priority(key: key, of: [.integer(7), .real(1.5), .text("é"), .null, .real(2)])
        #expect(row == [.integer(expected)])
    }

    @Test("on PostgreSQL a missing table or column costs nothing; a query that ran is charged once, committed")
    func ledgerOrder() throws {
        let url = try Self.postgresVisits(Self.panelRows())
        let ledgerURL = TemporaryDirectory.file("ledger", extension: "sqlite")
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        let ledger = try Ledger(path: ledgerURL.path, mode: .createIfMissing, durability: .normal)
        try ledger.createBudget(scope: "health_panel", epsilon: 3, delta: 1e-5, composition: .basic)
        let renamed = try PrivacyMetadata.parse(yaml: healthYAML.replacingOccurrences(of: "income", with: "salary"),
                                                source: "m.yaml")
        func attempt(_ metadata: PrivacyMetadata, column: String) throws -> PrivateQueryRelease {
            // Trust authentication: the redacted URL (no password) is the whole URL.
            let engine = PrivateQueryEngine(metadata: metadata, databasePath: url.redacted, ledger: ledger)
            let plan = try engine.plan("SELECT year, COUNT(*), AVG(\(column)) FROM visits GROUP BY year",
                                       budget: try PrivacyParameters(epsilon: 1))
            var source = InsecureSeededRandomSource(seed: 9)
            return try engine.execute(plan, analyst: "ana", using: &source)
        }
        let session = try PostgresSession(url: url)
        defer { session.close() }
        try session.execute("ALTER TABLE visits RENAME TO elsewhere")
        let missingTable = #expect(throws: VeilError.self) { try attempt(try healthMetadata(), column: "income") }
        #expect(missingTable?.code == .invalidInput)
        try session.execute("ALTER TABLE elsewhere RENAME TO visits")
        let missingColumn = #expect(throws: VeilError.self) { try attempt(renamed, column: "salary") }
        #expect(missingColumn?.code == .invalidInput)
        #expect(missingColumn?.message.contains("salary") == true)
        #expect(try ledger.charges(scope: "health_panel").isEmpty)
        let release = try attempt(try healthMetadata(), column: "income")
        #expect(release.result.rows.count == 5)   // every public year
        let charges = try ledger.charges(scope: "health_panel")
        #expect(charges.count == 1)
        #expect(charges.first?.state == .committed)
        #expect(charges.first?.resultDigest == release.resultDigest)
    }
}
