import _TestSupport
import Accounting
import Foundation
import GRDB
import Mechanisms
import Testing
@testable import PrivateSQL

/// The single-pass bounding does not depend on the order of the table's rows, and keeps its bounds when a unit's
/// rows are scattered over the whole table.
@Suite("Single-pass bounding in any row order")
struct RowOrderBoundingTests {
    static let yaml = """
        scope: s
        tables:
          visits:
            privacy_unit: person_id
            max_partitions_per_unit: 3
            max_rows_per_partition: 2
        ROWBOUND    columns:
              person_id: {type: integer}
              year: {type: integer, public_values: [1984, 1985, 1986, 1987, 1988]}
              doctor_visits: {type: integer, lower: 0, upper: 30}
              income: {type: real, lower: 1, upper: 14}
              female: {type: boolean, public_values: [0, 1]}
              region: {type: text}
        """

    static func metadata(maxRowsPerUnit: Int?) throws -> PrivacyMetadata {
        let line = maxRowsPerUnit.map { "    max_rows_per_unit: \($0)\n" } ?? ""
        return try PrivacyMetadata.parse(yaml: yaml.replacingOccurrences(of: "ROWBOUND", with: line), source: "m.yaml")
    }

    /// Units with 1–12 rows over five years and six regions (many exceed k groups and m rows per group); incomes
    /// are multiples of 1/4, so every sum is exact in any order. Each row carries `rid`, its position in unit
    /// order, which stands in for `_rowid_` so that both tables give each row the same identity.
    static func rows() -> [(rid: Int, person: Int, year: Int, visits: Int?, income: Double?, region: String)] {
        var random = InsecureSeededRandomSource(seed: 77)
        var rows: [(rid: Int, person: Int, year: Int, visits: Int?, income: Double?, region: String)] = []
        for person in 1...300 {
            for _ in 0...Int(random.uniform(below: UInt64(12))) {
                let visits = random.uniform(below: UInt64(10)) == 0 ? nil : Int(random.uniform(below: UInt64(40)))
                let income = random.uniform(below: UInt64(8)) == 0 ? nil : Double(random.uniform(below: UInt64(80))) / 4
                rows.append((rows.count + 1, person, 1984 + Int(random.uniform(below: UInt64(5))), visits, income,
                             "r\(random.uniform(below: UInt64(6)))"))
            }
        }
        return rows
    }

    /// A `visits` table holding `rows` in the given order.
    static func table(_ rows: [(rid: Int, person: Int, year: Int, visits: Int?, income: Double?, region: String)])
        throws -> TemporaryDatabase {
        let db = try TemporaryDatabase("""
            CREATE TABLE visits (rid INTEGER, person_id INTEGER, year INTEGER, doctor_visits INTEGER, income REAL,
                                 female INTEGER, region TEXT)
            """)
        try db.queue.write { db in
            for row in rows {
                try db.execute(sql: "INSERT INTO visits VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [row.rid, row.person, row.year, row.visits, row.income, row.person % 2, row.region])
            }
        }
        return db
    }

    /// The single pass's true totals, with each row's `rid` as its identity for `max_rows_per_unit`.
    static func singlePass(_ plan: QueryPlan, _ db: TemporaryDatabase, limits: SinglePassLimits = .standard)
        throws -> [TrueGroup] {
        let scan = try #require(plan.boundedScan)
        let aggregator = BoundedAggregator(scan: scan, table: plan.table, quantities: plan.quantities,
                                           sampling: plan.sampling, limits: limits)
        try db.queue.read { database in
            try aggregator.scan(database, sql: scan.sql.replacingOccurrences(of: "_rowid_", with: "rid"),
                                arguments: StatementArguments(scan.parameters.map(\.databaseValue)))
        }
        var groups: [TrueGroup] = []
        try aggregator.totals(plan: plan, scan: scan).forEachGroup { groups.append($0) }
        return groups
    }

    static let queries = [
        "SELECT year, COUNT(*), SUM(doctor_visits), AVG(income), COUNT(DISTINCT person_id) FROM visits GROUP BY year",
        "SELECT region, COUNT(*), SUM(income), AVG(doctor_visits), COUNT(DISTINCT person_id) FROM visits GROUP BY region",
        "SELECT year, region, COUNT(*), SUM(doctor_visits) FROM visits GROUP BY year, region",
        "SELECT COUNT(*), SUM(income), AVG(doctor_visits), VARIANCE(income) FROM visits",
    ]

    @Test("a table in unit order and the same rows shuffled give the same totals, equal to the SQL form's",
          arguments: RowOrderBoundingTests.queries, [nil, 4])
    func orderDoesNotMatter(query: String, maxRowsPerUnit: Int?) throws {
        let rows = Self.rows()
        var shuffled = rows
        var random = InsecureSeededRandomSource(seed: 78)
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
            shuffled.swapAt(i, Int(random.uniform(below: UInt64(i + 1))))
        }
        #expect(shuffled.map(\.rid) != rows.map(\.rid))
        let sorted = try Self.table(rows), scattered = try Self.table(shuffled)
        let plan = try QueryPlanner(metadata: try Self.metadata(maxRowsPerUnit: maxRowsPerUnit))
            .plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6), sampling: .keyedHash(.insecureFixed(5, 6)))
        let inUnitOrder = try Self.singlePass(plan, sorted)
        // In the sorted table `rid` is the _rowid_, so the SQL form (which samples rows by _rowid_) is the reference.
        let sql = try sorted.backend().run(plan, form: .sql)
        #expect(!sql.isEmpty)
        #expect(inUnitOrder.map(\.key) == sql.map(\.key))
        #expect(inUnitOrder.map(\.values) == sql.map(\.values))
        // Shuffled; one partition; every row through the temporary file; seven partitions, all spilled.
        for limits in [SinglePassLimits.standard,
                       SinglePassLimits(partitions: 1, memoryBytes: 1 << 20, partitionRows: 100_000, groups: 100),
                       SinglePassLimits(partitions: 7, memoryBytes: 0, partitionRows: 100_000, groups: 100)] {
            let inAnyOrder = try Self.singlePass(plan, scattered, limits: limits)
            #expect(inAnyOrder.map(\.key) == sql.map(\.key))
            #expect(inAnyOrder.map(\.values) == sql.map(\.values))
        }
    }

    @Test("past its row or group limit the single pass gives way to the SQL form, with the same totals",
          arguments: [nil, 4])
    func limitFallback(maxRowsPerUnit: Int?) throws {
        let db = try Self.table(Self.rows())
        let plan = try QueryPlanner(metadata: try Self.metadata(maxRowsPerUnit: maxRowsPerUnit))
            .plan(Self.queries[1], budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                  sampling: .keyedHash(.insecureFixed(5, 6)))
        let sql = try db.backend().run(plan, form: .sql)
        // 1,900-odd rows in one partition against a limit of 50; six regions against a limit of 2.
        #expect(throws: SinglePassLimitExceeded.self) {
            _ = try Self.singlePass(plan, db, limits: SinglePassLimits(partitions: 1, memoryBytes: 0, partitionRows: 50,
                                                                       groups: 100))
        }
        for limits in [SinglePassLimits(partitions: 1, memoryBytes: 0, partitionRows: 50, groups: 100),
                       SinglePassLimits(partitions: 16, memoryBytes: 0, partitionRows: 100_000, groups: 2)] {
            let fallback = try db.backend().run(plan, form: .singlePass, limits: limits)
            #expect(fallback.map(\.key) == sql.map(\.key))
            #expect(fallback.map(\.values) == sql.map(\.values))
        }
    }

    /// 2,000 units with one row each (visits 1, years in turn), and unit 0 with 20,000 rows (visits 10, every
    /// year) scattered at random positions through the table.
    static func heavyUnitTable() throws -> TemporaryDatabase {
        var rows: [(person: Int, year: Int, visits: Int)] = (1...2_000).map { ($0, 1984 + $0 % 5, 1) }
        var random = InsecureSeededRandomSource(seed: 79)
        for i in 0..<20_000 {
            rows.insert((0, 1984 + i % 5, 10), at: Int(random.uniform(below: UInt64(rows.count + 1))))
        }
        let db = try TemporaryDatabase("""
            CREATE TABLE visits (person_id INTEGER, year INTEGER, doctor_visits INTEGER, income REAL, female INTEGER,
                                 region TEXT)
            """)
        try db.queue.write { db in
            let insert = try db.makeStatement(sql: "INSERT INTO visits VALUES (?, ?, ?, 5, 0, 'r1')")
            for row in rows { try insert.execute(arguments: [row.person, row.year, row.visits]) }
        }
        return db
    }

    @Test("a unit with 20,000 rows scattered through the table contributes at most k groups of m rows",
          arguments: [SinglePassLimits.standard,
                      SinglePassLimits(partitions: 16, memoryBytes: 0, partitionRows: 100_000, groups: 100)])
    func scatteredHeavyUnit(limits: SinglePassLimits) throws {
        let db = try Self.heavyUnitTable()
        for sampling in [PartitionSampling.keyedHash(.insecureFixed(1, 2)), .random] {
            let plan = try QueryPlanner(metadata: try Self.metadata(maxRowsPerUnit: nil)).plan(
                "SELECT year, COUNT(*), SUM(doctor_visits), COUNT(DISTINCT person_id) FROM visits GROUP BY year",
                budget: try PrivacyParameters(epsilon: 1), sampling: sampling)
            let groups = try db.backend().run(plan, form: .singlePass, limits: limits)
            let total = { (q: Int) in groups.map { $0.values[q][0] }.reduce(0, +) }
            // The 2,000 light units give 2,000 rows, 2,000 visits, 2,000 (unit, group) pairs; the heavy unit keeps
            // k = 3 of its 5 years, each capped at m = 2 rows and its visits at m·30 = 60 (it has 40,000 per year).
            #expect(total(0) == 2_000 + 3 * 2)
            #expect(total(1) == 2_000 + 3 * 60)
            #expect(total(2) == 2_000 + 3)
            #expect(groups.map { $0.values[0][0] }.allSatisfy { $0 == 400 || $0 == 402 })
        }
    }

    @Test("with max_rows_per_unit a scattered unit of 20,000 rows keeps R of them", arguments: [
        PartitionSampling.keyedHash(.insecureFixed(3, 4)), .random])
    func scatteredHeavyUnitRowBound(sampling: PartitionSampling) throws {
        let db = try Self.heavyUnitTable()
        let plan = try QueryPlanner(metadata: try Self.metadata(maxRowsPerUnit: 4)).plan(
            "SELECT COUNT(*), SUM(doctor_visits) FROM visits", budget: try PrivacyParameters(epsilon: 1), sampling: sampling)
        let limits = SinglePassLimits(partitions: 8, memoryBytes: 0, partitionRows: 100_000, groups: 100)
        let groups = try db.backend().run(plan, form: .singlePass, limits: limits)
        // Without GROUP BY the heavy unit has one group: its 4 kept rows count min(4, m) = 2, their visits 4·10 = 40
        // (within the clamp m·30 = 60).
        #expect(groups.count == 1)
        #expect(groups[0].values[0] == [2_000 + 2])
        #expect(groups[0].values[1] == [2_000 + 40])
    }

    @Test("the synthetic panel in random order holds the same rows as in unit order, in another order")
    func syntheticPanelOrders() throws {
        let folder = try TemporaryFolder("panel")
        var tables: [[Row]] = []
        var firstUnits: [[Int64]] = []
        for order in SyntheticPanel.RowOrder.allCases {
            let path = folder.url.appendingPathComponent("\(order.rawValue).sqlite").path
            try SyntheticPanel.generate(path: path, rows: 1_000, seed: 9, order: order)
            let queue = try DatabaseQueue(path: path)
            tables.append(try queue.read { try Row.fetchAll($0, sql: "SELECT * FROM visits ORDER BY person_id, year") })
            firstUnits.append(try queue.read { try Int64.fetchAll($0, sql: "SELECT person_id FROM visits LIMIT 20") })
        }
        #expect(tables[0].count == 1_000)
        #expect(tables[0] == tables[1])
        #expect(firstUnits[0] == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4])
        #expect(firstUnits[1] != firstUnits[0])
    }
}
