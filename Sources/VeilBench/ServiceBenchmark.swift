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
                    let connection = try KeepAliveConnection(port: port)
                    var latencies: [Double] = []
                    for _ in 0..<queries {
                        let begin = ContinuousClock.now
                        let status = try connection.post("/v1/datasets/health_panel/queries", token: secret, body: body)
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

/// HTTP/1.1 over one loopback keep-alive connection: POST a JSON body, read the status and skip the body.
private final class KeepAliveConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw VeilError(.invalidInput, "cannot connect to the service") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func post(_ path: String, token: String, body: Data) throws -> Int {
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        let bytes = Array(head.utf8) + Array(body)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw VeilError(.invalidInput, "the connection closed") }
            sent += n
        }
        // Headers, then exactly Content-Length bytes of body.
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let range = buffer.firstRange(of: separator) { headerEnd = range.upperBound } else { try fill() }
        }
        let headers = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        let status = Int(headers.dropFirst(9).prefix(3)) ?? 0
        let length = headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        while buffer.count < headerEnd! + length { try fill() }
        buffer.removeFirst(headerEnd! + length)
        return status
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw VeilError(.invalidInput, "the connection closed") }
        buffer += chunk[0..<n]
    }
}
