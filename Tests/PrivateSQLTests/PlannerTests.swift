import _TestSupport
import Accounting
import Foundation
import Mechanisms
import Testing
@testable import PrivateSQL

@Suite("Planner: sensitivities, budget split and refusals")
struct PlannerTests {
    func plan(_ query: String, yaml: String = healthYAML, epsilon: Double = 1, delta: Double = 1e-6,
              noise: QueryNoise = .laplace) throws -> QueryPlan {
        let metadata = try PrivacyMetadata.parse(yaml: yaml, source: "privacy.yaml")
        return try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: epsilon, delta: delta),
                                                         sampling: .keyedHash(.insecureFixed(1, 2)), noise: noise)
    }

    /// Metadata with k partitions per unit and m rows per partition.
    func yaml(k: Int, m: Int) -> String {
        PrivacyMetadataFixture(
            maxPartitionsPerUnit: k, maxRowsPerPartition: m,
            columns: [("uid", "{type: integer}"), ("g", "{type: text}"), ("x", "{type: integer, lower: -4, upper: 10}"),
                      ("r", "{type: real, lower: 2, upper: 6}")]).yaml
    }

    @Test("COUNT(*), COUNT(col), COUNT(DISTINCT unit) and SUM: sensitivities from the bounds",
          arguments: [(1, 1), (3, 1), (5, 2), (2, 7)])
    func countAndSum(k: Int, m: Int) throws {
        let p = try plan("SELECT g, COUNT(*), COUNT(x), COUNT(DISTINCT uid), SUM(x) FROM t GROUP BY g",
                         yaml: yaml(k: k, m: m))
        let byKind = Dictionary(uniqueKeysWithValues: p.quantities.map { ($0.kind, $0) })
        let rows = try #require(byKind[.rowCount])
        #expect(rows.l1Sensitivity == k * m)
        #expect(abs(rows.l2Sensitivity - Double(k).squareRoot() * Double(m)) < 1e-12)
        #expect(try #require(byKind[.nonNullCount(column: "x")]).l1Sensitivity == k * m)
        let units = try #require(byKind[.unitCount])
        #expect(units.l1Sensitivity == k)
        #expect(abs(units.l2Sensitivity - Double(k).squareRoot()) < 1e-12)
        let x = try #require(ClampedColumn(ColumnMetadata(name: "x", type: .integer, lower: -4, upper: 10)))
        #expect(x.integerValued)
        let sum = try #require(byKind[.sum(column: x)])
        #expect(sum.granularity == 1)
        #expect(sum.partitionSensitivity == m * 10)   // m · max(|−4|, |10|)
        #expect(sum.l1Sensitivity == k * m * 10)
        // Four single-quantity aggregates of weight 1 share ε equally (BudgetSplit); the unit count doubles as the
        // partition-selection count.
        #expect(p.quantities.count == 4)
        for q in p.quantities { #expect(abs(q.epsilon - 0.25) < 1e-15) }
        guard case .thresholding(let index, let threshold, let delta) = p.selection else {
            Issue.record("text keys without public values need thresholding")
            return
        }
        #expect(p.quantities[index].kind == .unitCount)
        #expect(delta == 1e-6)
        #expect(threshold > 1)
    }

    @Test("AVG, VARIANCE, STDDEV share a count and centred sums on a power-of-two grid")
    func averageAndVariance() throws {
        let p = try plan("SELECT AVG(r), VARIANCE(r), STDDEV(r) FROM t", yaml: yaml(k: 3, m: 2), epsilon: 1.5)
        let r = try #require(ClampedColumn(ColumnMetadata(name: "r", type: .real, lower: 2, upper: 6)))
        #expect(p.quantities.map(\.kind) == [.nonNullCount(column: "r"), .centeredSum(column: r, center: 4),
                                               .centeredSumOfSquares(column: r, center: 4)])
        #expect(p.selection == .single)
        #expect(p.effectivePartitionsPerUnit == 1)   // no GROUP BY: one partition
        let centred = p.quantities[1]
        let g = centred.granularity
        #expect(g == exp2(log2(g).rounded()))        // a power of two
        // m · half = 2 · 2 = 4 value units, in grid units:
        #expect(centred.partitionSensitivity == Int((4 / g).rounded(.up)))
        let squares = p.quantities[2]
        #expect(squares.partitionSensitivity == Int((2 * 4 / squares.granularity).rounded(.up)))  // m · half²
        // The grid is at most 2^−20 of the Laplace scale (at the centred sum's share of ε, see BudgetSplit).
        #expect(g <= 4 / centred.epsilon / 0x1p20)
        #expect(g > 4 / centred.epsilon / 0x1p21)
        #expect(p.aggregates.map(\.quantities) == [[0, 1], [0, 1, 2], [0, 1, 2]])
    }

    @Test("PERCENTILE and MEDIAN share one histogram with L1 sensitivity k·m")
    func percentiles() throws {
        let p = try plan("SELECT MEDIAN(x), PERCENTILE(x, 0.9) FROM t GROUP BY g", yaml: yaml(k: 4, m: 3))
        let histogram = p.quantities[0]
        guard case .histogram(let x, 64, -4, 10) = histogram.kind, x.name == "x", x.bounds == -4...10 else {
            Issue.record("expected a histogram of x")
            return
        }
        #expect(histogram.dimension == 64)
        #expect(histogram.l1Sensitivity == 12)
        #expect(p.quantities.count == 2)   // histogram + unit count for thresholding
    }

    @Test("public keys: k is capped by the number of combinations and no δ is spent")
    func publicKeys() throws {
        let p = try plan("SELECT year, COUNT(*) FROM visits GROUP BY year", delta: 0)
        #expect(p.selection == .publicKeys(count: 5))
        #expect(p.effectivePartitionsPerUnit == 5)
        #expect(p.quantities.count == 1)
        #expect(p.quantities[0].l1Sensitivity == 5)
        #expect(p.cost == .composed([.discreteLaplace(scale: 5, sensitivity: 5)]))
        let q = try plan("SELECT year, female, SUM(doctor_visits) FROM visits GROUP BY year, female")
        guard case .thresholding = q.selection else {
            Issue.record("female has no public values: thresholding expected")
            return
        }
        #expect(q.effectivePartitionsPerUnit == 5)
    }

    @Test("the cost is one discrete Laplace per quantity plus δ for partition selection")
    func cost() throws {
        let p = try plan("SELECT region, COUNT(*) AS n FROM visits GROUP BY region", epsilon: 2, delta: 1e-5)
        #expect(p.cost == .composed([
            .discreteLaplace(scale: 5, sensitivity: 5),   // COUNT(*): k·m = 5, ε share 1
            .discreteLaplace(scale: 5, sensitivity: 5),   // unit count: k = 5, ε share 1
            .epsilonDelta(epsilon: 0, delta: 1e-5),
        ]))
        try p.cost.validate()
        // threshold = 1 + ⌈s·ln(1/((δ/k)(1+e^(−1/s))))⌉ with s = 5, δ/k = 2e-6
        let s = 5.0
        let expected = 1 + Int64((s * log(1 / (2e-6 * (1 + exp(-1 / s))))).rounded(.up))
        #expect(p.selection == .thresholding(quantity: 1, threshold: expected, delta: 1e-5))
    }

    @Test("refusals say why and what to do instead", arguments: [
        ("SELECT * FROM visits", "SELECT * is refused", 1, 8),
        ("SELECT income FROM visits", "column income is used in SELECT without an aggregate", 1, 8),
        ("SELECT person_id, COUNT(*) FROM visits", "selecting the privacy unit person_id is refused", 1, 8),
        ("SELECT COUNT(*) FROM visits GROUP BY person_id", "grouping by the privacy unit person_id is refused", 1, 38),
        ("SELECT SUM(age) FROM visits", "SUM(age) needs clamping bounds: privacy.yaml, table visits, column age", 1, 12),
        ("SELECT AVG(region) FROM visits", "region is a text column", 1, 12),
        ("SELECT MAX(income) FROM visits", "MAX is refused", 1, 8),
        ("SELECT COUNT(DISTINCT region) FROM visits", "COUNT(DISTINCT region) is refused", 1, 8),
        ("SELECT SUM(income * 2) FROM visits", "SUM accepts a column only", 1, 12),
        ("SELECT SUM(person_id) FROM visits", "SUM(person_id) is refused: person_id is the privacy unit", 1, 12),
        ("SELECT region, COUNT(*) FROM visits GROUP BY region", "needs δ > 0 for partition selection", 1, 46),
        ("SELECT DISTINCT year FROM visits", "SELECT DISTINCT is refused", 1, 17),
        ("SELECT COUNT(*) FROM visits WHERE SUM(income) > 3", "aggregates are not allowed in WHERE", 1, 35),
        ("SELECT COUNT(*) FROM visits WHERE lower(region) = 'x'", "function LOWER is not supported in WHERE", 1, 35),
        ("SELECT 1 FROM visits", "the query selects no aggregate", 1, 8),
        ("SELECT year, COUNT(*) FROM visits GROUP BY year HAVING income > 3", "column income is used in HAVING", 1, 56),
        ("SELECT SUM(SUM(income)) FROM visits", "aggregates cannot be nested", 1, 12),
    ])
    func refusals(query: String, message: String, line: Int, column: Int) {
        do {
            _ = try plan(query, delta: 0)
            Issue.record("expected a refusal for \(query)")
        } catch let error as QueryError {
            #expect(error.code == .queryRefused)
            #expect(error.reason.contains(message), "\(error.reason)")
            #expect(error.location?.line == line && error.location?.column == column,
                    "\(String(describing: error.location))")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("in WHERE a number stands for a truth value as a comparison with 0 (as SQLite reads it); a text column is refused")
    func truthValues() throws {
        let p = try plan("SELECT COUNT(*) FROM visits WHERE female AND NOT doctor_visits", delta: 0)
        #expect(p.sql.contains("((\"female\" <> ?) AND (NOT (\"doctor_visits\" <> ?)))"), "\(p.sql)")
        #expect(p.parameters.prefix(2) == [.integer(0), .integer(0)])
        #expect {
            _ = try plan("SELECT COUNT(*) FROM visits WHERE female OR region", delta: 0)
        } throws: { error in
            (error as? QueryError)?.code == .queryRefused
                && (error as? QueryError)?.reason.contains("the text column region is not a condition") == true
        }
    }

    @Test("unknown names are errors that list what exists", arguments: [
        ("SELECT COUNT(*) FROM people", "unknown table 'people' (tables in privacy.yaml: visits)"),
        ("SELECT AVG(salary) FROM visits", "unknown column 'salary' in table visits (declared in privacy.yaml: person_id, year"),
        ("SELECT COUNT(*) FROM visits v WHERE w.year = 1", "unknown table or alias 'w'"),
        ("SELECT PERCENTILE(income, 90) FROM visits", "the percentile p must be in [0, 1]"),
        ("SELECT COUNT(*) FROM visits ORDER BY 2", "ORDER BY position 2 is out of range"),
    ])
    func unknownNames(query: String, message: String) {
        do {
            _ = try plan(query)
            Issue.record("expected an error for \(query)")
        } catch let error as QueryError {
            #expect(error.code == .invalidQuery)
            #expect(error.reason.contains(message), "\(error.reason)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("WHERE literals are bound as parameters, identifiers are quoted")
    func parameters() throws {
        let p = try plan("SELECT COUNT(*) FROM visits WHERE region = 'x''); DROP TABLE visits; --' AND income > 2.5")
        #expect(!p.sql.contains("DROP TABLE"))
        #expect(p.sql.contains("\"region\" = ?"))
        #expect(p.parameters.prefix(2) == [.text("x'); DROP TABLE visits; --"), .real(2.5)])
    }

    @Test("COUNT(1) is COUNT(*); aggregates only in HAVING or ORDER BY are quantities too; ORDER BY names aliases")
    func sharedAndHidden() throws {
        let p = try plan("SELECT year, COUNT(1) AS n FROM visits GROUP BY year HAVING SUM(doctor_visits) > 3 ORDER BY n",
                         delta: 0)
        #expect(p.quantities.map(\.kind.columnName) == [nil, "doctor_visits"])
        guard case .sum = p.quantities[1].kind else {
            Issue.record("expected the sum of doctor_visits")
            return
        }
        #expect(p.aggregates.map(\.text) == ["COUNT(1)", "SUM(doctor_visits)"])
        #expect(p.ordering.count == 1 && p.ordering[0].expression == .aggregate(0))
        for q in p.quantities { #expect(q.epsilon == 0.5) }
    }

    @Test("post-processing: arithmetic, HAVING, ORDER BY, LIMIT on noisy values")
    func postProcessing() throws {
        let p = try plan("""
            SELECT year, COUNT(*) AS n, SUM(doctor_visits) / COUNT(*) AS rate FROM visits
            GROUP BY year HAVING n >= 10 ORDER BY rate DESC LIMIT 2
            """, delta: 0)
        // quantities: rowCount, sum(doctor_visits)
        let groups = [
            NoisyGroup(key: [.integer(1984)], values: [[100], [300]]),
            NoisyGroup(key: [.integer(1985)], values: [[5], [100]]),     // dropped by HAVING
            NoisyGroup(key: [.integer(1986)], values: [[50], [200]]),
            NoisyGroup(key: [.integer(1987)], values: [[20], [20]]),
        ]
        let result = try p.finish(groups)
        #expect(result.columns == ["year", "n", "rate"])
        #expect(result.rows == [[.integer(1986), .integer(50), .real(4)], [.integer(1984), .integer(100), .real(3)]])
    }

    @Test("post-processing: thresholding drops groups below the threshold; estimators clamp to the bounds")
    func thresholdAndEstimators() throws {
        let p = try plan("SELECT region, AVG(income) AS a, COUNT(DISTINCT person_id) AS u FROM visits GROUP BY region")
        guard case .thresholding(let unitIndex, let threshold, _) = p.selection else {
            Issue.record("thresholding expected")
            return
        }
        #expect(p.quantities.count == 3)
        let g = p.quantities[1].granularity
        func group(_ key: String, units: Int64, count: Int64, centredSum: Double) -> NoisyGroup {
            var values: [[Int64]] = [[count], [Int64((centredSum / g).rounded())], [0]]
            values[unitIndex] = [units]
            return NoisyGroup(key: [.text(key)], values: values)
        }
        let result = try p.finish([
            group("north", units: threshold, count: 10, centredSum: 20),       // mean 7.5 + 2 = 9.5
            group("south", units: threshold - 1, count: 10, centredSum: 0),    // below threshold
            group("west", units: threshold + 5, count: 10, centredSum: 1000),  // clamped to 15
        ])
        #expect(result.rows.map { $0[0] } == [.text("north"), .text("west")])
        #expect(result.rows[0][1] == .real(9.5))
        #expect(result.rows[1][1] == .real(15))
    }
}
