import _TestSupport
import Foundation
import Mechanisms
import Testing
import BudgetLedger

/// Tests that run the built `veil` binary as child processes. `swift test` builds the `veil` product
/// into the same folder as the test bundle (e.g. `.build/debug`); `veilExecutableURL()` finds it
/// there, or takes `VEIL_BINARY` to test another build.
@Suite("veil budget (binary)")
struct BudgetCommandTests {
    private func veil(_ arguments: [String], ledger: String) throws -> VeilRun {
        try runVeil(["budget"] + arguments + ["--ledger", ledger])
    }

    @Test("create, charge, show --json, history, head and verify", arguments: LedgerBackend.allCases)
    func roundTrip(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let path = try backend.freshLocation(in: folder)
        #expect(try veil(["create", "health_panel", "--epsilon", "1", "--delta", "1e-6"], ledger: path).status == 0)
        let charged = try veil(["charge", "health_panel", "--epsilon", "0.4", "--analyst", "ana", "--purpose", "counts"], ledger: path)
        #expect(charged.status == 0)
        #expect(charged.stdout.hasPrefix("charged health_panel: reservation 2, commit 3"))
        let refused = try veil(["charge", "health_panel", "--epsilon", "0.7", "--analyst", "bob", "--purpose", "means"], ledger: path)
        #expect(refused.status == 3)
        #expect(refused.stderr == "error: budget exhausted: ε 0.6, δ 0.000001 remaining in health_panel (this charge needs ε 0.7, δ 0.0)\n")

        let show = try veil(["show", "health_panel", "--json"], ledger: path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(object["scope"] as? String == "health_panel")
        #expect(object["epsilon_total"] as? Double == 1)
        #expect(object["delta_total"] as? Double == 1e-6)
        #expect(object["epsilon_spent"] as? Double == 0.4)
        #expect(object["delta_spent"] as? Double == 0)
        #expect(object["epsilon_reserved"] as? Double == 0)
        #expect(object["epsilon_remaining"] as? Double == 0.6)
        #expect(object["delta_remaining"] as? Double == 1e-6)
        let all = try veil(["show", "--json"], ledger: path)
        #expect((try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [Any])?.count == 1)

        let history = try veil(["history", "health_panel", "--json"], ledger: path)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["kind"] as? String } == ["budget", "reserve", "commit"])

        let head = try veil(["head"], ledger: path)
        let verify = try veil(["verify"], ledger: path)
        #expect(verify.status == 0)
        #expect(verify.stdout == "chain verified: 3 entries, head \(head.stdout)")

        // VEIL_LEDGER selects the ledger when --ledger is absent.
        let viaEnvironment = try runVeil(["budget", "head"], environment: ["VEIL_LEDGER": path])
        #expect(viaEnvironment.stdout == head.stdout)
    }

    @Test("reserve prints an id that resolve commits or refunds")
    func reserveAndResolve() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        _ = try veil(["create", "s", "--epsilon", "1"], ledger: path)
        let reserved = try veil(["reserve", "s", "--epsilon", "0.6", "--analyst", "a", "--purpose", "export"], ledger: path)
        #expect(reserved.status == 0 && reserved.stdout == "2\n")
        // The open reservation counts as spent.
        #expect(try veil(["reserve", "s", "--epsilon", "0.6", "--analyst", "b", "--purpose", "p"], ledger: path).status == 3)
        #expect(try veil(["resolve", "2", "--refund", "--note", "failed"], ledger: path).stdout == "refunded reservation 2 of s (entry 3)\n")
        let again = try veil(["reserve", "s", "--epsilon", "0.6", "--analyst", "b", "--purpose", "p"], ledger: path)
        #expect(again.stdout == "4\n")
        #expect(try veil(["resolve", "4", "--commit", "--result-digest", "sha256:ab"], ledger: path).status == 0)
        let refundCommitted = try veil(["resolve", "4", "--refund"], ledger: path)
        #expect(refundCommitted.status == 2)
        #expect(refundCommitted.stderr.contains("already committed"))
        #expect(try veil(["resolve", "4", "--refund", "--commit"], ledger: path).status == 2)
    }

    @Test("verify exits non-zero on a tampered ledger")
    func verifyFails() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        _ = try veil(["create", "s", "--epsilon", "1"], ledger: path)
        _ = try veil(["charge", "s", "--epsilon", "0.5", "--analyst", "a", "--purpose", "p"], ledger: path)
        #expect(try sqlite3(path, "DROP TRIGGER entry_append_only_update; UPDATE entry SET epsilon = 0.1 WHERE id = 2;") == 0)
        let run = try veil(["verify"], ledger: path)
        #expect(run.status == 1)
        #expect(run.stderr == "error: ledger verification failed: entry 2: its content does not match its hash\n")
    }

    @Test("bad input: one-line error, non-zero exit, ledger untouched", arguments: [
        ["charge", "nope", "--epsilon", "0.1", "--analyst", "a", "--purpose", "p"],
        ["charge", "s", "--epsilon", "-0.1", "--analyst", "a", "--purpose", "p"],
        ["charge", "s", "--epsilon", "nan", "--analyst", "a", "--purpose", "p"],
        ["charge", "s", "--epsilon", "inf", "--analyst", "a", "--purpose", "p"],
        ["charge", "s", "--epsilon", "0.1", "--delta", "1", "--analyst", "a", "--purpose", "p"],
        ["charge", "s", "--epsilon", "0.1", "--delta", "1.5", "--analyst", "a", "--purpose", "p"],
        ["create", "s", "--epsilon", "1"],
        ["create", "t", "--epsilon", "1", "--delta", "1"],
        ["create", "t", "--epsilon", "0"],
        ["show", "nope"],
        ["history", "nope"],
        ["report", "nope"],
        ["resolve", "99", "--refund"],
    ])
    func badInput(_ arguments: [String]) throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        _ = try veil(["create", "s", "--epsilon", "1"], ledger: path)
        let before = try FileFingerprint(path)
        Thread.sleep(forTimeInterval: 0.01)
        let run = try veil(arguments, ledger: path)
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("error: "))
        #expect(run.stderr.filter { $0 == "\n" }.count == 1)
        #expect(try FileFingerprint(path) == before)
    }

    @Test("a non-ledger file (exit 2) or a damaged ledger (exit 1): one-line error, file untouched", arguments: [
        "csv", "sqlite-other", "sqlite-garbage",
    ])
    func corruptFile(_ kind: String) throws {
        let folder = try TemporaryFolder()
        let path = folder.path("ledger.sqlite")
        switch kind {
        case "csv": try Data("a,b\n1,2\n".utf8).write(to: URL(fileURLWithPath: path))
        case "sqlite-other": #expect(try sqlite3(path, "CREATE TABLE t (x);") == 0)
        default:
            var bytes = Data("SQLite format 3\0".utf8)
            bytes.append(Data(repeating: 0x5A, count: 8000))
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let before = try FileFingerprint(path)
        Thread.sleep(forTimeInterval: 0.01)
        for arguments in [["charge", "s", "--epsilon", "0.1", "--analyst", "a", "--purpose", "p"], ["verify"],
                          ["create", "s", "--epsilon", "1"], ["show"]] {
            let run = try veil(arguments, ledger: path)
            // An SQLite header over garbage is a damaged ledger: a fault, not a wrong path.
            #expect(run.status == (kind == "sqlite-garbage" ? 1 : 2), "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("error: ") && run.stderr.filter { $0 == "\n" }.count == 1)
        }
        #expect(try FileFingerprint(path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["ledger.sqlite"])
    }

    @Test("6 processes creating budgets in a new ledger file at once")
    func concurrentCreation() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("new.sqlite")
        let processes = try (1...6).map { i -> Process in
            let p = Process()
            p.executableURL = veilExecutableURL()
            p.arguments = ["budget", "create", "s\(i)", "--epsilon", "1", "--ledger", path]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes { p.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let ledger = try Ledger(path: path)
        #expect(try ledger.verify().isValid)
        #expect(Set(try ledger.budgets().map(\.scope)) == Set((1...6).map { "s\($0)" }))
    }

    @Test("a directory at --ledger is refused")
    func directory() throws {
        let folder = try TemporaryFolder()
        let run = try veil(["show"], ledger: folder.url.path)
        #expect(run.status == 2)
        #expect(run.stderr == "error: \(folder.url.path) is a directory, not a ledger file\n")
    }

    @Test("8 processes racing: exactly 100 charges of 0.1 fit a budget of 10", arguments: LedgerBackend.allCases)
    func processesRace(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let path = try backend.freshLocation(in: folder)
        #expect(try veil(["create", "race", "--epsilon", "10"], ledger: path).status == 0)
        // 8 shell loops, each running `veil budget charge` 15 times: 120 attempts for 100 slots.
        let script = """
            for i in $(seq 15); do
              "$VEIL" budget charge race --epsilon 0.1 --analyst "w$W" --purpose race --ledger "$LEDGER" 2>>"$ERR" >/dev/null
              echo $?
            done
            """
        var processes: [(Process, Pipe)] = []
        for w in 0..<8 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            p.environment = ["VEIL": veilExecutableURL().path, "LEDGER": path, "W": "\(w)",
                             "ERR": folder.path("err\(w)"), "PATH": "/usr/bin:/bin"]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            processes.append((p, out))
        }
        var codes: [String] = []
        for (p, out) in processes {
            codes += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
            p.waitUntilExit()
        }
        #expect(codes.filter { $0 == "0" }.count == 100)
        #expect(codes.filter { $0 == "3" }.count == 20)
        var errors = ""
        for w in 0..<8 { errors += (try? String(contentsOfFile: folder.path("err\(w)"), encoding: .utf8)) ?? "" }
        let lines = errors.split(separator: "\n")
        #expect(lines.count == 20)
        #expect(lines.allSatisfy { $0.hasPrefix("error: budget exhausted: ε 0, δ 0 remaining in race") })
        let ledger = try Ledger.open(location: path)
        #expect(try ledger.verify().isValid)
        let status = try ledger.status(scope: "race")
        #expect(status.committed == 100 && status.epsilonRemaining == 0 && status.open == 0)
    }

    @Test("processes killed with SIGKILL at random points leave a ledger that verifies", arguments: LedgerBackend.allCases)
    func crashSafety(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let path = try backend.freshLocation(in: folder)
        #expect(try veil(["create", "crash", "--epsilon", "1000"], ledger: path).status == 0)
        var random = InsecureSeededRandomSource(seed: 20_261_127)
        var completed: [(reservation: Int64, commit: Int64)] = []
        for _ in 0..<20 {
            let p = Process()
            p.executableURL = veilExecutableURL()
            p.arguments = ["budget", "charge", "crash", "--epsilon", "0.01", "--analyst", "loop", "--purpose", "crash test",
                           "--repeat", "100000", "--ledger", path]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Wait for the first completed charge (so that start-up time, which varies with the
            // machine's load, does not matter), then kill after 0 to 60 ms: anywhere inside the
            // reserve/commit loop, which takes a few milliseconds per charge.
            let reader = out.fileHandleForReading
            var output = reader.availableData
            let delay = Double(random.uniform(below: 60_000)) / 1_000_000
            Thread.sleep(forTimeInterval: delay)
            kill(p.processIdentifier, SIGKILL)
            output.append(reader.readDataToEndOfFile())
            let text = String(decoding: output, as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal)
            for line in text.split(separator: "\n") where line.hasPrefix("charged crash: reservation ") && line.hasSuffix(")") {
                let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int64($0) }
                if numbers.count >= 2 { completed.append((numbers[0], numbers[1])) }
            }
        }
        let ledger = try Ledger.open(location: path)
        let verification = try ledger.verify()
        #expect(verification.isValid, "\(verification.problem ?? "")")
        let entries = try ledger.entries()
        let byID = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
        #expect(completed.count >= 20)
        for (reservation, commit) in completed {
            #expect(byID[reservation]?.kind == .reserve)
            #expect(byID[commit]?.kind == .commit && byID[commit]?.reservation == reservation)
        }
        // No release without a reservation: every commit follows its reserve entry.
        for entry in entries where entry.kind == .commit {
            let reserved = try #require(entry.reservation)
            #expect(reserved < entry.id && byID[reserved]?.kind == .reserve)
        }
        // Reservations cut off before their commit stay open (counted as spent) until resolved.
        let open = try ledger.openReservations(scope: "crash")
        for charge in open {
            #expect(try veil(["resolve", "\(charge.reservation.id)", "--refund", "--note", "killed before release"],
                             ledger: path).status == 0)
        }
        #expect(try ledger.openReservations(scope: "crash").isEmpty)
        #expect(try veil(["verify"], ledger: path).status == 0)
    }

    @Test("report --format html writes one self-contained file")
    func htmlReport() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        _ = try veil(["create", "s", "--epsilon", "2", "--delta", "1e-6", "--composition", "zcdp"], ledger: path)
        _ = try veil(["charge", "s", "--epsilon", "0.5", "--analyst", "a", "--purpose", "p"], ledger: path)
        let output = folder.path("report.html")
        let run = try veil(["report", "--format", "html", "--output", output], ledger: path)
        #expect(run.status == 0)
        let html = try String(contentsOfFile: output, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg") && html.contains("verified"))
        let md = try veil(["report", "s", "--format", "md"], ledger: path)
        #expect(md.stdout.hasPrefix("# Privacy budget audit report"))
    }
}
