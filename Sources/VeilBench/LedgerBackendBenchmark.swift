import BudgetLedger
import Foundation
import PostgresClient

/// Ledger charge throughput on PostgreSQL beside SQLite (`veil-bench ledger --backend postgres`): reserve +
/// commit with 1 connection, 8 connections (threads) and 8 `veil budget charge` processes, each on a new
/// ledger, at full durability (fsync / `synchronous_commit = on`), as the command line runs.
enum LedgerBackendBenchmark {
    /// - Parameter server: a PostgreSQL server URL; each figure uses a new database on it, dropped afterwards.
    static func run(server: PostgresURL) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "ledger")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-ledger-backend-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let admin = try PostgresSession(url: server)
        defer { admin.close() }
        var databases: [String] = []
        defer { for name in databases { _ = try? admin.execute("DROP DATABASE IF EXISTS \(PostgresIdentifier.quote(name))") } }
        func location(_ backend: String, _ label: String) throws -> String {
            guard backend == "postgres" else { return folder.appendingPathComponent("\(label).sqlite").path }
            let name = "veil_bench_ledger_\(getpid())_\(label)"
            try admin.execute("DROP DATABASE IF EXISTS \(PostgresIdentifier.quote(name))")
            try admin.execute("CREATE DATABASE \(PostgresIdentifier.quote(name))")
            databases.append(name)
            return server.withDatabase(name).redacted
        }
        for backend in ["sqlite", "postgres"] {
            report.add("\(backend)_charges_per_s_1_connection",
                       try LedgerBenchmark.chargesPerSecond(location: try location(backend, "single"), connections: 1,
                                                            perConnection: 1_000, durability: .full),
                       unit: "charges/s")
            report.add("\(backend)_charges_per_s_8_connections",
                       try LedgerBenchmark.chargesPerSecond(location: try location(backend, "threads"), connections: 8,
                                                            perConnection: 250, durability: .full),
                       unit: "charges/s")
            if let veil = LedgerBenchmark.veilExecutable() {
                report.add("\(backend)_charges_per_s_8_processes",
                           try LedgerBenchmark.chargesPerSecond(veil: veil, location: try location(backend, "processes"),
                                                                processes: 8, perProcess: 250),
                           unit: "charges/s")
            }
        }
        return report
    }
}
