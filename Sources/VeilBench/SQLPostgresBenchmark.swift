import BudgetLedger
import Foundation
import Mechanisms
import PostgresClient
import PrivateSQL

/// Private SQL on PostgreSQL against the plain aggregate on the same server: for counts and sums by public keys
/// (year) and by private keys (region, partition selection), the wall time through ``PrivateQueryEngine``
/// (plan, ledger reservation, schema check, bounded SQL in the server, noise, commit) and of the plain clamped
/// aggregate, and their ratio, with `max_parallel_workers_per_gather` at 0 and at 2 (PostgreSQL's default).
///
/// The synthetic table (5 rows per person, 20 regions) is generated inside the server with `generate_series`, in a
/// fresh database per size.
enum SQLPostgresBenchmark {
    static let queries: [SQLBenchmark.DemoQuery] = [
        .init(name: "count_sum_by_year",
              veil: "SELECT year, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM visits GROUP BY year",
              plain: "SELECT year, COUNT(*), SUM(GREATEST(0, LEAST(30, doctor_visits))) FROM visits GROUP BY year",
              delta: 0),
        .init(name: "count_sum_by_region_private_keys",
              veil: "SELECT region, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM visits GROUP BY region",
              plain: "SELECT region, COUNT(*), SUM(GREATEST(0, LEAST(30, doctor_visits))) FROM visits GROUP BY region",
              delta: 1e-6),
    ]

    static func run(sizes: [Int], repeats: Int, server: String?) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "sql_postgres")
        let (url, stop) = try serverURL(server)
        defer { stop() }
        let metadata = try PrivacyMetadata.parse(yaml: SyntheticPanel.metadataYAML(scope: "bench"), source: "synthetic")
        let admin = try PostgresSession(url: url)
        defer { admin.close() }
        for rows in sizes {
            let database = "veil_bench_\(SQLBenchmark.label(rows).lowercased())_\(UUID().uuidString.prefix(6).lowercased())"
            try admin.execute("CREATE DATABASE \(PostgresIdentifier.quote(database))")
            defer { try? admin.execute("DROP DATABASE \(PostgresIdentifier.quote(database))") }
            let target = url.withDatabase(database)
            let session = try PostgresSession(url: target)
            defer { session.close() }
            let start = DispatchTime.now().uptimeNanoseconds
            try session.execute("""
                CREATE TABLE visits AS
                SELECT g / 5 AS person_id, (1984 + g % 5)::int4 AS year,
                       'r' || lpad(((hashint8(g / 5) & 2147483647) % 20)::text, 2, '0') AS region,
                       ((hashint8(g) & 2147483647) % 31)::int8 AS doctor_visits,
                       ((hashint8(g + 7) & 2147483647) % 1600) / 100.0::float8 AS income,
                       ((g / 5) % 2)::int2 AS female
                FROM generate_series(0, \(rows - 1)) AS g
                """)
            try session.execute("VACUUM ANALYZE visits")
            report.add("generate_\(SQLBenchmark.label(rows))_time", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                       unit: "s")
            let ledgerPath = "\(SQLBenchmark.dataFolder)/ledger-\(UUID().uuidString).sqlite"
            try FileManager.default.createDirectory(atPath: SQLBenchmark.dataFolder, withIntermediateDirectories: true)
            defer {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
            }
            let ledger = try Ledger(path: ledgerPath, mode: .createIfMissing, durability: .normal)
            try ledger.createBudget(scope: "bench", epsilon: 1e6, delta: 0.5, composition: .basic)
            // The engine takes the password, if any, from $PGPASSWORD.
            let engine = PrivateQueryEngine(metadata: metadata, databasePath: target.redacted, ledger: ledger)
            for workers in [0, 2] {
                try admin.execute("ALTER DATABASE \(PostgresIdentifier.quote(database)) SET max_parallel_workers_per_gather = \(workers)")
                let plain = try PostgresSession(url: target)
                defer { plain.close() }
                for query in queries {
                    let plan = try engine.plan(query.veil, budget: try PrivacyParameters(epsilon: 1, delta: query.delta),
                                               sampling: .keyedHash(.fromSecureSource()))
                    let veilSeconds = try bestTime(repeats: repeats) { _ = try engine.execute(plan, analyst: "bench") }
                    let plainSeconds = try bestTime(repeats: repeats) { _ = try plain.query(query.plain) }
                    let name = "\(query.name)_\(SQLBenchmark.label(rows))_workers\(workers)"
                    report.add("\(name)_veil", veilSeconds, unit: "s")
                    report.add("\(name)_plain", plainSeconds, unit: "s")
                    report.add("\(name)_ratio", veilSeconds / plainSeconds, unit: "x")
                }
            }
        }
        return report
    }

    /// `server`, or a throw-away server started with scripts/pg-server.sh (run from the repository root), and how
    /// to stop it.
    static func serverURL(_ server: String?) throws -> (PostgresURL, () -> Void) {
        if let server { return (try PostgresURL(server), {}) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-pg-\(UUID().uuidString)").path
        func script(_ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["scripts/pg-server.sh"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        guard try script(["start", folder]) == 0,
              let url = try? String(contentsOfFile: folder + "/url", encoding: .utf8) else {
            throw VeilError(.databaseUnavailable, "scripts/pg-server.sh could not start PostgreSQL (run from the repository root)")
        }
        return (try PostgresURL(url.trimmingCharacters(in: .whitespacesAndNewlines)), { _ = try? script(["stop", folder]) })
    }
}
