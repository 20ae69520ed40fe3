import _TestSupport
import Accounting
import Foundation
import Mechanisms
import Testing
@testable import PrivateSQL

/// The parts planning is built from: aggregate names, clamped columns, the row filter and its SQL, the zCDP ρ
/// search, the partition-selection thresholds, and a keys file read by the planner itself.
@Suite("Planner parts: aggregates, clamped columns, WHERE rendering, ρ search, thresholds, keys files")
struct PlanningPartsTests {
    let metadata = try! healthMetadata()

    @Test("every aggregate spelling maps to one kind; MIN and MAX are known but refused")
    func aggregateKinds() {
        let kinds: [String: AggregateKind] = [
            "COUNT": .count, "SUM": .sum, "AVG": .average, "MEAN": .average, "VARIANCE": .variance,
            "VAR": .variance, "VAR_POP": .variance, "STDDEV": .standardDeviation, "STDDEV_POP": .standardDeviation,
            "STDEV": .standardDeviation, "MEDIAN": .median, "PERCENTILE": .percentile,
            "PERCENTILE_CONT": .percentile, "MIN": .minimum, "MAX": .maximum,
        ]
        for (name, kind) in kinds { #expect(AggregateKind(name: name) == kind, "\(name)") }
        #expect(AggregateKind(name: "ABS") == nil)
        #expect(AggregateKind(name: "count") == nil)   // the parser upper-cases names
        #expect(kinds.values.filter { !$0.isSupported }.count == 2)
    }

    @Test("quantities carry their column's bounds: SUM over a real column is on a finer grid than 1")
    func clampedColumns() throws {
        let plan = try QueryPlanner(metadata: metadata).plan("SELECT SUM(income), SUM(doctor_visits) FROM visits",
                                                             budget: try PrivacyParameters(epsilon: 1))
        guard case .sum(let income) = plan.quantities[0].kind, case .sum(let visits) = plan.quantities[1].kind else {
            Issue.record("expected two sums")
            return
        }
        #expect(income.name == "income" && income.bounds == 0...15 && !income.integerValued)
        #expect(visits.name == "doctor_visits" && visits.bounds == 0...30 && visits.integerValued)
        #expect(plan.quantities[0].granularity < 1)
        #expect(plan.quantities[1].granularity == 1)
        #expect(ClampedColumn(ColumnMetadata(name: "x", type: .integer)) == nil)   // no bounds, nothing to clamp
        #expect(ClampedColumn(ColumnMetadata(name: "x", type: .integer, lower: 0, upper: 2.5))?.integerValued == false)
        // A quantity's kind prints its column by name, as before columns carried their bounds.
        #expect("\(plan.quantities[1].kind)" == #"sum(column: "doctor_visits")"#)
    }

    @Test("WHERE: the planner's row filter, written by the rewriter, with literals bound in order")
    func whereRendering() throws {
        let query = "SELECT COUNT(*) FROM visits WHERE NOT (doctor_visits BETWEEN 1 AND 2.5) AND region IN "
            + "('a', 'b') AND region NOT LIKE 'x%' AND income IS NOT NULL AND -doctor_visits < +3 OR "
            + "female = TRUE OR income = NULL"
        let plan = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1))
        // The SQL and parameters Veil wrote for this query before WHERE rendering moved into the rewriter.
        let expected = #"WHERE (((((((NOT ("doctor_visits" BETWEEN ? AND ?)) AND ("region" IN (?, ?))) "#
            + #"AND ("region" NOT LIKE ?)) AND ("income" IS NOT NULL)) AND ((-"doctor_visits") < ?)) "#
            + #"OR ("female" = ?)) OR ("income" = NULL))"#
        #expect(plan.sql.contains(expected))
        let parameters: [SQLValue] = [.integer(1), .real(2.5), .text("a"), .text("b"), .text("x%"), .integer(3),
                                      .integer(1)]
        #expect(plan.parameters == parameters)
        var bound: [SQLValue] = []
        let filter = RowFilter.between(.column("a\"b"), .value(.integer(1)), .null, negated: true)
        #expect(plan.rewriter.sql(filter, parameters: &bound) == #"("a""b" NOT BETWEEN ? AND NULL)"#)
        #expect(bound == [.integer(1)])
    }

    @Test("ZCDP.largestRho: the largest ρ whose conversion stays within ε, as Gaussian plans use")
    func rhoSearch() throws {
        for (epsilon, delta) in [(0.1, 1e-6), (1.0, 1e-5), (3.0, 5e-7), (10.0, 1e-9)] {
            let rho = ZCDP.largestRho(epsilon: epsilon, delta: delta)
            #expect(try ZCDP.epsilon(rho: rho, delta: delta) <= epsilon)
            #expect(try ZCDP.epsilon(rho: rho * (1 + 1e-12), delta: delta) > epsilon)
            // Never below the classic inversion of ρ + 2√(ρ log(1/δ)) = ε.
            let l = log(1 / delta)
            #expect(rho >= pow((epsilon + l).squareRoot() - l.squareRoot(), 2) * (1 - 1e-12))
        }
        let plan = try QueryPlanner(metadata: metadata).plan("SELECT COUNT(*) FROM visits",
                                                             budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                             noise: .gaussian)
        #expect(plan.rho == ZCDP.largestRho(epsilon: 1, delta: 1e-6))
    }

    @Test("partition-selection thresholds: known answers for discrete Laplace and Gaussian noise")
    func thresholds() throws {
        // 1 + ⌈2 · ln(1 / (δ/k · (1 + e^(−1/2))))⌉ = 1 + ⌈28.88⌉ at δ = 1e-6, k = 3.
        #expect(try PartitionSelectionThreshold.discreteLaplace(scale: 2, delta: 1e-6, k: 3) == 30)
        // σ = 3: P(Y ≥ 16) ≈ 1.05e-7 ≤ δ/k = 3.3e-7 < P(Y ≥ 15) ≈ 6.0e-7.
        #expect(try PartitionSelectionThreshold.discreteGaussian(sigma: 3, delta: 1e-6, k: 3) == 17)
        #expect(throws: VeilError.self) {
            try PartitionSelectionThreshold.discreteLaplace(scale: 2, delta: 1e-320, k: 1000)
        }
    }

    @Test("a keys file is read by the planner against the table the query names; a bad one is invalid input")
    func keysFileInPlanner() throws {
        let temporary = try TemporaryFolder("planner")
        let folder = temporary.url
        let keys = folder.appendingPathComponent("regions.csv")
        try "REGION\nwest\nnorth\n".write(to: keys, atomically: true, encoding: .utf8)
        let planner = QueryPlanner(metadata: try healthMetadata())
        let budget = try PrivacyParameters(epsilon: 1)
        let plan = try planner.plan("SELECT region, COUNT(*) FROM visits GROUP BY region", budget: budget, keysFile: keys)
        #expect(plan.keys.map(\.publicValues) == [[.text("west"), .text("north")]])
        #expect(plan.selection == .publicKeys(count: 2))

        let wrong = folder.appendingPathComponent("colours.csv")
        try "colour\nred\n".write(to: wrong, atomically: true, encoding: .utf8)
        do {
            _ = try planner.plan("SELECT region, COUNT(*) FROM visits GROUP BY region", budget: budget, keysFile: wrong)
            Issue.record("a keys file naming no column of the table must be refused")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.location == nil)
            #expect(error.veilError.message.hasPrefix("colours.csv: 'colour' is not a column of table visits"))
        }
    }
}
