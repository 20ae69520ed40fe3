import BudgetLedger
import Foundation
import Mechanisms
import QueryService
#if canImport(Glibc)
import Glibc
#endif

/// The query service under load: a small grouped query on the shipped health panel
/// (`SELECT year, COUNT(*) AS n FROM visits GROUP BY year`, ε 0.01) sent over loopback HTTP by 1 and by 16
/// concurrent analysts (one keep-alive connection each), with every charge durable (the ledger's default
/// `.full` durability: each reservation is flushed to disk before the query reads a row). Reports queries/s and
/// the p50/p99 latency of each, next to the same query through the CLI (`veil query`, one process per query).
enum ServiceBenchmark {
    static let query = "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"

    static func run(queriesPerAnalyst: Int, cliQueries: Int) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "service")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = URL(fileURLWithPath: "datasets/health_panel.sqlite").standardizedFileURL.path
        let metadata = URL(fileURLWithPath: "datasets/health_panel.privacy.yaml").standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: database) else {
            throw VeilError(.invalidInput, "run veil-bench service from the repository root (datasets/health_panel.sqlite)")
        }
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        let limit = try AnalystLimit(epsilon: 1000, delta: 0)
        var secrets: [String] = []
        var accounts: [ServiceConfiguration.Account] = []
        for i in 0..<16 {
            let secret = AccessToken.newSecret()
            secrets.append(secret)
            accounts.append(.init(name: "analyst\(i)", role: .analyst, tokenDigest: AccessToken.digest(of: secret),
                                  limits: ["health_panel": limit]))
        }
        var limits = ServiceConfiguration.Limits()
        limits.requestsPerMinute = 10_000_000
        let configuration = try ServiceConfiguration(
            datasets: [.init(name: "health_panel", database: database, metadata: metadata, ledger: ledger,
                             budget: .init(epsilon: 100_000, delta: 1e-5, composition: nil))],
            accounts: accounts, limits: limits)
        let service = try QueryService(configuration: configuration)
        var listener = QueryServiceServer.Listener()
        listener.port = 0
        let server = QueryServiceServer(service: service, listener: listener)
        let bound = PortBox()
        Task.detached { try? await server.run { port in bound.set(port) } }
        let port = try bound.wait()

        for analysts in [1, 16] {
            // Warm-up: one query per connection's analyst.
            _ = try measure(port: port, secrets: Array(secrets.prefix(analysts)), queries: 2)
            let (seconds, latencies) = try measure(port: port, secrets: Array(secrets.prefix(analysts)), queries: queriesPerAnalyst)
            let sorted = latencies.sorted()
            report.add("service_\(analysts)_analysts_queries_per_second", Double(sorted.count) / seconds, unit: "queries/s")
            report.add("service_\(analysts)_analysts_p50_latency", sorted[sorted.count / 2] * 1000, unit: "ms")
            report.add("service_\(analysts)_analysts_p99_latency", sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000, unit: "ms")
        }
        let status = try Ledger(path: ledger).status(scope: "health_panel")
        report.add("service_charges_committed", Double(status.committed), unit: "charges")

        // The same query through the CLI: one `veil query` process per query, on a ledger of its own.
        let veil = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("veil").path
        if FileManager.default.isExecutableFile(atPath: veil) {
            let cliLedger = folder.appendingPathComponent("cli-ledger.sqlite").path
            try Ledger(path: cliLedger, mode: .createIfMissing)
                .createBudget(scope: "health_panel", epsilon: 100_000, delta: 1e-5, composition: .basic)
            var latencies: [Double] = []
            for _ in 0..<cliQueries {
                let start = ContinuousClock.now
                let process = Process()
                process.executableURL = URL(fileURLWithPath: veil)
                process.arguments = ["query", "--db", database, "--metadata", metadata, "--ledger", cliLedger,
                                     "--epsilon", "0.01", "--analyst", "bench", query]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else { throw VeilError(.invalidInput, "veil query failed") }
                latencies.append(seconds(ContinuousClock.now - start))
            }
            latencies.sort()
            report.add("cli_queries_per_second", Double(latencies.count) / latencies.reduce(0, +), unit: "queries/s")
            report.add("cli_p50_latency", latencies[latencies.count / 2] * 1000, unit: "ms")
        }
        return report
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs `queries` queries per analyst, each analyst on its own thread and keep-alive connection; returns the
    /// wall time and every query's latency.
    static func measure(port: Int, secrets: [String], queries: Int) throws -> (Double, [Double]) {
        let body = try JSONSerialization.data(withJSONObject: ["sql": query, "epsilon": 0.01])
        let results = LatencyBox()
        let group = DispatchGroup()
        let start = ContinuousClock.now
        for secret in secrets {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let connection = try LoopbackHTTPClient(port: port)
                    var latencies: [Double] = []
                    for _ in 0..<queries {
                        let begin = ContinuousClock.now
                        let status = try connection.post("/v1/datasets/health_panel/queries", body: Array(body), contentType: "application/json",
                                                         headers: [("Authorization", "Bearer \(secret)")]).status
                        guard status == 200 else { throw VeilError(.invalidInput, "the service answered \(status)") }
                        latencies.append(seconds(ContinuousClock.now - begin))
                    }
                    results.add(latencies)
                } catch {
                    results.fail(error)
                }
            }
        }
        group.wait()
        let wall = seconds(ContinuousClock.now - start)
        if let error = results.error { throw error }
        return (wall, results.latencies)
    }
}

/// The bound port, handed from the server task to the benchmark thread.
private final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    private let ready = DispatchSemaphore(value: 0)
    func set(_ port: Int) { lock.withLock { self.port = port }; ready.signal() }
    func wait() throws -> Int {
        guard ready.wait(timeout: .now() + 60) == .success, let port = lock.withLock({ port }) else {
            throw VeilError(.invalidInput, "the service did not start")
        }
        return port
    }
}

/// Latencies gathered from the worker threads.
private final class LatencyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Double] = []
    private var failure: (any Error)?
    func add(_ values: [Double]) { lock.withLock { stored += values } }
    func fail(_ error: any Error) { lock.withLock { failure = error } }
    var latencies: [Double] { lock.withLock { stored } }
    var error: (any Error)? { lock.withLock { failure } }
}
