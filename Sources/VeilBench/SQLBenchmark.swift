import BudgetLedger
import Foundation
import GRDB
import Mechanisms
import PrivateSQL

/// Private SQL against plain SQL on synthetic panels of `rows` rows (``SyntheticPanel``, 5 rows per person), stored
/// person by person and in random row order: for each demo query, the wall time through ``PrivateQueryEngine``
/// (plan, ledger reservation, bounded SQL, noise, commit) and of the same aggregation as plain SQL on SQLite, their
/// ratio, and the median relative error of the released COUNT/SUM/AVG per group at ε = 1 against the plain answers.
/// With the `veil` executable beside this one, the counts, sums and means are also timed through whole processes,
/// `veil query` against the `sqlite3` shell, with each child's peak memory (``ChildProcessMeasurement``).
///
/// Tables are generated into `.build/bench-data/` when absent and reused afterwards.
enum SQLBenchmark {
    struct DemoQuery {
        let name: String
        let veil: String
        let plain: String
        let delta: Double
        /// The grouping by (privacy unit, key) that any contribution bounding of the query needs, alone: no
        /// clamping, rounding, sampling or per-group totals (nil: not measured).
        var unitGrouping: String? = nil
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

    static func run(sizes: [Int], repeats: Int, orders: [SyntheticPanel.RowOrder] = [.unit, .random])
        throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "sql")
        let metadataYAML = SyntheticPanel.metadataYAML(scope: "bench")
        let metadata = try PrivacyMetadata.parse(yaml: metadataYAML, source: "synthetic")
        for rows in sizes {
            for order in orders {
                let path = try panel(rows: rows, order: order, report: &report)
                let ledgerPath = "\(dataFolder)/ledger-\(UUID().uuidString).sqlite"
                let metadataPath = "\(dataFolder)/metadata-\(UUID().uuidString).yaml"
                defer {
                    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
                    try? FileManager.default.removeItem(atPath: metadataPath)
                }
                try metadataYAML.write(toFile: metadataPath, atomically: true, encoding: .utf8)
                let ledger = try Ledger(path: ledgerPath, mode: .createIfMissing, durability: .normal)
                try ledger.createBudget(scope: "bench", epsilon: 1e6, delta: 0.5, composition: .basic)
                let engine = PrivateQueryEngine(metadata: metadata, databasePath: path, ledger: ledger)
                let plainQueue = try DatabaseQueue(path: path, configuration: readOnly())
                let table = "\(label(rows))_\(order.rawValue)_order"
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
                    let name = "\(query.name)_\(table)"
                    report.add("\(name)_veil", veilSeconds, unit: "s")
                    report.add("\(name)_plain", plainSeconds, unit: "s")
                    report.add("\(name)_ratio", veilSeconds / plainSeconds, unit: "x")
                    if let release, query.name != "median_income" {
                        errors += relativeErrors(release.result, plainRows).errors
                    }
                }
                errors.sort()
                if !errors.isEmpty {
                    report.add("median_relative_error_count_sum_avg_eps1_\(table)", errors[errors.count / 2],
                               unit: "fraction")
                }
                try runProcesses(database: path, metadata: metadataPath, ledger: ledgerPath, table: table,
                                 repeats: repeats, report: &report)
            }
        }
        return report
    }

    /// `veil query` and `sqlite3` as whole processes, for every query but the median: the best time of each, their
    /// ratio, and each one's peak memory (the largest over the repeats). Skipped, with a note on standard error,
    /// when `veil` is not beside this executable or `sqlite3` is not on the PATH.
    static func runProcesses(database: String, metadata: String, ledger: String, table: String, repeats: Int,
                             report: inout BenchmarkReport) throws {
        let veil = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent()
            .appendingPathComponent("veil").path
        let shell = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard FileManager.default.isExecutableFile(atPath: veil), let shell else {
            FileHandle.standardError.write(Data("no \(veil) or sqlite3: whole-process figures skipped\n".utf8))
            return
        }
        for query in queries where query.name != "median_income" {
            var veilRuns: [ChildProcessMeasurement] = [], plainRuns: [ChildProcessMeasurement] = []
            for _ in 0..<repeats {
                veilRuns.append(try ChildProcessMeasurement.run(veil, [
                    "query", "--db", database, "--metadata", metadata, "--ledger", ledger, "--epsilon", "1",
                    "--delta", "\(query.delta)", "--analyst", "bench", "--format", "csv", query.veil]))
                plainRuns.append(try ChildProcessMeasurement.run(shell, ["-readonly", database, query.plain]))
            }
            let name = "\(query.name)_\(table)_process"
            let veilSeconds = veilRuns.map(\.seconds).min()!, plainSeconds = plainRuns.map(\.seconds).min()!
            report.add("\(name)_veil", veilSeconds, unit: "s")
            report.add("\(name)_plain", plainSeconds, unit: "s")
            report.add("\(name)_ratio", veilSeconds / plainSeconds, unit: "x")
            report.add("\(name)_veil_peak_anon", veilRuns.map(\.peakAnonymousMiB).max()!, unit: "MiB")
            report.add("\(name)_veil_peak_rss", veilRuns.map(\.peakResidentMiB).max()!, unit: "MiB")
            report.add("\(name)_plain_peak_anon", plainRuns.map(\.peakAnonymousMiB).max()!, unit: "MiB")
            report.add("\(name)_plain_peak_rss", plainRuns.map(\.peakResidentMiB).max()!, unit: "MiB")
        }
    }

    /// Where generated tables are kept between runs.
    static let dataFolder = ".build/bench-data"

    /// The path of the synthetic panel of `rows` rows in `order` in ``dataFolder``, generated (and its time reported)
    /// when absent. Both orders hold the same rows.
    static func panel(rows: Int, order: SyntheticPanel.RowOrder = .unit, report: inout BenchmarkReport) throws -> String {
        try FileManager.default.createDirectory(atPath: dataFolder, withIntermediateDirectories: true)
        let path = "\(dataFolder)/panel-\(rows)\(order == .unit ? "" : "-\(order.rawValue)").sqlite"
        if !FileManager.default.fileExists(atPath: path) {
            FileHandle.standardError.write(Data("generating \(rows) rows (\(order.rawValue) order) into \(path)\n".utf8))
            let start = DispatchTime.now().uptimeNanoseconds
            try? FileManager.default.removeItem(atPath: path + ".tmp")
            try SyntheticPanel.generate(path: path + ".tmp", rows: rows, order: order)
            try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
            report.add("generate_\(label(rows))_\(order.rawValue)_order_time",
                       Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, unit: "s")
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
