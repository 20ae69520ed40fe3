import BudgetLedger
import Foundation
import GRDB
import Mechanisms
import PrivateSQL

/// The accuracy of private SQL against SmartNoise SQL on the same synthetic panel (``SyntheticPanel``: one row per
/// person and year, five years): for each query, the median over runs and groups of |released − exact| / |exact|,
/// the exact answer coming from plain SQL on the same file.
///
/// Veil's metadata is the tightest that keeps every row: `max_rows_per_unit: 5` (SmartNoise's `max_ids: 5`), so
/// no row is dropped and neither system is biased by its bounds. Each query is charged what SmartNoise's odometer
/// charges for it (`scripts/reference_sql_accuracy.py` prints those costs): an AVG is a SUM and a COUNT at ε each
/// there, so Veil answers it at ε = 2; private keys cost ε for the threshold as well, so Veil answers them at ε = 2
/// and δ = 1.5·10⁻⁵. `scripts/bench_sql_accuracy.sh` runs both on one file and prints them side by side.
enum SQLAccuracyBenchmark {
    struct AccuracyQuery {
        let name: String
        let veil: String
        let exact: String
        let epsilon: Double
        let delta: Double
    }

    static let queries: [AccuracyQuery] = [
        AccuracyQuery(name: "count_by_year", veil: "SELECT year, COUNT(*) AS n FROM visits GROUP BY year",
                      exact: "SELECT year, COUNT(*) FROM visits GROUP BY year", epsilon: 1, delta: 0),
        AccuracyQuery(name: "sum_income_by_year", veil: "SELECT year, SUM(income) AS income FROM visits GROUP BY year",
                      exact: "SELECT year, SUM(MAX(0, MIN(15, income))) FROM visits GROUP BY year", epsilon: 1, delta: 0),
        AccuracyQuery(name: "avg_visits_by_sex",
                      veil: "SELECT female, AVG(doctor_visits) AS visits FROM visits GROUP BY female",
                      exact: "SELECT female, AVG(MAX(0, MIN(30, doctor_visits))) FROM visits GROUP BY female",
                      epsilon: 2, delta: 0),
        AccuracyQuery(name: "filtered_count", veil: "SELECT COUNT(*) AS n FROM visits WHERE doctor_visits > 4",
                      exact: "SELECT COUNT(*) FROM visits WHERE doctor_visits > 4", epsilon: 1, delta: 0),
        AccuracyQuery(name: "count_by_region_private_keys",
                      veil: "SELECT region, COUNT(*) AS n FROM visits GROUP BY region",
                      exact: "SELECT region, COUNT(*) FROM visits GROUP BY region", epsilon: 2, delta: 1.5e-5),
        AccuracyQuery(name: "sum_visits_by_region_private_keys",
                      veil: "SELECT region, SUM(doctor_visits) AS visits FROM visits GROUP BY region",
                      exact: "SELECT region, SUM(MAX(0, MIN(30, doctor_visits))) FROM visits GROUP BY region",
                      epsilon: 2, delta: 1.5e-5),
    ]

    /// Runs every query `runs` times on the panel of `rows` rows (generated when absent) and reports the errors.
    static func run(rows: Int, runs: Int) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "sql-accuracy")
        let path = try SQLBenchmark.panel(rows: rows, report: &report)
        report.add("runs", Double(runs), unit: "runs")
        let metadata = try PrivacyMetadata.parse(
            yaml: SyntheticPanel.metadataYAML(scope: "accuracy", bounds: ["max_rows_per_unit": 5]), source: "synthetic")
        let ledgerPath = ".build/bench-data/ledger-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) } }
        let ledger = try Ledger(path: ledgerPath, mode: .createIfMissing, durability: .normal)
        try ledger.createBudget(scope: "accuracy", epsilon: 1e6, delta: 0.5, composition: .basic)
        let engine = PrivateQueryEngine(metadata: metadata, databasePath: path, ledger: ledger)
        let exactQueue = try DatabaseQueue(path: path, configuration: SQLBenchmark.readOnly())
        for query in queries {
            let exactRows = try exactQueue.read { try Row.fetchAll($0, sql: query.exact) }
            let plan = try engine.plan(query.veil, budget: try PrivacyParameters(epsilon: query.epsilon, delta: query.delta))
            var errors: [Double] = []
            var missing = 0
            for _ in 0..<runs {
                let release = try engine.execute(plan, analyst: "bench")
                let run = SQLBenchmark.relativeErrors(release.result, exactRows, keyed: query.veil.contains("GROUP BY"))
                errors += run.errors
                missing += run.missingGroups
            }
            errors.sort()
            report.add("\(query.name)_median_relative_error", errors.isEmpty ? .nan : errors[errors.count / 2],
                       unit: "fraction")
            report.add("\(query.name)_groups_missing", Double(missing) / Double(runs), unit: "groups per run")
            report.add("\(query.name)_epsilon_charged", query.epsilon, unit: "epsilon")
            report.add("\(query.name)_delta_charged", query.delta, unit: "delta")
        }
        return report
    }
}
