import _TestSupport
import BudgetLedger
import Foundation
import Testing
@testable import QueryService
#if canImport(Glibc)
import Glibc
#endif

/// A panel large enough that a grouped query takes a while: `rows` person-years in `visits(person_id, year)`,
/// written with the `sqlite3` tool, and its metadata (scope `big`).
func makeLargePanel(in folder: URL, rows: Int) throws -> (database: String, metadata: String) {
    let database = folder.appendingPathComponent("big.sqlite").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sqlite3", database, """
        CREATE TABLE visits (person_id INTEGER, year INTEGER);
        WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < \(rows))
        INSERT INTO visits SELECT i / 5, 1984 + i % 5 FROM c;
        """]
    try process.run()
    process.waitUntilExit()
    let metadata = folder.appendingPathComponent("big.privacy.yaml").path
    try """
        scope: big
        tables:
          visits:
            privacy_unit: person_id
            max_partitions_per_unit: 5
            max_rows_per_partition: 1
            columns:
              person_id: {type: integer}
              year: {type: integer, public_values: [1984, 1985, 1986, 1987, 1988]}
        """.write(toFile: metadata, atomically: true, encoding: .utf8)
    return (database, metadata)
}

@Suite("Query service: the veil service process", .serialized)
struct ServiceProcessTests {
    static let query = "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"

    @Test("killed mid-query, the service leaves the reservation counted; it restarts cleanly and answers")
    func killMidQuery() throws {
        let scratch = try TemporaryDirectory.make("service-big")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let panel = try makeLargePanel(in: scratch, rows: 3_000_000)
        let folder = try ServiceFolder(dataset: "big", database: panel.database, metadata: panel.metadata)
        defer { folder.remove() }
        let service = try ServiceProcess(config: folder.config, folder: folder.url)
        let token = folder.tokens["ana"]!
        Thread.detachNewThread {
            _ = try? service.exchange("POST", "/v1/datasets/big/queries", token: token,
                                      json: ["sql": Self.query, "epsilon": 0.5], timeoutSeconds: 120)
        }
        // Wait for the reservation (the data is read only after it), then kill the process while it reads.
        let ledger = try Ledger(path: folder.ledger)
        let deadline = Date().addingTimeInterval(60)
        while try ledger.openReservations(scope: "big").isEmpty, Date() < deadline { usleep(2_000) }
        #expect(service.stop(signal: SIGKILL) == SIGKILL)
        let open = try ledger.openReservations(scope: "big")
        #expect(open.count == 1)
        #expect(try ledger.status(scope: "big").epsilonRemaining == 9.5)
        #expect(try ledger.verify().isValid)
        // Restarted on the same configuration: the open reservation still counts against ana, and queries work.
        let restarted = try ServiceProcess(config: folder.config, folder: folder.url)
        let budget = try restarted.exchange("GET", "/v1/me/budget", token: token)
        #expect(budget.status == 200 && budget.body.contains(#""spent":{"delta":0,"epsilon":0.5}"#))
        let answer = try restarted.exchange("POST", "/v1/datasets/big/queries", token: token,
                                            json: ["sql": "SELECT COUNT(*) AS n FROM visits", "epsilon": 0.5])
        #expect(answer.status == 200)
        #expect(restarted.stop() == 0)
        #expect(try ledger.status(scope: "big").epsilonRemaining == 9)
    }

    @Test("SIGTERM during a query: the query finishes, is committed and answered; the process exits 0")
    func gracefulShutdown() throws {
        let scratch = try TemporaryDirectory.make("service-big")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let panel = try makeLargePanel(in: scratch, rows: 2_000_000)
        let folder = try ServiceFolder(dataset: "big", database: panel.database, metadata: panel.metadata)
        defer { folder.remove() }
        let service = try ServiceProcess(config: folder.config, folder: folder.url)
        let token = folder.tokens["ana"]!
        let result = LockedStatus()
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            result.status = (try? service.exchange("POST", "/v1/datasets/big/queries", token: token,
                                                   json: ["sql": Self.query, "epsilon": 0.5], timeoutSeconds: 120))?.status
            finished.signal()
        }
        let ledger = try Ledger(path: folder.ledger)
        let deadline = Date().addingTimeInterval(60)
        while try ledger.openReservations(scope: "big").isEmpty, Date() < deadline { usleep(2_000) }
        #expect(service.stop(signal: SIGTERM, timeout: 120) == 0)
        finished.wait()
        #expect(result.status == 200)
        #expect(try ledger.openReservations(scope: "big").isEmpty)
        #expect(try ledger.charges(scope: "big").map(\.state) == [.committed])
    }

    @Test("veil query --service prints the table as today, and maps the service's errors to the CLI's exit codes")
    func cliClient() throws {
        let folder = try ServiceFolder(dataset: "health_panel", database: healthDatabase, metadata: healthMetadata,
                                       analystEpsilon: 1)
        defer { folder.remove() }
        let service = try ServiceProcess(config: folder.config, folder: folder.url)
        let url = "http://127.0.0.1:\(service.port)"
        func ask(_ account: String, epsilon: String, _ extra: [String] = []) throws -> VeilRun {
            try runVeil(["query", "--service", url, "--token-file", folder.tokenFile(account), "--dataset", "health_panel",
                         "--epsilon", epsilon] + extra + [Self.query])
        }
        let ok = try ask("ana", epsilon: "0.6")
        #expect(ok.status == 0, "\(ok.stderr)")
        let lines = ok.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("year  n") == true && lines.first?.contains("95% CI") == true)
        #expect(lines.filter { $0.hasPrefix("198") }.count == 5)
        #expect(ok.stdout.contains("charged ε 0.6, δ 0 to health_panel by \(url) (reservation"))
        #expect(ok.stdout.contains("your remaining budget on health_panel: ε 0.4"))
        let dry = try ask("ana", epsilon: "0.3", ["--dry-run"])
        #expect(dry.status == 0 && dry.stdout.hasPrefix("cost: ε 0.3, δ 0 on dataset health_panel"))
        let exhausted = try ask("ana", epsilon: "0.6")
        #expect(exhausted.status == 3)
        #expect(exhausted.stderr.hasPrefix("error: analyst budget exhausted: ε 0.4"))
        let auditor = try ask("audrey", epsilon: "0.1")
        #expect(auditor.status == 2 && auditor.stderr.contains("only analysts run queries"))
        try "veil_wrong\n".write(toFile: folder.url.appendingPathComponent("wrong.token").path, atomically: true, encoding: .utf8)
        let wrong = try ask("wrong", epsilon: "0.1")
        #expect(wrong.status == 2 && wrong.stderr.contains("missing or wrong bearer token"))
        let refused = try runVeil(["query", "--service", url, "--token-file", folder.tokenFile("ana"), "--dataset",
                                   "health_panel", "SELECT * FROM visits"])
        #expect(refused.status == 2)
        let mixed = try runVeil(["query", "--service", url, "--token-file", folder.tokenFile("ana"), "--dataset",
                                 "health_panel", "--db", "x.sqlite", Self.query])
        #expect(mixed.status == 2 && mixed.stderr.contains("do not apply"))
        #expect(service.stop() == 0)
        // The request log has accounts, paths and statuses, never a query or a result.
        #expect(service.log.contains(" ana POST /v1/datasets/health_panel/queries 200 "))
        #expect(!service.log.contains("COUNT") && !service.log.contains("1984"))
    }

    @Test("any address but loopback needs TLS; the console and the OpenAPI document are served")
    func listenerAndAssets() throws {
        let folder = try ServiceFolder(dataset: "health_panel", database: healthDatabase, metadata: healthMetadata)
        defer { folder.remove() }
        let exposed = try runVeil(["service", "--config", folder.config.path, "--host", "0.0.0.0", "--port", "0"])
        #expect(exposed.status == 2 && exposed.stderr.contains("without TLS"))
        let token = try runVeil(["service", "token"])
        let parts = token.stdout.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" }
        #expect(token.status == 0 && parts.count == 2 && AccessToken.digest(of: parts[0]) == parts[1])
        let service = try ServiceProcess(config: folder.config, folder: folder.url)
        let openapi = try service.exchange("GET", "/openapi.json", token: nil)
        #expect(openapi.status == 200)
        let document = try JSONSerialization.jsonObject(with: Data(openapi.body.utf8)) as? [String: Any]
        let paths = (document?["paths"] as? [String: Any])?.keys.sorted() ?? []
        #expect(paths == ["/v1/audit/head", "/v1/audit/report", "/v1/datasets/{name}", "/v1/datasets/{name}/queries",
                          "/v1/datasets/{name}/queries:dry-run", "/v1/me/budget", "/v1/me/queries"])
        let console = try service.exchange("GET", "/", token: nil)
        #expect(console.status == 200 && console.body.contains("<script src=\"console.js\">"))
        // Large bodies: 413 from Content-Length, after the token check.
        let big = try service.exchange("POST", "/v1/datasets/health_panel/queries", token: folder.tokens["ana"],
                                       json: ["sql": String(repeating: "x", count: 100_000), "epsilon": 1])
        #expect(big.status == 413)
        #expect(service.stop() == 0)
    }
}

extension ServiceProcessTests {
    @Test("with --tls-cert and --tls-key the service speaks HTTPS (checked with curl); a certificate without a key is refused")
    func tls() throws {
        let folder = try ServiceFolder(dataset: "health_panel", database: healthDatabase, metadata: healthMetadata)
        defer { folder.remove() }
        let cert = folder.url.appendingPathComponent("cert.pem").path, key = folder.url.appendingPathComponent("key.pem").path
        #expect(try run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"]).status == 0)
        let half = try runVeil(["service", "--config", folder.config.path, "--tls-cert", cert, "--port", "0"])
        #expect(half.status == 2 && half.stderr.contains("--tls-cert and --tls-key go together"))
        let service = try ServiceProcess(config: folder.config, folder: folder.url, extra: ["--tls-cert", cert, "--tls-key", key])
        let base = "https://127.0.0.1:\(service.port)"
        let document = try run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", base + "/openapi.json"])
        #expect(document.stdout == "200")
        let budget = try run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                      "Authorization: Bearer \(folder.tokens["ana"]!)", base + "/v1/me/budget"])
        #expect(budget.stdout == "200")
        let anonymous = try run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", base + "/v1/me/budget"])
        #expect(anonymous.stdout == "401")
        #expect(service.stop() == 0)
    }

    /// Runs a system tool (through `env`) and returns its status and standard output.
    func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A status written by one thread and read by another after a semaphore.
final class LockedStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Int?
    var status: Int? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
