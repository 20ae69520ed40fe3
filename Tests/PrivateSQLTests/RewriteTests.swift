import _TestSupport
import Accounting
import Foundation
import GRDB
import Mechanisms
import Testing
@testable import PrivateSQL

/// Runs the rewritten SQL on small SQLite files and checks the true, pre-noise quantities.
@Suite("Rewritten SQL on SQLite")
struct RewriteTests {
    @Test("unbounded plain aggregates match SQLite's when every unit is within its bounds")
    func matchesPlainSQL() throws {
        let db = try TemporaryDatabase()
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...40 {
            for (i, year) in [1984, 1985, 1986].enumerated() where (person + i) % 4 != 0 {
                rows.append((person, year, (person * 7 + i) % 25, Double(person % 13) + 0.25, person % 2,
                             person % 3 == 0 ? "north" : "south"))
            }
        }
        try makeVisits(db, rows)
        let (plan, groups) = try trueGroups("SELECT year, COUNT(*), SUM(doctor_visits), COUNT(DISTINCT person_id) FROM visits GROUP BY year",
                                            metadata: try healthMetadata(), database: db)
        #expect(plan.selection == .publicKeys(count: 5))
        let expected = try db.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT year, COUNT(*), SUM(doctor_visits), COUNT(DISTINCT person_id) FROM visits GROUP BY year")
        }
        #expect(groups.count == 5)   // 1987 and 1988 are public and empty
        for row in expected {
            let year: Int64 = row[0]
            let group = try #require(groups.first { $0.key == [.integer(year)] })
            #expect(group.values == [[row[1]], [row[2]], [row[3]]])
        }
        for year in [1987, 1988] {
            let group = try #require(groups.first { $0.key == [.integer(Int64(year))] })
            #expect(group.values == [[0], [0], [0]])
        }
        #expect(groups.map(\.key) == (1984...1988).map { [.integer(Int64($0))] })
    }

    @Test("public values given with the query (a keys file) replace the metadata's: every key, nothing else")
    func keysOverride() throws {
        let db = try TemporaryDatabase()
        try makeVisits(db, [(1, 1984, 1, 1, 0, "north"), (2, 1984, 1, 1, 0, "south"), (3, 1985, 1, 1, 0, "east")])
        let plan = try QueryPlanner(metadata: try healthMetadata()).plan(
            "SELECT region, COUNT(*) FROM visits GROUP BY region", budget: try PrivacyParameters(epsilon: 1),
            publicValues: ["REGION": [.text("north"), .text("south"), .text("west")]])
        #expect(plan.selection == .publicKeys(count: 3))
        let groups = try db.backend().run(plan)
        #expect(groups.map(\.key) == [[.text("north")], [.text("south")], [.text("west")]])
        #expect(groups.map(\.values) == [[[1]], [[1]], [[0]]])
        #expect(throws: QueryError.self) {
            _ = try QueryPlanner(metadata: try healthMetadata()).plan(
                "SELECT region, COUNT(*) FROM visits GROUP BY region", budget: try PrivacyParameters(epsilon: 1),
                publicValues: ["person_id": [.integer(1)]])
        }
    }

    @Test("WHERE with IN, BETWEEN, LIKE, IS NULL, NOT and arithmetic filters as SQLite does", arguments: [
        "region LIKE 'n%' AND doctor_visits BETWEEN 2 AND 20",
        "NOT (year IN (1984, 1986)) OR income IS NULL",
        "doctor_visits * 2 + 1 > 15 AND region NOT LIKE '%th' AND year NOT BETWEEN 1985 AND 1985",
        "income IS NOT NULL AND female = TRUE",
    ])
    func filters(condition: String) throws {
        let db = try TemporaryDatabase()
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...60 {
            rows.append((person, 1984 + person % 3, person % 25, person % 7 == 0 ? nil : Double(person % 15),
                         person % 2, person % 3 == 0 ? "north" : "south"))
        }
        try makeVisits(db, rows)
        let (_, groups) = try trueGroups("SELECT COUNT(*) FROM visits WHERE \(condition)",
                                         metadata: try healthMetadata(), database: db)
        let plain = try db.queue.read { db in
            try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM visits WHERE " + condition.replacingOccurrences(of: "TRUE", with: "1"))
        }
        #expect(groups[0].values == [[plain!]])
    }

    @Test("a unit with many rows moves each group's true aggregate by at most its bound",
          arguments: [PartitionSampling.random, .keyedHash(.insecureFixed(3, 4))])
    func contributionBounding(sampling: PartitionSampling) throws {
        let yaml = PrivacyMetadataFixture.visits(scope: "s", maxPartitionsPerUnit: 2, maxRowsPerPartition: 3,
                                                 year: "{type: integer}").yaml
        let metadata = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml")
        var base: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...30 {
            base.append((person, 1984 + person % 3, person % 10, 5.5, 0, "r\(person % 4)"))
        }
        // The same data plus one heavy unit: 500 rows over 10 years, extreme values.
        var heavy = base
        for i in 0..<500 { heavy.append((999, 1980 + i % 10, 1_000_000, 1e9, 1, "r0")) }

        let query = "SELECT year, COUNT(*), COUNT(doctor_visits), SUM(doctor_visits), SUM(income), AVG(income), "
            + "VARIANCE(income), MEDIAN(doctor_visits), COUNT(DISTINCT person_id) FROM visits GROUP BY year"
        let a = try TemporaryDatabase(), b = try TemporaryDatabase()
        try makeVisits(a, base)
        try makeVisits(b, heavy)
        let (plan, without) = try trueGroups(query, metadata: metadata, database: a, sampling: sampling)
        let (_, with) = try trueGroups(query, metadata: metadata, database: b, sampling: sampling)

        // Per quantity: in each group the change is at most the partition sensitivity, at most k = 2 groups
        // change, and the total change is at most the L1 sensitivity. (Each quantity is noised on its own, so
        // this is the bound its noise is calibrated to; with RANDOM() the histogram statement may keep other
        // groups than the main statement.)
        for q in plan.quantities {
            var changedGroups = 0
            var l1: Int64 = 0
            for group in with {
                let before = without.first { $0.key == group.key }?.values[q.index]
                    ?? [Int64](repeating: 0, count: q.dimension)
                let change = zip(group.values[q.index], before).reduce(Int64(0)) { $0 + abs($1.0 - $1.1) }
                #expect(change <= Int64(q.partitionSensitivity), "\(q.kind) moved by \(change) in \(group.key)")
                l1 += change
                if change > 0 { changedGroups += 1 }
            }
            #expect(changedGroups <= 2, "\(q.kind) changed in \(changedGroups) groups")
            #expect(l1 <= Int64(q.l1Sensitivity))
            if q.kind == .rowCount || q.kind == .unitCount {
                // The heavy unit does reach two groups, adding m = 3 rows (one unit) to each.
                #expect(changedGroups == 2)
                #expect(l1 == (q.kind == .rowCount ? 6 : 2))
            }
        }
    }

    /// 300 units with one row in each of 10 years, and the health metadata with the years not public (k = 5).
    func tenYearsPerUnit() throws -> (TemporaryDatabase, PrivacyMetadata) {
        let db = try TemporaryDatabase()
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...300 { for year in 1980..<1990 { rows.append((person, year, 1, 1, 0, "x")) } }
        try makeVisits(db, rows)
        let yaml = healthYAML.replacingOccurrences(of: ", public_values: [1984, 1985, 1986, 1987, 1988]", with: "")
        return (db, try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml"))
    }

    @Test("partition sampling is uniform-looking and reproducible under a fixed key")
    func samplingKey() throws {
        let (db, metadata) = try tenYearsPerUnit()
        let query = "SELECT year, COUNT(*) FROM visits GROUP BY year"
        let (_, first) = try trueGroups(query, metadata: metadata, database: db, sampling: .keyedHash(.insecureFixed(7, 8)))
        let (_, again) = try trueGroups(query, metadata: metadata, database: db, sampling: .keyedHash(.insecureFixed(7, 8)))
        let (_, other) = try trueGroups(query, metadata: metadata, database: db, sampling: .keyedHash(.insecureFixed(9, 10)))
        #expect(first.map(\.values) == again.map(\.values))
        #expect(first.map(\.values) != other.map(\.values))
        // 300 units keep 5 of 10 years each: 1,500 rows in all, about 150 per year.
        let counts = first.map { $0.values[0][0] }
        #expect(counts.reduce(0, +) == 1500)
        // Binomial(300, 1/2) per year: mean 150, sd ≈ 8.7; ±60 is about 7 sd (false failure < 1e-10).
        for c in counts { #expect(abs(c - 150) < 60) }
    }

    @Test("fresh random sampling keeps k groups per unit, each group about equally often")
    func freshSampling() throws {
        let (db, metadata) = try tenYearsPerUnit()
        let (_, groups) = try trueGroups("SELECT year, COUNT(*), COUNT(DISTINCT person_id) FROM visits GROUP BY year",
                                         metadata: metadata, database: db, sampling: .random)
        #expect(groups.map { $0.values[0][0] }.reduce(0, +) == 1500)
        #expect(groups.map { $0.values[1][0] }.reduce(0, +) == 1500)
        // Binomial(300, 1/2) per year: ±60 is about 7 sd (false failure < 1e-10 per group).
        for g in groups { #expect(abs(g.values[0][0] - 150) < 60) }
    }

    @Test("the single-pass aggregation and the SQL form compute the same true totals", arguments: [
        "SELECT year, COUNT(*), SUM(doctor_visits), AVG(income), VARIANCE(income), COUNT(DISTINCT person_id) "
            + "FROM visits GROUP BY year",
        "SELECT region, COUNT(*), COUNT(income), SUM(income), COUNT(DISTINCT person_id) FROM visits GROUP BY region",
        "SELECT year, region, COUNT(*), SUM(doctor_visits), STDDEV(doctor_visits) FROM visits "
            + "WHERE income > 2 OR income IS NULL GROUP BY year, region",
        "SELECT female, AVG(doctor_visits), MEDIAN(income) FROM visits WHERE region <> 'r3' GROUP BY female",
        "SELECT COUNT(*), SUM(income), AVG(doctor_visits), VARIANCE(income) FROM visits",
        "SELECT COUNT(*) FROM visits WHERE year > 3000",
    ], [nil, 4, 7])
    func formsAgree(query: String, maxRowsPerUnit: Int?) throws {
        // With max_rows_per_unit, both forms keep the same rows under the keyed hash (R = 4 binds more often
        // than k·m = 6, R = 7 less often).
        let yaml = maxRowsPerUnit.map {
            Self.formsYAML.replacingOccurrences(of: "max_rows_per_partition: 2",
                                                with: "max_rows_per_partition: 2\n    max_rows_per_unit: \($0)")
        } ?? Self.formsYAML
        let metadata = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml")
        #expect(metadata.tables[0].maxRowsPerUnit == maxRowsPerUnit)
        // Units with 1–12 rows over several years and regions: many exceed k groups and m rows per group.
        // Incomes are multiples of 1/4 so that every sum is exact whatever order it is taken in.
        var random = InsecureSeededRandomSource(seed: 41)
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...400 {
            for _ in 0...Int(random.uniform(below: UInt64(12))) {
                let visits = random.uniform(below: UInt64(10)) == 0 ? nil : Int(random.uniform(below: UInt64(40)))
                let income = random.uniform(below: UInt64(8)) == 0 ? nil : Double(random.uniform(below: UInt64(80))) / 4
                rows.append((person, 1984 + Int(random.uniform(below: UInt64(5))), visits, income, person % 2,
                             "r\(random.uniform(below: UInt64(6)))"))
            }
        }
        let db = try TemporaryDatabase()
        try makeVisits(db, rows)
        let plan = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                             sampling: .keyedHash(.insecureFixed(5, 6)))
        #expect(plan.boundedScan != nil)
        let singlePass = try db.backend().run(plan, form: .singlePass)
        let sql = try db.backend().run(plan, form: .sql)
        #expect(singlePass.map(\.key) == sql.map(\.key))
        #expect(singlePass.map(\.values) == sql.map(\.values))
        #expect(!singlePass.isEmpty)
        // A scan that outgrows its row or group limit gives way to the SQL form: the same totals.
        for limits in [SinglePassLimits(partitions: 1, memoryBytes: 0, partitionRows: 50, groups: 1_000),
                       SinglePassLimits(partitions: 256, memoryBytes: 1 << 20, partitionRows: 100_000, groups: 2)] {
            let fallback = try db.backend().run(plan, form: .singlePass, limits: limits)
            #expect(fallback.map(\.key) == sql.map(\.key))
            #expect(fallback.map(\.values) == sql.map(\.values))
        }
    }

    @Test("one person stored as 1, 1.0 and '1' in untyped columns: both forms count units and form groups as SQLite's GROUP BY does",
          arguments: [
        "SELECT COUNT(DISTINCT person_id), COUNT(*), SUM(doctor_visits) FROM visits",
        "SELECT year, COUNT(*), SUM(doctor_visits), AVG(income), COUNT(DISTINCT person_id) FROM visits GROUP BY year",
        "SELECT region, COUNT(*), SUM(income), COUNT(DISTINCT person_id) FROM visits GROUP BY region",
        "SELECT year, region, COUNT(*), COUNT(DISTINCT person_id) FROM visits GROUP BY year, region",
        "SELECT female, MEDIAN(income) FROM visits GROUP BY female",
    ])
    func formsAgreeOnMixedTypes(query: String) throws {
        let metadata = try PrivacyMetadata.parse(yaml: Self.formsYAML, source: "m.yaml")
        let db = try TemporaryDatabase()
        // No declared types: SQLite keeps each value's storage class as written.
        try db.queue.write { db in
            try db.execute(sql: "CREATE TABLE visits (person_id, year, doctor_visits, income, female, region, age)")
            var random = InsecureSeededRandomSource(seed: 43)
            for person in 1...150 {
                for _ in 0...Int(random.uniform(below: UInt64(6))) {
                    // The same person as an integer, an integer-valued real, or text (text is another unit in SQLite).
                    let unit: DatabaseValueConvertible = switch random.uniform(below: UInt64(3)) {
                    case 0: person
                    case 1: Double(person)
                    default: String(person)
                    }
                    let year = 1984 + Int(random.uniform(below: UInt64(4)))
                    let yearValue: DatabaseValueConvertible = random.uniform(below: UInt64(2)) == 0 ? year : Double(year)
                    let region: DatabaseValueConvertible = switch random.uniform(below: UInt64(3)) {
                    case 0: "r1"
                    case 1: 7
                    default: 7.0
                    }
                    // Now and then text in a numeric column: SQLite orders it above every number.
                    let visits: DatabaseValueConvertible = random.uniform(below: UInt64(10)) == 0
                        ? "n/a" : Int(random.uniform(below: UInt64(40)))
                    try db.execute(sql: "INSERT INTO visits VALUES (?, ?, ?, ?, ?, ?, 40)",
                                   arguments: [unit, yearValue, visits,
                                               Double(random.uniform(below: UInt64(60))) / 4, person % 2, region])
                }
            }
        }
        let plan = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                             sampling: .keyedHash(.insecureFixed(5, 6)))
        let singlePass = try db.backend().run(plan, form: .singlePass)
        let sql = try db.backend().run(plan, form: .sql)
        #expect(singlePass.map(\.key) == sql.map(\.key))
        #expect(singlePass.map(\.values) == sql.map(\.values))
        if plan.keys.isEmpty {
            // Without GROUP BY, COUNT(DISTINCT unit) is exactly SQLite's number of unit groups.
            let units = try db.queue.read { try Int64.fetchOne($0, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM visits GROUP BY person_id)") }
            #expect(singlePass[0].values[0] == [units!])
        }
    }

    @Test("a unit or key column with a collation other than BINARY runs in the SQL form, which groups as SQLite does")
    func collatedColumns() throws {
        let metadata = try PrivacyMetadata.parse(yaml: Self.formsYAML, source: "m.yaml")
        let db = try TemporaryDatabase()
        try db.queue.write { db in
            try db.execute(sql: """
                CREATE TABLE visits (person_id TEXT COLLATE NOCASE, year INTEGER, doctor_visits INTEGER, income REAL,
                                     female INTEGER, region TEXT COLLATE NOCASE, age INTEGER)
                """)
            // One person written 'Ann' and 'ANN' (one unit under NOCASE), in regions 'North' and 'north' (one group).
            for (person, region) in [("Ann", "North"), ("ANN", "north"), ("Bob", "north"), ("bob", "South")] {
                try db.execute(sql: "INSERT INTO visits VALUES (?, 1984, 1, 1.0, 0, ?, 40)", arguments: [person, region])
            }
        }
        let plan = try QueryPlanner(metadata: metadata).plan(
            "SELECT region, COUNT(DISTINCT person_id), COUNT(*) FROM visits GROUP BY region",
            budget: try PrivacyParameters(epsilon: 1, delta: 1e-6), sampling: .keyedHash(.insecureFixed(5, 6)))
        let singlePass = try db.backend().run(plan, form: .singlePass)
        let sql = try db.backend().run(plan, form: .sql)
        #expect(singlePass.map(\.values) == sql.map(\.values))
        #expect(singlePass.count == 2)   // north (Ann and Bob, 2 units, m = 2 rows kept each) and South (Bob)
        #expect(singlePass.map { $0.values.map { $0[0] } } == [[2, 3], [1, 1]])
    }

    @Test("a total that leaves 64 bits saturates at the range of Int64 in both forms instead of failing")
    func saturatingTotals() throws {
        let metadata = try PrivacyMetadata.parse(yaml: PrivacyMetadataFixture(
            table: "payments", unit: "person_id",
            columns: [("person_id", "{type: integer}"),
                      ("amount", "{type: integer, lower: -1000000000000000, upper: 1000000000000000}"),
                      ("sign", "{type: integer, public_values: [-1, 1]}")]).yaml, source: "m.yaml")
        let db = try TemporaryDatabase()
        // 9,224 units at the bound on each side: 9,224 × 10¹⁵ > 2⁶³ − 1 ≈ 9,223.37 × 10¹⁵.
        try db.queue.write { db in
            try db.execute(sql: "CREATE TABLE payments (person_id INTEGER, amount INTEGER, sign INTEGER)")
            let insert = try db.makeStatement(sql: "INSERT INTO payments VALUES (?, ?, ?)")
            for person in 1...9_224 {
                try insert.execute(arguments: [person, 1_000_000_000_000_000, 1])
                try insert.execute(arguments: [-person, -1_000_000_000_000_000, -1])
            }
        }
        for query in ["SELECT sign, SUM(amount) FROM payments GROUP BY sign", "SELECT SUM(amount) FROM payments WHERE sign = 1"] {
            let plan = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1))
            for form in [MainStatementForm.singlePass, .sql] {
                let groups = try db.backend().run(plan, form: form)
                let totals = groups.map { $0.values[plan.aggregates[0].quantities[0]][0] }
                #expect(totals == (plan.keys.isEmpty ? [Int64.max] : [Int64.min, Int64.max]), "\(query) \(form)")
            }
        }
        // Row-level privacy has only the SQL form; its totals saturate the same way.
        let rows = try PrivacyMetadata.parse(yaml: """
            scope: s
            tables:
              payments:
                row_privacy: true
                columns:
                  amount: {type: integer, lower: 0, upper: 1000000000000000}
            """, source: "m.yaml")
        let plan = try QueryPlanner(metadata: rows).plan("SELECT SUM(amount) FROM payments", budget: try PrivacyParameters(epsilon: 1))
        #expect(try db.backend().run(plan).map { $0.values[plan.aggregates[0].quantities[0]][0] } == [Int64.max])
    }

    static let formsYAML = """
            scope: s
            tables:
              visits:
                privacy_unit: person_id
                max_partitions_per_unit: 3
                max_rows_per_partition: 2
                columns:
                  person_id: {type: integer}
                  year: {type: integer, public_values: [1984, 1985, 1986, 1987, 1988, 1999]}
                  doctor_visits: {type: integer, lower: 0, upper: 30}
                  income: {type: real, lower: 1, upper: 14}
                  female: {type: boolean, public_values: [0, 1]}
                  region: {type: text}
                  age: {type: integer}
            """

    @Test("histograms for percentiles: a unit's bins total at most m")
    func histogram() throws {
        let db = try TemporaryDatabase()
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...20 { rows.append((person, 1984, person, 1, 0, "x")) }
        for _ in 0..<50 { rows.append((777, 1984, 29, 1, 0, "x")) }
        try makeVisits(db, rows)
        let (plan, groups) = try trueGroups("SELECT MEDIAN(doctor_visits) FROM visits",
                                            metadata: try healthMetadata(), database: db)
        let bins = groups[0].values[0]
        #expect(bins.count == 64)
        #expect(bins.reduce(0, +) == 21)           // 20 units with one row, the heavy unit capped at m = 1
        let result = try plan.finish([NoisyGroup(key: [], values: groups[0].values)])
        let median = try #require(result.rows[0][0].number)
        #expect(abs(median - 11) < 1)              // the true median of 1…20 plus one 29
    }

    @Test("histograms: a person whose rows fall into two bins still counts once, in either bin about equally often",
          arguments: [PartitionSampling.random, .keyedHash(.insecureFixed(7, 8))])
    func histogramCountsMultiBinPeople(sampling: PartitionSampling) throws {
        let db = try TemporaryDatabase()
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...200 {
            rows.append((person, 1984, 1, 1, 0, "x"))
            rows.append((person, 1984, 29, 1, 0, "x"))
        }
        try makeVisits(db, rows)
        let (_, groups) = try trueGroups("SELECT MEDIAN(doctor_visits) FROM visits", metadata: try healthMetadata(),
                                         database: db, sampling: sampling)
        let bins = groups[0].values[0]
        // m = 1: each person keeps one of their two rows. (Scaling each person's bins by 1/2 and rounding down
        // counted nobody.)
        #expect(bins.reduce(0, +) == 200)
        let low = bins[Int(1.0 / 30 * 64)], high = bins[Int(29.0 / 30 * 64)]
        #expect(low + high == 200)
        // Each person picks the low row with probability 1/2: |Binomial(200, 1/2) − 100| > 35 (4.95 σ) has
        // probability below 10⁻⁶, the false-failure probability of this check.
        #expect(abs(low - 100) <= 35, "\(low) of 200 in the low bin")
    }

    @Test("row privacy aggregates rows directly")
    func rowPrivacy() throws {
        let db = try TemporaryDatabase()
        try db.queue.write { db in
            try db.execute(sql: "CREATE TABLE t (g TEXT, x REAL)")
            for i in 0..<10 { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [i < 6 ? "a" : "b", Double(i) * 10]) }
        }
        let metadata = try PrivacyMetadata.parse(yaml: """
            scope: s
            tables:
              t:
                row_privacy: true
                columns: {g: {type: text, public_values: [a, b, c]}, x: {type: real, lower: 0, upper: 50}}
            """, source: "m.yaml")
        let (plan, groups) = try trueGroups("SELECT g, COUNT(*), SUM(x) FROM t GROUP BY g", metadata: metadata, database: db)
        #expect(plan.quantities[0].kind == .unitCount)
        #expect(plan.quantities[0].l1Sensitivity == 1)
        let g = plan.quantities[1].granularity
        #expect(groups.map(\.key) == [[.text("a")], [.text("b")], [.text("c")]])
        #expect(groups[0].values[0] == [6])
        #expect(Double(groups[0].values[1][0]) * g == 0 + 10 + 20 + 30 + 40 + 50)
        #expect(Double(groups[1].values[1][0]) * g == 50 * 4)   // 60, 70, 80, 90 clamped to 50
        #expect(groups[2].values == [[0], [0]])
    }

    @Test("injection attempts in literals stay inert; in identifiers they are refused")
    func injection() throws {
        let db = try TemporaryDatabase()
        try makeVisits(db, [(1, 1984, 3, 1, 0, "x")])
        let metadata = try healthMetadata()
        let (_, groups) = try trueGroups("SELECT COUNT(*) FROM visits WHERE region = 'x'' OR 1=1; DROP TABLE visits; --'",
                                         metadata: metadata, database: db)
        #expect(groups[0].values == [[0]])
        let stillThere = try db.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM visits") }
        #expect(stillThere == 1)
        for query in [#"SELECT COUNT(*) FROM "visits; DROP TABLE visits""#,
                      #"SELECT SUM("income"" FROM visits; --") FROM visits"#] {
            #expect(throws: QueryError.self) {
                _ = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1))
            }
        }
    }

    @Test("the backend opens the database read-only")
    func readOnly() throws {
        let db = try TemporaryDatabase()
        try makeVisits(db, [])
        let backend = try db.backend()
        #expect(throws: VeilError.self) { _ = try SQLiteBackend(path: "/nonexistent/veil.sqlite") }
        _ = backend
    }

    @Test("the keyed priority is the first 8 bytes of SHA-256 over key and canonical encoding")
    func keyedPriority() {
        // Key 00 01 … 0f; values (7, 1.5, "é", NULL, 2.0): the message is the key, then 01 00…07, 02 3ff8000000000000,
        // 03 00…02 c3 a9, 00, 01 00…02 (2.0 is hashed as the integer 2). Digest computed independently with
        // `printf … | xxd -r -p | sha256sum`.
        let key = PartitionSamplingKey(k0: 0x0001_0203_0405_0607, k1: 0x0809_0a0b_0c0d_0e0f)
        let priority = KeyedPriority.priority(key: key, of: [.integer(7), .real(1.5), .text("é"), .null, .real(2)])
        #expect(UInt64(bitPattern: priority) == 0xa883_9744_bd48_17c1)
        #expect(priority == KeyedPriority.priority(key: key, of: [.integer(7), .real(1.5), .text("é"), .null, .integer(2)]))
    }
}
