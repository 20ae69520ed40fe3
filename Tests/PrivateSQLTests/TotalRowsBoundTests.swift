import _TestSupport
import Accounting
import Foundation
import GRDB
import Mechanisms
import Testing
@testable import PrivateSQL

/// `max_rows_per_unit` (R): metadata, sensitivities from all bounds together, and the uniformly random choice of
/// each unit's kept rows in both forms of the main statement.
@Suite("Total rows per unit")
struct TotalRowsBoundTests {
    /// Metadata whose table `t` declares the given bounds (a `nil` bound is left out).
    static func yaml(k: Int?, m: Int?, r: Int?) -> String {
        PrivacyMetadataFixture(
            maxPartitionsPerUnit: k, maxRowsPerPartition: m, maxRowsPerUnit: r,
            columns: [("uid", "{type: integer}"), ("g", "{type: text}"), ("x", "{type: integer, lower: -4, upper: 10}")]).yaml
    }

    func plan(_ query: String, yaml: String) throws -> QueryPlan {
        let metadata = try PrivacyMetadata.parse(yaml: yaml, source: "privacy.yaml")
        return try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                         sampling: .keyedHash(.insecureFixed(1, 2)), noise: .gaussian)
    }

    @Test("max_rows_per_unit alone bounds groups and rows per group by R; with k and m it caps them")
    func metadata() throws {
        let alone = try #require(try PrivacyMetadata.parse(yaml: Self.yaml(k: nil, m: nil, r: 5), source: "p").table(named: "t"))
        #expect(alone.maxRowsPerUnit == 5)
        #expect(alone.maxPartitionsPerUnit == 5)
        #expect(alone.maxRowsPerPartition == 5)
        let capped = try #require(try PrivacyMetadata.parse(yaml: Self.yaml(k: 7, m: 9, r: 4), source: "p").table(named: "t"))
        #expect(capped.maxPartitionsPerUnit == 4)
        #expect(capped.maxRowsPerPartition == 4)
        let loose = try #require(try PrivacyMetadata.parse(yaml: Self.yaml(k: 2, m: 3, r: 100), source: "p").table(named: "t"))
        #expect(loose.maxPartitionsPerUnit == 2)
        #expect(loose.maxRowsPerPartition == 3)
        #expect(loose.maxRowsPerUnit == 100)
        #expect(throws: VeilError.self) { try PrivacyMetadata.parse(yaml: Self.yaml(k: 2, m: nil, r: nil), source: "p") }
        #expect(throws: VeilError.self) { try PrivacyMetadata.parse(yaml: Self.yaml(k: 2, m: 2, r: 0), source: "p") }
        let rowPrivacy = """
            scope: s
            tables:
              t:
                row_privacy: true
                max_rows_per_unit: 3
                columns:
                  x: {type: integer, lower: 0, upper: 1}
            """
        #expect(throws: VeilError.self) { try PrivacyMetadata.parse(yaml: rowPrivacy, source: "p") }
    }

    /// Known answers (text key without public values, so k is not capped by the key count). For (k, m, R):
    /// counts have L1 = min(k·m, R) and L2² = min(q, k)·m² + [q < k]·r² with R = q·m + r (k, m capped at R);
    /// SUM(x) with |x| ≤ 10 is ten times that; the unit count has L1 = min(k, R).
    @Test("sensitivities from every combination of k, m and R", arguments: [
        // k,   m,   R,   count L1, count ⌈L2⌉, sum L1, sum ⌈L2⌉, unit L1
        [nil, nil, 5, 5, 5, 50, 50, 5],       // R alone: all five rows may sit in one group
        [5, 5, 5, 5, 5, 50, 50, 5],           // the benchmark's metadata: L1 5 instead of 25
        [3, 2, 5, 5, 3, 50, 30, 3],           // 2 + 2 + 1 rows: L2² = 4 + 4 + 1 = 9
        [2, 7, 100, 14, 10, 140, 99, 2],      // R does not bind: k·m = 14, L2 = √2·7 = 9.9
        [4, 1, 2, 2, 2, 20, 15, 2],           // k capped at R = 2: L2 = √2 → 2, sum √200 = 14.1 → 15
        [5, 5, 1, 1, 1, 10, 10, 1],           // one row in all
        [3, 4, nil, 12, 7, 120, 70, 3],       // k and m only: L2 = √3·4 = 6.9, sum √3·40 = 69.3
    ] as [[Int?]])
    func sensitivities(_ row: [Int?]) throws {
        let p = try plan("SELECT g, COUNT(*), COUNT(DISTINCT uid), SUM(x) FROM t GROUP BY g",
                         yaml: Self.yaml(k: row[0], m: row[1], r: row[2]))
        let byKind = Dictionary(uniqueKeysWithValues: p.quantities.map { ($0.kind, $0) })
        let count = try #require(byKind[.rowCount])
        #expect(count.l1Sensitivity == row[3])
        // δ > 0: Gaussian noise, calibrated to the integer L2 sensitivity; the Laplace scale follows L1.
        guard case .discreteGaussian(_, let countL2) = count.noise else { Issue.record("Gaussian noise expected"); return }
        #expect(countL2 == row[4])
        #expect(abs(count.laplaceScale - Double(row[3]!) / count.epsilon) <= 1e-9 * count.laplaceScale)
        #expect(Int(count.l2Sensitivity.rounded(.up)) == row[4])
        let x = try #require(ClampedColumn(ColumnMetadata(name: "x", type: .integer, lower: -4, upper: 10)))
        let sum = try #require(byKind[.sum(column: x)])
        #expect(sum.l1Sensitivity == row[5])
        guard case .discreteGaussian(_, let sumL2) = sum.noise else { Issue.record("Gaussian noise expected"); return }
        #expect(sumL2 == row[6])
        #expect(Int((sum.l2Sensitivity - 1e-9).rounded(.up)) == row[6])
        #expect(try #require(byKind[.unitCount]).l1Sensitivity == row[7])
    }

    @Test("fractional row bounds: L1 ≤ ⌈R·u⌉ + k − 1 and L2² ≤ s·L1")
    func fractionalRowUnits() throws {
        // k = 3, m = 2, R = 5, u = 10.25 grid units per row: s = ⌈20.5⌉ = 21, k·s = 63, ⌈51.25⌉ + 2 = 54,
        // L2² ≤ 21·54 = 1134 → ⌈33.67⌉ = 34.
        let bounds = try #require(PlanBuilder.totalRowsSensitivities(k: 3, m: 2, totalRows: 5, partitionSensitivity: 21,
                                                                     integralRowUnits: nil, rowUnits: 10.25))
        #expect(bounds.l1 == 54)
        #expect(bounds.l2 == 34)
        // Whole rows of 3 units, k = 4, m = 3, R = 7: L1 = min(36, 21) = 21; groups of 3, 3, 1 rows:
        // L2² = 81 + 81 + 9 = 171 → 14.
        let whole = try #require(PlanBuilder.totalRowsSensitivities(k: 4, m: 3, totalRows: 7, partitionSensitivity: 9,
                                                                    integralRowUnits: 3, rowUnits: 3))
        #expect(whole.l1 == 21)
        #expect(whole.l2 == 14)
    }

    /// One person with rows of visits 1, 2, 4, …, 512 (one row each), as the `visits` table.
    func powersOfTwo() throws -> TemporaryDatabase {
        let db = try TemporaryDatabase()
        try makeVisits(db, (0..<10).map { (1, 1984, 1 << $0, 1.0, 0, "r") })
        return db
    }

    static let subsetYAML = PrivacyMetadataFixture.visits(
        scope: "s", maxPartitionsPerUnit: nil, maxRowsPerPartition: nil, maxRowsPerUnit: 3,
        year: "{type: integer, public_values: [1984]}", doctorVisits: "{type: integer, lower: 0, upper: 512}").yaml

    /// Each subset of 3 of the 10 rows is one of 120; SUM(visits) names it. The chi-square statistic of the
    /// subsets' counts over `runs` runs.
    func subsetChiSquare(runs: Int, form: MainStatementForm,
                         sampling: (Int) -> PartitionSampling) throws -> Double {
        let db = try powersOfTwo()
        let backend = try db.backend()
        let planner = QueryPlanner(metadata: try PrivacyMetadata.parse(yaml: Self.subsetYAML, source: "m.yaml"))
        var counts: [Int: Int] = [:]
        for run in 0..<runs {
            let plan = try planner.plan("SELECT SUM(doctor_visits) FROM visits",
                                        budget: try PrivacyParameters(epsilon: 1), sampling: sampling(run))
            let mask = try backend.run(plan, form: form)[0].values[0][0]
            #expect(mask.nonzeroBitCount == 3)
            counts[Int(mask), default: 0] += 1
        }
        #expect(counts.count <= 120)
        let expected = Double(runs) / 120
        return (0..<1024).filter { $0.nonzeroBitCount == 3 }
            .map { Double(counts[$0] ?? 0) }
            .reduce(0) { $0 + ($1 - expected) * ($1 - expected) / expected }
    }

    // χ² with 119 degrees of freedom exceeds 236 with probability 1e-9: that is the false-failure probability
    // of the fresh-random test; the keyed-hash ones are deterministic (fixed keys).
    @Test("the kept rows are a uniformly random 3-subset: fresh randomness, single pass")
    func uniformSubsetRandom() throws {
        #expect(try subsetChiSquare(runs: 2400, form: .singlePass) { _ in .random } < 236)
    }

    @Test("the kept rows are a uniformly random 3-subset: keyed hash, both forms")
    func uniformSubsetKeyed() throws {
        for form in [MainStatementForm.singlePass, .sql] {
            let chi = try subsetChiSquare(runs: 1200, form: form) {
                .keyedHash(.insecureFixed(UInt64($0) &* 0x9E37_79B9_7F4A_7C15, UInt64($0) + 17))
            }
            #expect(chi < 236)
        }
    }

    @Test("a WITHOUT ROWID table is refused before any data is read, naming max_rows_per_unit")
    func withoutRowid() throws {
        let db = try TemporaryDatabase()
        try db.queue.write { db in
            try db.execute(sql: "CREATE TABLE visits (person_id INTEGER, year INTEGER, doctor_visits INTEGER, "
                           + "income REAL, female INTEGER, region TEXT, age INTEGER, PRIMARY KEY (person_id, year)) "
                           + "WITHOUT ROWID")
        }
        let plan = try QueryPlanner(metadata: try PrivacyMetadata.parse(yaml: Self.subsetYAML, source: "m.yaml"))
            .plan("SELECT COUNT(*) FROM visits", budget: try PrivacyParameters(epsilon: 1))
        #expect {
            try db.backend().validate(plan)
        } throws: { error in
            (error as? VeilError)?.message.contains("max_rows_per_unit needs the table's _rowid_") == true
        }
    }

    @Test("a heavy user with 20,000 rows contributes R rows; both forms agree")
    func heavyUser() throws {
        let yaml = """
            scope: s
            tables:
              visits:
                privacy_unit: person_id
                max_partitions_per_unit: 5
                max_rows_per_partition: 5
                max_rows_per_unit: 5
                columns:
                  person_id: {type: integer}
                  year: {type: integer, public_values: [1984, 1985, 1986, 1987, 1988]}
                  doctor_visits: {type: integer, lower: 0, upper: 30}
                  income: {type: real, lower: 0, upper: 15}
                  female: {type: boolean}
                  region: {type: text}
                  age: {type: integer}
            """
        var rows: [(Int, Int, Int?, Double?, Int, String)] = (0..<20_000).map { (0, 1984 + $0 % 5, 30, 15, 0, "r") }
        rows += (1...50).map { (($0), 1984 + $0 % 5, 1, 1, 1, "r") }
        let db = try TemporaryDatabase()
        try makeVisits(db, rows)
        let planner = QueryPlanner(metadata: try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml"))
        for sampling in [PartitionSampling.random, .keyedHash(.insecureFixed(3, 4))] {
            let plan = try planner.plan("SELECT year, COUNT(*), SUM(doctor_visits) FROM visits GROUP BY year",
                                        budget: try PrivacyParameters(epsilon: 1), sampling: sampling)
            #expect(plan.quantities.map(\.l1Sensitivity) == [5, 150])
            for form in [MainStatementForm.singlePass, .sql] {
                let groups = try db.backend().run(plan, form: form)
                #expect(groups.count == 5)
                let rows: Int64 = groups.map { $0.values[0][0] }.reduce(0, +)
                let visits: Int64 = groups.map { $0.values[1][0] }.reduce(0, +)
                #expect(rows == 55)               // 5 of the heavy user's rows and 50 others
                #expect(visits == 5 * 30 + 50)
            }
            if case .keyedHash = sampling {
                #expect(try db.backend().run(plan, form: .singlePass).map(\.values)
                        == db.backend().run(plan, form: .sql).map(\.values))
            }
        }
    }
}
