import _TestSupport
import Foundation
import Testing
@testable import BudgetLedger

/// Each test edits one entry of a valid ledger with the `sqlite3` tool (dropping the append-only
/// triggers first, as a deliberate tamperer would) and checks that `verify` names the damage.
@Suite("Tampering is detected")
struct TamperingTests {
    /// A ledger of 1 budget + 4 charges (reserve + commit each) + 1 refunded reservation = 11 entries.
    private func sampleLedger(_ folder: TemporaryFolder) throws -> String {
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path, epsilon: 10, delta: 1e-6)
        for i in 0..<4 {
            let (event, cost) = try pure(0.5 + Double(i) / 10)
            _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "q\(i)", resultDigest: "d\(i)")
        }
        let (event, cost) = try pure(1)
        let r = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "bob", purpose: "failed")
        try ledger.refund(r, reason: "backend error")
        #expect(try ledger.verify().isValid)
        #expect(try ledger.verify().entryCount == 11)
        return path
    }

    private static let dropTriggers = "DROP TRIGGER entry_append_only_update; DROP TRIGGER entry_append_only_delete;"

    private func tamper(_ path: String, _ sql: String) throws -> ChainVerification {
        #expect(try sqlite3(path, Self.dropTriggers + sql) == 0)
        return try Ledger(path: path).verify()
    }

    @Test("the triggers refuse updates and deletes")
    func triggers() throws {
        let folder = try TemporaryFolder()
        let path = try sampleLedger(folder)
        #expect(try sqlite3(path, "UPDATE entry SET epsilon = 0.01 WHERE id = 3;") != 0)
        #expect(try sqlite3(path, "DELETE FROM entry WHERE id = 3;") != 0)
        #expect(try Ledger(path: path).verify().isValid)
    }

    @Test("editing an amount, an analyst, an event or a digest", arguments: [
        "UPDATE entry SET epsilon = 0.01 WHERE id = 4;",
        "UPDATE entry SET analyst = 'mallory' WHERE id = 4;",
        "UPDATE entry SET event = '{\"delta\":0,\"epsilon\":0.01,\"type\":\"epsilon_delta\"}' WHERE id = 4;",
        "UPDATE entry SET digest = 'sha256:forged' WHERE id = 5;",
        "UPDATE entry SET time_ms = time_ms + 1 WHERE id = 4;",
    ])
    func edit(_ sql: String) throws {
        let folder = try TemporaryFolder()
        let result = try tamper(try sampleLedger(folder), sql)
        #expect(!result.isValid)
        #expect(result.firstInvalidEntry == 4 || result.firstInvalidEntry == 5)
        #expect(result.problem?.contains("does not match its hash") == true)
    }

    @Test("replacing an entry's stored hash")
    func editWithRehash() throws {
        let folder = try TemporaryFolder()
        let path = try sampleLedger(folder)
        let result = try tamper(path, "UPDATE entry SET hash = 'ab' || substr(hash, 3) WHERE id = 6;")
        #expect(result.firstInvalidEntry == 6)
        #expect(!result.isValid)
    }

    @Test("deleting an entry in the middle", arguments: [Int64(1), 2, 5, 8, 10])
    func delete(_ id: Int64) throws {
        let folder = try TemporaryFolder()
        let result = try tamper(try sampleLedger(folder), "DELETE FROM entry WHERE id = \(id);")
        #expect(!result.isValid)
        #expect(result.firstInvalidEntry == id + 1)
        #expect(result.problem?.contains("missing or out of order") == true)
    }

    @Test("deleting the last entry is detected by comparing heads")
    func deleteTail() throws {
        let folder = try TemporaryFolder()
        let path = try sampleLedger(folder)
        let kept = try Ledger(path: path).head()
        let result = try tamper(path, "DELETE FROM entry WHERE id = 11;")
        // The refund is gone, so the running total no longer matches; and the head has changed.
        #expect(!result.isValid)
        #expect(try Ledger(path: path).head() != kept)
    }

    @Test("swapping two entries", arguments: [(Int64(3), Int64(4)), (2, 7), (10, 11)])
    func reorder(_ pair: (Int64, Int64)) throws {
        let (a, b) = pair
        let folder = try TemporaryFolder()
        let result = try tamper(try sampleLedger(folder), """
            UPDATE entry SET id = -1 WHERE id = \(a); UPDATE entry SET id = \(a) WHERE id = \(b);
            UPDATE entry SET id = \(b) WHERE id = -1;
            """)
        #expect(!result.isValid)
        #expect(result.firstInvalidEntry == a)
    }

    @Test("the audit report of a damaged ledger says so and still covers what it can read")
    func reportOfDamagedLedger() throws {
        let folder = try TemporaryFolder()
        let path = try sampleLedger(folder)
        #expect(try sqlite3(path, Self.dropTriggers + "UPDATE entry SET event = 'not json' WHERE id = 2;") == 0)
        let report = try AuditReport(ledger: Ledger(path: path))
        #expect(!report.verification.isValid)
        #expect(report.problems.count == 1)
        #expect(report.markdown().contains("**BROKEN**"))
        #expect(report.html().contains("Unreadable:"))
    }

    @Test("changing a running total")
    func runningTotal() throws {
        let folder = try TemporaryFolder()
        let result = try tamper(try sampleLedger(folder), "UPDATE scope_total SET epsilon_units = 0;")
        #expect(!result.isValid)
        #expect(result.problem?.contains("running total") == true)
    }
}

@Suite("Opening ledger files")
struct LedgerFileTests {
    @Test("a missing file is not created unless asked")
    func missing() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("none.sqlite")
        let error = #expect(throws: VeilError.self) { try Ledger(path: path) }
        #expect(error?.code == .ledgerUnavailable)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a file that is not a ledger is refused and left untouched", arguments: [
        "text", "sqlite-other", "sqlite-garbage", "empty",
    ])
    func notALedger(_ kind: String) throws {
        let folder = try TemporaryFolder()
        let path = folder.path("x.sqlite")
        switch kind {
        case "text":
            try Data("name,value\nalice,3\n".utf8).write(to: URL(fileURLWithPath: path))
        case "sqlite-other":
            #expect(try sqlite3(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);") == 0)
        case "sqlite-garbage":
            var bytes = Data("SQLite format 3\0".utf8)
            bytes.append(Data(repeating: 0xA5, count: 4080))
            try bytes.write(to: URL(fileURLWithPath: path))
        default:
            try Data().write(to: URL(fileURLWithPath: path))
        }
        let before = try FileFingerprint(path)
        Thread.sleep(forTimeInterval: 0.01)
        let error = #expect(throws: VeilError.self) { try Ledger(path: path) }
        // An SQLite header over garbage is a damaged file rather than the wrong one.
        #expect(error?.code == (kind == "sqlite-garbage" ? .ledgerDamaged : .ledgerUnavailable))
        #expect(try FileFingerprint(path) == before)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        #expect(files == ["x.sqlite"])
    }
}

@Suite("Audit report")
struct AuditReportTests {
    @Test("the report covers limits, analysts, releases, open reservations and the chain")
    func contents() throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(folder.path("l.sqlite"), scope: "health_panel", epsilon: 2, delta: 1e-6)
        try ledger.createBudget(scope: "training", epsilon: 4, delta: 1e-5, composition: .rdp)
        let (event, cost) = try pure(0.5)
        _ = try ledger.charge(event: event, cost: cost, scope: "health_panel", analyst: "ana", purpose: "a|b <counts>", resultDigest: "sha256:01")
        _ = try ledger.reserve(event: event, cost: cost, scope: "health_panel", analyst: "bob", purpose: "open one")
        let sgd = DPEvent.selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1.1)), count: 1000)
        _ = try ledger.charge(event: sgd, cost: PrivacyParameters.cost(epsilon: 1, delta: 1e-5), scope: "training", analyst: "ml",
                              purpose: "model", resultDigest: "sha256:02")
        let report = try AuditReport(ledger: ledger)
        #expect(report.verification.isValid)
        #expect(report.scopes.count == 2)
        #expect(report.scopes[0].cumulative.map(\.epsilon) == [0.5, 1.0])
        #expect(report.scopes[0].analystCumulative.map(\.analyst) == ["ana", "bob"])

        let md = report.markdown()
        #expect(md.contains("## Scope `health_panel`"))
        #expect(md.contains("a\\|b <counts>"))
        #expect(md.contains("### Open reservations"))
        #expect(md.contains(report.head.hash))

        let html = report.html()
        #expect(html.contains("<svg"))
        #expect(html.contains("a|b &lt;counts&gt;"))
        // Nothing to fetch: the only URL is the SVG namespace.
        #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        #expect(!html.contains("<script"))

        let object = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any]
        let scopes = object?["scopes"] as? [[String: Any]]
        #expect(scopes?.count == 2)
        #expect((object?["verification"] as? [String: Any])?["is_valid"] as? Bool == true)
    }
}
