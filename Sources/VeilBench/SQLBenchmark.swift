import BudgetLedger
import Foundation
import GRDB
import Mechanisms
import PrivateSQL

/// Private SQL against plain SQL on synthetic panels of `rows` rows (``SyntheticPanel``, 5 rows per person):
/// for each demo query, the wall time through ``PrivateQueryEngine`` (plan, ledger reservation, bounded SQL,
/// noise, commit) and of the same aggregation as plain SQL on SQLite, their ratio, and the median relative
/// error of the released COUNT/SUM/AVG per group at ε = 1 against the plain answers.
///
/// Tables are generated into `.build/bench-data/` when absent and reused afterwards.
enum SQLBenchmark {
    struct DemoQuery {
        let name: String
        let veil: String
        let plain: String
        let delta: Double
    }

    static let queries: [DemoQuery] = [
        DemoQuery(name: "count_sum_by_year",
                  veil: "SELECT year, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM visits GROUP BY year",
                  plain: "SELECT year, COUNT(*), SUM(MAX(0, MIN(30, doctor_visits))) FROM visits GROUP BY year",
                  delta: 0),
        DemoQuery(name: "mean_visits_by_sex",
                  veil: "SELECT female, AVG(doctor_visits) AS visits FROM visits GROUP BY female",
                  plain: "SELECT female, AVG(MAX(0, MIN(30, doctor_visits))) FROM visits GROUP BY female",
                  delta: 0),
        DemoQuery(name: "count_sum_by_region_private_keys",
                  veil: "SELECT region, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM visits GROUP BY region",
                  plain: "SELECT region, COUNT(*), SUM(MAX(0, MIN(30, doctor_visits))) FROM visits GROUP BY region",
                  delta: 1e-6),
        DemoQuery(name: "median_income",
                  veil: "SELECT MEDIAN(income) AS income FROM visits",
                  plain: "SELECT income FROM visits ORDER BY income LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM visits)",
                  delta: 0),
    ]

    static func run(sizes: [Int], repeats: Int) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "sql")
        let metadata = try PrivacyMetadata.parse(yaml: SyntheticPanel.metadataYAML(scope: "bench"), source: "synthetic")
        for rows in sizes {
            let path = try panel(rows: rows, report: &report)
            let ledgerPath = "\(dataFolder)/ledger-\(UUID().uuidString).sqlite"
            defer {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
            }
            let ledger = try Ledger(path: ledgerPath, mode: .createIfMissing, durability: .normal)
            try ledger.createBudget(scope: "bench", epsilon: 1e6, delta: 0.5, composition: .basic)
            let engine = PrivateQueryEngine(metadata: metadata, databasePath: path, ledger: ledger)
            let plainQueue = try DatabaseQueue(path: path, configuration: readOnly())
            var errors: [Double] = []
            for query in queries {
                let plan = try engine.plan(query.veil, budget: try PrivacyParameters(epsilon: 1, delta: query.delta))
                var release: PrivateQueryRelease?
                let veilSeconds = try bestTime(repeats: repeats) {
                    release = try engine.execute(plan, analyst: "bench")
                }
                var plainRows: [Row] = []
                let plainSeconds = try bestTime(repeats: repeats) {
                    plainRows = try plainQueue.read { try Row.fetchAll($0, sql: query.plain) }
                }
                let name = "\(query.name)_\(label(rows))"
                report.add("\(name)_veil", veilSeconds, unit: "s")
                report.add("\(name)_plain", plainSeconds, unit: "s")
                report.add("\(name)_ratio", veilSeconds / plainSeconds, unit: "x")
                if let release, query.name != "median_income" {
                    errors += relativeErrors(release.result, plainRows).errors
                }
            }
            errors.sort()
            if !errors.isEmpty {
                report.add("median_relative_error_count_sum_avg_eps1_\(label(rows))", errors[errors.count / 2],
                           unit: "fraction")
            }
        }
        return report
    }

    /// Where generated tables are kept between runs.
    static let dataFolder = ".build/bench-data"

    /// The path of the synthetic panel of `rows` rows in ``dataFolder``, generated (and its time reported) when absent.
    static func panel(rows: Int, report: inout BenchmarkReport) throws -> String {
        try FileManager.default.createDirectory(atPath: dataFolder, withIntermediateDirectories: true)
        let path = "\(dataFolder)/panel-\(rows).sqlite"
        if !FileManager.default.fileExists(atPath: path) {
            FileHandle.standardError.write(Data("generating \(rows) rows into \(path)\n".utf8))
            let start = DispatchTime.now().uptimeNanoseconds
            try SyntheticPanel.generate(path: path + ".tmp", rows: rows)
            try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
            report.add("generate_\(label(rows))_time", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, unit: "s")
        }
        return path
    }

    /// |released − plain| / |plain| for every numeric cell of groups present in both answers, and the number of
    /// plain groups missing from the release. With `keyed`, the first column is the group key; without, both
    /// answers are one row.
    static func relativeErrors(_ result: QueryResult, _ plain: [Row], keyed: Bool = true)
        -> (errors: [Double], missingGroups: Int) {
        var truth: [String: [Double]] = [:]
        for row in plain {
            let key = keyed ? (row[0] as DatabaseValue).description : ""
            truth[key] = ((keyed ? 1 : 0)..<row.count).compactMap { Double.fromDatabaseValue(row[$0]) }
        }
        var errors: [Double] = []
        var seen = Set<String>()
        for row in result.rows {
            let key: String
            switch keyed ? row[0] : .null {
            case .text(let s): key = "\"\(s)\""
            case .null: key = keyed ? "NULL" : ""
            case let value: key = value.description
            }
            guard let values = truth[key] else { continue }
            seen.insert(key)
            for (released, exact) in zip(row.dropFirst(keyed ? 1 : 0), values) where exact != 0 {
                if let number = released.number { errors.append(abs(number - exact) / abs(exact)) }
            }
        }
        return (errors, truth.count - seen.count)
    }

    static func readOnly() -> Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        return configuration
    }

    static func label(_ rows: Int) -> String {
        rows % 1_000_000 == 0 ? "\(rows / 1_000_000)M" : rows % 1000 == 0 ? "\(rows / 1000)k" : "\(rows)"
    }
}
