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
        // Bare columns as truth values (PostgreSQL refused a number in WHERE; SQLite reads it as ≠ 0).
        "SELECT year, COUNT(*), SUM(income) FROM visits WHERE female AND (NOT doctor_visits OR income) GROUP BY year",
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
        let fromPostgres = try Self.expectSameTotals(plan, postgres: postgres, sqlite: sqlite)
        if !query.contains("3000") { #expect(fromPostgres.contains { $0.values.contains { $0.contains { $0 != 0 } } }) }
    }

    /// Runs `plan` on PostgreSQL and on both SQLite forms (SQL and single pass), expects the same keys and pre-noise
    /// totals from all three, and returns PostgreSQL's groups.
    static func expectSameTotals(_ plan: QueryPlan, postgres: PostgresBackend, sqlite: TemporaryDatabase) throws -> [TrueGroup] {
        try postgres.validate(plan)
        try sqlite.backend().validate(plan)
        var fromPostgres: [TrueGroup] = []
        try postgres.run(plan, timeLimit: .seconds(60)) { fromPostgres.append($0) }
        let sqlForm = try sqlite.backend().run(plan, form: .sql)
        let singlePass = try sqlite.backend().run(plan, form: .singlePass)
        #expect(fromPostgres.map(\.key) == sqlForm.map(\.key))
        #expect(fromPostgres.map(\.values) == sqlForm.map(\.values))
        #expect(fromPostgres.map(\.key) == singlePass.map(\.key))
        #expect(fromPostgres.map(\.values) == singlePass.map(\.values))
        return fromPostgres
    }

    @Test("a date column compared with a text literal and grouped by: the same totals and keys as SQLite's ISO text, whatever the server's DateStyle")
    func datesAsText() throws {
        let dates = (0..<40).map { i in (i, ["1985-01-31", "1985-06-01", "1985-06-02", "1986-12-24"][i % 4]) }
        let url = try PostgresTestServer.freshDatabase()
        let session = try PostgresSession(url: url)
        defer { session.close() }
        try session.execute("ALTER DATABASE \(PostgresIdentifier.quote(url.database)) SET DateStyle = 'SQL, DMY'")
        try session.execute("CREATE TABLE t (pid int8, d date)")
        for (pid, date) in dates {
            _ = try session.query("INSERT INTO t VALUES ($1, $2::date)", [.integer(Int64(pid)), .text(date)])
        }
        let sqlite = try TemporaryDatabase("CREATE TABLE t (pid INTEGER, d TEXT)")
        try sqlite.queue.write { db in
            for (pid, date) in dates { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [pid, date]) }
        }
        let metadata = try PrivacyMetadata.parse(yaml: """
            scope: s
            tables:
              t:
                privacy_unit: pid
                max_partitions_per_unit: 1
                max_rows_per_partition: 1
                columns:
                  pid: {type: integer}
                  d: {type: text}
            """, source: "m.yaml")
        let plan = try QueryPlanner(metadata: metadata).plan(
            "SELECT d, COUNT(*) FROM t WHERE d >= '1985-06-01' AND d < '1986-01-01' GROUP BY d",
            budget: try PrivacyParameters(epsilon: 1, delta: 1e-6), sampling: .keyedHash(.insecureFixed(5, 6)))
        var fromPostgres: [TrueGroup] = []
        // A new connection picks up the database's DateStyle.
        try PostgresBackend(url: url).run(plan, timeLimit: .seconds(60)) { fromPostgres.append($0) }
        let fromSQLite = try sqlite.backend().run(plan, form: .sql)
        #expect(fromSQLite.map(\.key) == [[.text("1985-06-01")], [.text("1985-06-02")]])
        #expect(fromPostgres.map(\.key) == fromSQLite.map(\.key))
        #expect(fromPostgres.map(\.values) == fromSQLite.map(\.values))
    }

    @Test("without a sampling key (gen_random_uuid order) private keys still keep at most k groups per unit")
    func keylessSampling() throws {
        let rows = Self.panelRows()
        let postgres = try PostgresBackend(url: Self.postgresVisits(rows))
        let metadata = try PrivacyMetadata.parse(yaml: RewriteTests.formsYAML, source: "m.yaml")
        let query = "SELECT region, COUNT(DISTINCT person_id) FROM visits GROUP BY region"
        let plan = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                             sampling: .random)
        try postgres.validate(plan)
        var groups: [TrueGroup] = []
        try postgres.run(plan, timeLimit: .seconds(60)) { groups.append($0) }
        // Each unit counts once in at most k of its regions: the kept (unit, region) pairs number at most k per unit,
        // and at least min(k, its regions) per unit (every unit keeps min(k, its groups)).
        let k = metadata.tables[0].maxPartitionsPerUnit
        var regionsOfUnit: [Int: Set<String>] = [:]
        for row in rows { regionsOfUnit[row.0, default: []].insert(row.5) }
        let kept = groups.reduce(Int64(0)) { $0 + $1.values[0][0] }
        #expect(kept == Int64(regionsOfUnit.values.reduce(0) { $0 + min(k, $1.count) }))
        #expect(regionsOfUnit.values.contains { $0.count > k })
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

    @Test("rounding to the grid in the server is the single pass's: half away from zero, exact at 2⁵² and near ties, saturating")
    func roundingInServer() throws {
        let session = try PostgresSession(url: PostgresTestServer.url())
        defer { session.close() }
        let dialect = SQLDialect.postgres(PostgresColumnKinds(kinds: [:]))
        // The expression repeats its argument, so the value is bound once as $1.
        let sql = "SELECT \(dialect.roundedInteger("$1::float8"))"
        // The single pass (BoundedTotals) rounds with `rounded()` and saturates at the range of Int64.
        func expected(_ x: Double) -> PostgresValue {
            if x.isNaN { return .null }
            if x >= 9_223_372_036_854_775_808.0 { return .integer(.max) }
            if x < -9_223_372_036_854_775_808.0 { return .integer(.min) }
            return .integer(Int64(x.rounded()))
        }
        let values: [Double] = [0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
                                4_503_599_627_370_495.5, -4_503_599_627_370_495.5, 9_007_199_254_740_994,
                                9_223_372_036_854_774_784, -9_223_372_036_854_775_808, 1e19, -1e19,
                                .infinity, -.infinity, .nan, 0, -0.0, 2.4999999]
        for x in values {
            let row = try #require(try session.query(sql, [.real(x)]).first)
            #expect(row == [expected(x)], "rounding \(x)")
        }
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

    @Test("CSV import with COPY: the same typing as SQLite, escapes survive, a bad row leaves the old table")
    func importCSV() throws {
        let url = try PostgresTestServer.freshDatabase()
        let csv = TemporaryDirectory.file("import", extension: "csv")
        try "id,score,name,flag\n1,2.5,\"Smith, \"\"J\"\"\tx\\y\",true\n2,3,\"two\nlines\",0\n3,NA,x,\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        let yaml = """
            scope: s
            tables:
              t:
                privacy_unit: id
                max_partitions_per_unit: 1
                max_rows_per_partition: 1
                columns:
                  id: {type: integer}
                  score: {type: real, lower: 0, upper: 5}
                  name: {type: text}
                  flag: {type: boolean}
            """
        let table = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml").tables[0]
        let options = CSVImportOptions(table: "t", metadata: table, nullTokens: ["NA"])
        let summary = try CSVImporter.importCSV(at: csv, into: url.redacted, options: options)
        #expect(summary.rows == 3)
        #expect(summary.columns.map(\.type) == [.integer, .real, .text, .boolean])
        #expect(summary.destination == url.redacted)
        let session = try PostgresSession(url: url)
        defer { session.close() }
        let rows = try session.query("SELECT id, score, name, flag FROM t ORDER BY id")
        #expect(rows == [[.integer(1), .real(2.5), .text("Smith, \"J\"\tx\\y"), .boolean(true)],
                         [.integer(2), .real(3), .text("two\nlines"), .boolean(false)],
                         [.integer(3), .null, .text("x"), .null]])
        // Inferred types, as SQLite's import infers them.
        let inferred = try CSVImporter.importCSV(at: csv, into: url.redacted,
                                                 options: CSVImportOptions(table: "u", nullTokens: ["NA"]))
        #expect(inferred.columns.map(\.type) == [.integer, .real, .text, .text])
        // A value of the wrong type: the SQLite import's message, and the table is left as it was.
        try "id,score,name,flag\n9,1,a,1\n10,oops,b,0\n".write(to: csv, atomically: true, encoding: .utf8)
        let error = #expect(throws: VeilError.self) {
            try CSVImporter.importCSV(at: csv, into: url.redacted,
                                      options: CSVImportOptions(table: "t", metadata: table, replaceExisting: true))
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "\(csv.lastPathComponent):3: column score: the value is not a real")
        #expect(try session.query("SELECT count(*) FROM t") == [[.integer(3)]])
        // An existing table needs --replace.
        try "id,score,name,flag\n9,1,a,1\n".write(to: csv, atomically: true, encoding: .utf8)
        let exists = #expect(throws: VeilError.self) {
            try CSVImporter.importCSV(at: csv, into: url.redacted, options: CSVImportOptions(table: "t", metadata: table))
        }
        #expect(exists?.message.contains("already exists") == true)
        _ = try CSVImporter.importCSV(at: csv, into: url.redacted,
                                      options: CSVImportOptions(table: "t", metadata: table, replaceExisting: true))
        #expect(try session.query("SELECT count(*) FROM t") == [[.integer(1)]])
    }

    @Test("a sharded cluster (hash partitions on two postgres_fdw shards) gives the same totals as one server")
    func cluster() throws {
        let (coordinator, stop) = try Self.clusterCoordinator()
        defer { stop() }
        let rows = Self.panelRows()
        let table = "visits_\(UUID().uuidString.prefix(8).lowercased())"
        let definitions = "person_id int8, year int4, doctor_visits int8, income float8, female int2, region text, age int4"
        let session = try PostgresSession(url: coordinator)
        defer { session.close() }
        // The shards, as the coordinator's foreign servers name them (scripts/pg-cluster.sh).
        let servers = try session.query("SELECT srvname::text, array_to_string(srvoptions, ',') FROM pg_foreign_server "
                                        + "WHERE srvname LIKE 'veil_shard%' ORDER BY srvname")
        #expect(servers.count == 2)
        try session.execute("CREATE TABLE \(table) (\(definitions)) PARTITION BY HASH (person_id)")
        for (n, server) in servers.enumerated() {
            let options = Dictionary(uniqueKeysWithValues: (server[1].text ?? "").split(separator: ",").map {
                let pair = $0.split(separator: "=", maxSplits: 1)
                return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
            })
            let shard = try PostgresSession(url: PostgresURL(
                "postgres://postgres@\(options["host"] ?? ""):\(options["port"] ?? "")/\(options["dbname"] ?? "")"))
            try shard.execute("CREATE TABLE \(table)_\(n) (\(definitions))")
            shard.close()
            try session.execute("CREATE FOREIGN TABLE \(table)_\(n) PARTITION OF \(table) FOR VALUES WITH (MODULUS 2, "
                                + "REMAINDER \(n)) SERVER \(server[0].text ?? "") OPTIONS (table_name '\(table)_\(n)')")
        }
        var pending = true
        try session.copyIn(table: table, columns: ["person_id", "year", "doctor_visits", "income", "female", "region", "age"]) {
            guard pending else { return nil }
            pending = false
            return Array(rows.map { row in
                PostgresCopyText.row([String(row.0), String(row.1), row.2.map(String.init), row.3.map { String($0) },
                                      String(row.4), row.5, "40"])
            }.joined().utf8)
        }
        // Both shards hold rows.
        for n in 0..<2 { #expect((try session.query("SELECT count(*) FROM \(table)_\(n)").first?.first?.integer ?? 0) > 100) }
        let single = try PostgresBackend(url: Self.postgresVisits(rows))
        let sharded = try PostgresBackend(url: coordinator)
        let metadata = try PrivacyMetadata.parse(yaml: RewriteTests.formsYAML.replacingOccurrences(of: "\n  visits:", with: "\n  \(table):"),
                                                 source: "m.yaml")
        let singleMetadata = try PrivacyMetadata.parse(yaml: RewriteTests.formsYAML, source: "m.yaml")
        for query in [
            "SELECT year, COUNT(*), SUM(doctor_visits), COUNT(DISTINCT person_id) FROM visits GROUP BY year",
            "SELECT region, COUNT(*), AVG(income), COUNT(DISTINCT person_id) FROM visits GROUP BY region",
            "SELECT female, MEDIAN(income), VARIANCE(doctor_visits) FROM visits WHERE region <> 'r3' GROUP BY female",
        ] {
            let budget = try PrivacyParameters(epsilon: 1, delta: 1e-6)
            let onCluster = try QueryPlanner(metadata: metadata).plan(
                query.replacingOccurrences(of: "FROM visits", with: "FROM \(table)"), budget: budget,
                sampling: .keyedHash(.insecureFixed(7, 8)))
            let onOne = try QueryPlanner(metadata: singleMetadata).plan(query, budget: budget,
                                                                       sampling: .keyedHash(.insecureFixed(7, 8)))
            try sharded.validate(onCluster)
            var fromCluster: [TrueGroup] = []
            try sharded.run(onCluster, timeLimit: .seconds(60)) { fromCluster.append($0) }
            var fromOne: [TrueGroup] = []
            try single.run(onOne, timeLimit: .seconds(60)) { fromOne.append($0) }
            #expect(fromCluster.map(\.key) == fromOne.map(\.key))
            #expect(fromCluster.map(\.values) == fromOne.map(\.values))
            #expect(!fromCluster.isEmpty)
        }
    }

    /// The coordinator of the test cluster: `$VEIL_TEST_POSTGRES_CLUSTER_URL` (scripts/with-postgres.sh), else one
    /// started with scripts/pg-cluster.sh for this test (outside CI), and how to stop it.
    static func clusterCoordinator() throws -> (PostgresURL, stop: () -> Void) {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["VEIL_TEST_POSTGRES_CLUSTER_URL"], !url.isEmpty { return (try PostgresURL(url), {}) }
        if environment["CI"] != nil {
            throw ClusterUnavailable(reason: "VEIL_TEST_POSTGRES_CLUSTER_URL is not set: CI runs the tests through "
                                     + "scripts/with-postgres.sh")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-cluster-\(UUID().uuidString)").path
        guard try runScriptQuietly("pg-cluster.sh", ["start", folder]) == 0,
              let url = try? String(contentsOfFile: folder + "/url", encoding: .utf8) else {
            throw ClusterUnavailable(reason: "scripts/pg-cluster.sh could not start the cluster")
        }
        return (try PostgresURL(url.trimmingCharacters(in: .whitespacesAndNewlines)), { _ = try? runScriptQuietly("pg-cluster.sh", ["stop", folder]) })
    }
}

/// The test cluster could not be reached or started.
struct ClusterUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
