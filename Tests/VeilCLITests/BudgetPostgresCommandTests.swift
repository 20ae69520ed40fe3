import _TestSupport
import Foundation
import Mechanisms
import PostgresClient
import Testing
import BudgetLedger

/// `veil budget` against PostgreSQL: migrate, tampering found by `verify`, and a server restarted while a
/// process charges. (Create, charge, the 8-process race and SIGKILL run on both stores in BudgetCommandTests.)
@Suite("veil budget on PostgreSQL (binary)")
struct BudgetPostgresCommandTests {
    private func veil(_ arguments: [String], ledger: String) throws -> VeilRun {
        try runVeil(["budget"] + arguments + ["--ledger", ledger])
    }

    @Test("migrate copies an SQLite ledger: same head and statuses; a non-empty target is refused (exit 2)")
    func migrate() throws {
        let folder = try TemporaryFolder()
        let file = folder.path("l.sqlite")
        #expect(try veil(["create", "panel", "--epsilon", "3", "--delta", "1e-6"], ledger: file).status == 0)
        #expect(try veil(["create", "model", "--epsilon", "2", "--delta", "1e-5", "--composition", "rdp"], ledger: file).status == 0)
        #expect(try veil(["charge", "panel", "--epsilon", "0.5", "--analyst", "ana", "--purpose", "counts", "--repeat", "3"],
                         ledger: file).status == 0)
        #expect(try veil(["charge", "model", "--epsilon", "0.3", "--analyst", "ml", "--purpose", "train"], ledger: file).status == 0)
        let url = try PostgresTestServer.freshDatabase().redacted
        let migrated = try runVeil(["budget", "migrate", "--from", file, "--to", url])
        let head = try veil(["head"], ledger: file).stdout
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout == "copied 10 entries from \(file) to \(url); chain verified on both sides: head \(head)")
        #expect(try veil(["head"], ledger: url).stdout == head)
        #expect(try veil(["show", "--json"], ledger: url).stdout == veil(["show", "--json"], ledger: file).stdout)
        #expect(try veil(["charge", "panel", "--epsilon", "1.5", "--analyst", "ana", "--purpose", "last"], ledger: url).status == 0)
        #expect(try veil(["charge", "panel", "--epsilon", "0.1", "--analyst", "ana", "--purpose", "over"], ledger: url).status == 3)

        let again = try runVeil(["budget", "migrate", "--from", file, "--to", url])
        #expect(again.status == 2)
        #expect(again.stderr == "error: \(url) is not empty (its chain ends at entry 12); migrate copies into an empty ledger only\n")
        let fromServer = try runVeil(["budget", "migrate", "--from", url, "--to", folder.path("back.sqlite")])
        #expect(fromServer.status == 2)
        #expect(fromServer.stderr == "error: --from must be an SQLite ledger file, not a server URL\n")
    }

    @Test("verify exits 1 naming the entry when an entry was edited on the server")
    func tamperedOnServer() throws {
        let url = try PostgresTestServer.freshDatabase()
        #expect(try veil(["create", "panel", "--epsilon", "3"], ledger: url.redacted).status == 0)
        #expect(try veil(["charge", "panel", "--epsilon", "0.5", "--analyst", "ana", "--purpose", "counts", "--repeat", "2"],
                         ledger: url.redacted).status == 0)
        #expect(try veil(["verify"], ledger: url.redacted).status == 0)
        let session = try PostgresSession(url: url)
        try session.execute("ALTER TABLE veil_ledger.entry DISABLE TRIGGER USER")
        try session.execute("UPDATE veil_ledger.entry SET epsilon = 0.05 WHERE id = 4")
        session.close()
        let verify = try veil(["verify"], ledger: url.redacted)
        #expect(verify.status == 1)
        #expect(verify.stderr == "error: ledger verification failed: entry 4: its content does not match its hash\n")
    }

    @Test("a server restarted (immediate shutdown) mid-charge loses no reserved charge and counts none twice")
    func serverRestart() throws {
        let folder = try TemporaryFolder()
        let server = try OwnServer(folder: folder.path("pg"))
        defer { server.stop() }
        let ledger = server.url
        #expect(try veil(["create", "restart", "--epsilon", "1000"], ledger: ledger).status == 0)
        var random = InsecureSeededRandomSource(seed: 20_261_202)
        var completed: [(reservation: Int64, commit: Int64)] = []
        let rounds = 3
        for _ in 0..<rounds {
            let p = Process()
            p.executableURL = veilExecutableURL()
            p.arguments = ["budget", "charge", "restart", "--epsilon", "0.01", "--analyst", "loop", "--purpose", "restart test",
                           "--repeat", "100000", "--ledger", ledger]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            // After the first completed charge, restart the server 0 to 50 ms later: inside some transaction.
            var output = out.fileHandleForReading.availableData
            Thread.sleep(forTimeInterval: Double(random.uniform(below: 50_000)) / 1_000_000)
            #expect(try server.restartImmediately() == 0)
            output.append(out.fileHandleForReading.readDataToEndOfFile())
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            // The charging process fails cleanly: exit 1, one line, no signal.
            #expect(p.terminationReason == .exit && p.terminationStatus == 1)
            #expect(stderr.hasPrefix("error: ") && stderr.split(separator: "\n").count == 1, "\(stderr)")
            for line in String(decoding: output, as: UTF8.self).split(separator: "\n") where line.hasPrefix("charged restart: ") {
                let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int64($0) }
                if numbers.count >= 2 { completed.append((numbers[0], numbers[1])) }
            }
        }
        let opened = try Ledger.open(location: ledger)
        let verification = try opened.verify()
        #expect(verification.isValid, "\(verification.problem ?? "")")
        let entries = try opened.entries()
        let byID = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
        #expect(completed.count >= rounds)
        // No charge lost: every reservation the process reported is in the ledger (synchronous_commit on).
        // Its commit was written with synchronous_commit off, so an immediate shutdown may lose the last
        // commits: their reservations are then open, still counted as spent, never free again.
        let open = Set(try opened.openReservations(scope: "restart").map(\.reservation.id))
        for (reservation, commit) in completed {
            #expect(byID[reservation]?.kind == .reserve)
            #expect((byID[commit]?.kind == .commit && byID[commit]?.reservation == reservation) || open.contains(reservation))
        }
        // The interrupted charge of each round is either absent or one reservation (open or committed):
        // at most one unreported reservation per restart, and each reservation is counted once.
        let reserves = entries.filter { $0.kind == .reserve }
        #expect(reserves.count >= completed.count && reserves.count <= completed.count + rounds)
        let status = try opened.status(scope: "restart")
        #expect(status.committed + status.open == reserves.count)
        #expect(abs(status.epsilonSpent + status.epsilonReserved - 0.01 * Double(reserves.count)) < 1e-9)
    }
}

/// A PostgreSQL server of the test's own (scripts/pg-server.sh), so it can be restarted without disturbing
/// the shared test server.
private struct OwnServer {
    let folder: String
    let url: String

    init(folder: String) throws {
        self.folder = folder
        guard try runScriptQuietly("pg-server.sh", ["start", folder]) == 0,
              let url = try? String(contentsOfFile: folder + "/url", encoding: .utf8) else {
            throw ServerFailure()
        }
        self.url = url.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `pg_ctl restart -m immediate`: the server stops without a checkpoint, as in a crash, and recovers
    /// from its write-ahead log on the same port.
    func restartImmediately() throws -> Int32 {
        try runScriptQuietly("pg-server.sh", ["restart-immediate", folder])
    }

    func stop() {
        _ = try? runScriptQuietly("pg-server.sh", ["stop", folder])
    }

    struct ServerFailure: Error, CustomStringConvertible {
        var description: String { "scripts/pg-server.sh could not start a server" }
    }
}
