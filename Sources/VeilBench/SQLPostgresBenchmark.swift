import BudgetLedger
import Foundation
import Mechanisms
import PostgresClient
import PrivateSQL

/// Private SQL on PostgreSQL against the plain aggregate on the same server: for counts and sums by public keys
/// (year) and by private keys (region, partition selection), the wall time through ``PrivateQueryEngine``
/// (plan, ledger reservation, schema check, bounded SQL in the server, noise, commit) and of the plain clamped
/// aggregate, and their ratio, with `max_parallel_workers_per_gather` at 0 and at 2 (PostgreSQL's default, as
/// shipped). With a cluster, the same queries on the same rows through the coordinator of the two-shard cluster of
/// scripts/pg-cluster.sh, beside the single server.
///
/// The synthetic table (5 rows per person, 20 regions, one region per person) is generated inside the server with
/// `generate_series` (faster than any COPY from the client) into the database `veil_bench_<rows>`, and kept there:
/// a later run on the same server, and scripts/reference_sql_postgres.py (SmartNoise SQL on the same server), reuse
/// it. The rows are a fixed function of their number (``generateSQL``), so every copy holds the same data.
enum SQLPostgresBenchmark {
    static let queries: [SQLBenchmark.DemoQuery] = [
        .init(name: "count_sum_by_year",
              veil: "SELECT year, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM visits GROUP BY year",
              plain: "SELECT year, COUNT(*), SUM(GREATEST(0, LEAST(30, doctor_visits))) FROM visits GROUP BY year",
              delta: 0,
              unitGrouping: "SELECT year, COUNT(*) FROM (SELECT person_id, year FROM visits GROUP BY person_id, year) "
                  + "AS units GROUP BY year"),
        .init(name: "count_sum_by_region_private_keys",
              veil: "SELECT region, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM visits GROUP BY region",
              plain: "SELECT region, COUNT(*), SUM(GREATEST(0, LEAST(30, doctor_visits))) FROM visits GROUP BY region",
              delta: 1e-6,
              unitGrouping: "SELECT region, COUNT(*) FROM (SELECT person_id, region FROM visits GROUP BY person_id, region) "
                  + "AS units GROUP BY region"),
    ]

    /// The columns of `visits`, as pg-cluster.sh's `table` command takes them.
    static let columns = "person_id int4, year int4, region text, doctor_visits int8, income float8, female int2"

    /// The rows `first..<end` of the synthetic table (row g belongs to person g / 5), for `INSERT INTO visits`;
    /// `filter`, if any, is a condition on the person (`$person`) that keeps a subset.
    static func generateSQL(rows: Int, filter: String? = nil) -> String {
        """
        SELECT g / 5 AS person_id, (1984 + g % 5)::int4 AS year,
               'r' || lpad(((hashint8(g / 5) & 2147483647) % 20)::text, 2, '0') AS region,
               ((hashint8(g) & 2147483647) % 31)::int8 AS doctor_visits,
               ((hashint8(g + 7) & 2147483647) % 1600) / 100.0::float8 AS income,
               ((g / 5) % 2)::int2 AS female
        FROM generate_series(0, \(rows - 1)) AS g
        """ + (filter.map { "\nWHERE " + $0.replacingOccurrences(of: "$person", with: "(g / 5)") } ?? "")
    }

    static func run(sizes: [Int], repeats: Int, server: String?, cluster: Bool) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "sql_postgres")
        let (url, _, stop) = try throwAwayServer(server, script: "pg-server.sh")
        defer { stop() }
        let (clusterURL, clusterFolder, stopCluster) = cluster ? try throwAwayServer(nil, script: "pg-cluster.sh")
            : (nil, nil, {})
        defer { stopCluster() }
        let metadata = try PrivacyMetadata.parse(yaml: SyntheticPanel.metadataYAML(scope: "bench"), source: "synthetic")
        let admin = try PostgresSession(url: url)
        defer { admin.close() }
        for rows in sizes {
            let database = "veil_bench_\(SQLBenchmark.label(rows).lowercased())"
            let target = url.withDatabase(database)
            if let seconds = try prepare(database: database, rows: rows, admin: admin, target: target) {
                report.add("generate_\(SQLBenchmark.label(rows))_time", seconds, unit: "s")
            }
            if let clusterURL, let clusterFolder {
                let seconds = try prepareCluster(clusterURL, folder: clusterFolder, rows: rows)
                report.add("generate_\(SQLBenchmark.label(rows))_cluster_time", seconds, unit: "s")
            }
            let ledgerPath = "\(SQLBenchmark.dataFolder)/ledger-\(UUID().uuidString).sqlite"
            try FileManager.default.createDirectory(atPath: SQLBenchmark.dataFolder, withIntermediateDirectories: true)
            defer {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
            }
            let ledger = try Ledger(path: ledgerPath, mode: .createIfMissing, durability: .normal)
            try ledger.createBudget(scope: "bench", epsilon: 1e6, delta: 0.5, composition: .basic)
            // The engine takes the password, if any, from $PGPASSWORD.
            let engine = PrivateQueryEngine(metadata: metadata, databasePath: target.redacted, ledger: ledger)
            var singleVeil: [String: Double] = [:]
            for workers in [0, 2] {
                try admin.execute("ALTER DATABASE \(PostgresIdentifier.quote(database)) SET max_parallel_workers_per_gather = \(workers)")
                let plain = try PostgresSession(url: target)
                defer { plain.close() }
                for query in queries {
                    let veil = try record(query, as: "\(query.name)_\(SQLBenchmark.label(rows))_workers\(workers)",
                                          engine: engine, plain: plain, repeats: repeats, into: &report)
                    if workers == 2 { singleVeil[query.name] = veil }
                }
            }
            guard let clusterURL else { continue }
            let clusterEngine = PrivateQueryEngine(metadata: metadata, databasePath: clusterURL.redacted, ledger: ledger)
            let plain = try PostgresSession(url: clusterURL)
            defer { plain.close() }
            for query in queries {
                let name = "\(query.name)_\(SQLBenchmark.label(rows))_cluster"
                let veil = try record(query, as: name, engine: clusterEngine, plain: plain, repeats: repeats, into: &report)
                if let single = singleVeil[query.name] { report.add("\(name)_vs_single_server", veil / single, unit: "x") }
            }
        }
        return report
    }

    /// Measures `query` and adds `NAME_veil`, `NAME_plain` and their `NAME_ratio` to `report`, and with the query's
    /// ``SQLBenchmark/DemoQuery/unitGrouping`` `NAME_unit_grouping` (its time), `NAME_unit_grouping_ratio` (to the
    /// plain aggregate: a floor under the ratio of any bounded query that groups in the server) and
    /// `NAME_veil_over_unit_grouping`; returns Veil's time.
    private static func record(_ query: SQLBenchmark.DemoQuery, as name: String, engine: PrivateQueryEngine,
                               plain: PostgresSession, repeats: Int, into report: inout BenchmarkReport) throws -> Double {
        let (veil, plainTime) = try measure(query, engine: engine, plain: plain, repeats: repeats)
        report.add("\(name)_veil", veil, unit: "s")
        report.add("\(name)_plain", plainTime, unit: "s")
        report.add("\(name)_ratio", veil / plainTime, unit: "x")
        if let grouping = query.unitGrouping {
            let floor = try bestTime(repeats: repeats) { _ = try plain.query(grouping) }
            report.add("\(name)_unit_grouping", floor, unit: "s")
            report.add("\(name)_unit_grouping_ratio", floor / plainTime, unit: "x")
            report.add("\(name)_veil_over_unit_grouping", veil / floor, unit: "x")
        }
        return veil
    }

    /// The best time of the private query (a fresh sampling key, as `veil query` draws one) and of the plain one.
    private static func measure(_ query: SQLBenchmark.DemoQuery, engine: PrivateQueryEngine, plain: PostgresSession,
                                repeats: Int) throws -> (veil: Double, plain: Double) {
        let plan = try engine.plan(query.veil, budget: try PrivacyParameters(epsilon: 1, delta: query.delta),
                                   sampling: .keyedHash(.fromSecureSource()))
        let veil = try bestTime(repeats: repeats) { _ = try engine.execute(plan, analyst: "bench") }
        let plainTime = try bestTime(repeats: repeats) { _ = try plain.query(query.plain) }
        return (veil, plainTime)
    }

    /// Creates `database` with the table of `rows` rows unless it already holds it; the seconds it took, or nil when
    /// the table was there.
    private static func prepare(database: String, rows: Int, admin: PostgresSession, target: PostgresURL) throws -> Double? {
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [.text(database)]).count == 1
        if exists {
            let session = try PostgresSession(url: target)
            defer { session.close() }
            let count = try? session.query("SELECT count(*) FROM visits").first?.first?.integer
            if count == Int64(rows) { return nil }
            session.close()
            try admin.execute("DROP DATABASE \(PostgresIdentifier.quote(database))")
        }
        FileHandle.standardError.write(Data("generating \(rows) rows into \(target.redacted)\n".utf8))
        let start = DispatchTime.now().uptimeNanoseconds
        try admin.execute("CREATE DATABASE \(PostgresIdentifier.quote(database))")
        let session = try PostgresSession(url: target)
        defer { session.close() }
        try session.execute("CREATE TABLE visits (\(columns))")
        try session.execute("INSERT INTO visits " + generateSQL(rows: rows))
        try session.execute("VACUUM ANALYZE visits")
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Fills the cluster's `visits` (created anew, partitioned by hash of person_id over the two shards) with the
    /// same rows: each shard generates the rows of its own persons, chosen with `satisfies_hash_partition` against a
    /// local table partitioned the same way (hash partitioning is the same function on every server of a version).
    private static func prepareCluster(_ coordinator: PostgresURL, folder: String, rows: Int) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let session = try PostgresSession(url: coordinator)
        defer { session.close() }
        try session.execute("DROP TABLE IF EXISTS visits")
        let shards = try (0..<2).map { n in
            try PostgresURL(String(contentsOfFile: "\(folder)/shard\(n)/url", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for (n, shard) in shards.enumerated() {
            let s = try PostgresSession(url: shard)
            defer { s.close() }
            try s.execute("DROP TABLE IF EXISTS visits_shard\(n)")
        }
        guard try script("pg-cluster.sh", ["table", folder, "visits", "person_id", columns]) == 0 else {
            throw VeilError(.databaseUnavailable, "scripts/pg-cluster.sh could not create the sharded table")
        }
        for (n, shard) in shards.enumerated() {
            let s = try PostgresSession(url: shard)
            defer { s.close() }
            try s.execute("DROP TABLE IF EXISTS veil_bench_hash")
            try s.execute("CREATE TABLE veil_bench_hash (person_id int4) PARTITION BY HASH (person_id)")
            try s.execute("INSERT INTO visits_shard\(n) " + generateSQL(
                rows: rows, filter: "satisfies_hash_partition('veil_bench_hash'::regclass, 2, \(n), ($person)::int4)"))
            try s.execute("DROP TABLE veil_bench_hash")
            try s.execute("VACUUM ANALYZE visits_shard\(n)")
        }
        // The shards must place persons as the coordinator routes them: for the first 10,000 persons, shard 0 holds
        // exactly those the coordinator's partition function sends there. (`satisfies_hash_partition` is evaluated
        // on the coordinator over a generated list: on a foreign table it would be sent to the shard.)
        let sample = min(10_000, (rows + 4) / 5)
        let expected = try session.query("""
            SELECT count(*) FROM generate_series(0, \(sample - 1)) AS p
            WHERE satisfies_hash_partition('visits'::regclass, 2, 0, p::int4)
            """).first?.first?.integer
        let placed = try session.query(
            "SELECT count(DISTINCT person_id) FROM visits_shard0 WHERE person_id < \(sample)").first?.first?.integer
        let total = try session.query("SELECT count(*) FROM visits").first?.first?.integer
        guard expected == placed, total == Int64(rows) else {
            throw VeilError(.queryFailed, "the sharded table holds \(total ?? -1) rows; shard 0 holds \(placed ?? -1) "
                            + "of the first \(sample) persons where the coordinator routes \(expected ?? -1)")
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// `server`, or a throw-away server (scripts/pg-server.sh) or cluster (scripts/pg-cluster.sh) started from the
    /// repository root, with its folder, and how to stop it.
    static func throwAwayServer(_ server: String?, script name: String) throws -> (PostgresURL, String?, () -> Void) {
        if let server { return (try PostgresURL(server), nil, {}) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-pg-\(UUID().uuidString)").path
        guard try script(name, ["start", folder]) == 0,
              let text = try? String(contentsOfFile: folder + "/url", encoding: .utf8) else {
            throw VeilError(.databaseUnavailable, "scripts/\(name) could not start PostgreSQL (run from the repository root)")
        }
        let url = try PostgresURL(text.trimmingCharacters(in: .whitespacesAndNewlines))
        return (url, folder, { _ = try? script(name, ["stop", folder]) })
    }

    /// Runs scripts/`name` with `arguments`; its exit status.
    private static func script(_ name: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["scripts/\(name)"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
