import _TestSupport
import Foundation
import PostgresClient
import Testing
@testable import BudgetLedger

/// `scripts/verify_ledger.py` recomputes the chain with Python's standard library only: an auditor's
/// check that does not trust Veil's code. These tests run it (with `python3` from `PATH`).
@Suite("Independent verification in Python")
struct IndependentVerifierTests {
    private func runScript(_ ledger: String) throws -> (status: Int32, stdout: String) {
        try runLedgerVerifier(ledger)
    }

    /// Fills `location` (a file or a `postgres://` URL) with charges whose text is awkward for JSON and SQL, on a
    /// basic and an rdp budget; returns the ledger.
    private func awkwardLedger(at location: String) throws -> Ledger {
        let ledger = try makeLedger(location, scope: "panel", epsilon: 50, delta: 1e-5)
        try ledger.createBudget(scope: "model", epsilon: 8, delta: 1e-5, composition: .rdp)
        let awkward = ["Zoë «quoted» \"name\"", "tab\there", "line\nbreak", "back\\slash", "控制 \u{1} char", "emoji 🔒"]
        for (i, text) in awkward.enumerated() {
            let epsilon = [0.1, 1e-7, 2.5, 0.3, 1.0 / 3.0, 12][i]
            let r = try ledger.reserve(event: .epsilonDelta(epsilon: epsilon, delta: 1e-7),
                                       cost: PrivacyParameters.cost(epsilon: epsilon, delta: 1e-7),
                                       scope: "panel", analyst: text, purpose: text)
            if i % 2 == 0 { try ledger.commit(r, resultDigest: text) } else { try ledger.refund(r, reason: text) }
        }
        let sgd = DPEvent.selfComposed(event: .poissonSampled(samplingRate: 0.004, event: .gaussian(noiseMultiplier: 1.1)), count: 1000)
        _ = try ledger.charge(event: sgd, cost: PrivacyParameters.cost(epsilon: 1.2, delta: 1e-5), scope: "model",
                              analyst: "ml", purpose: "model", resultDigest: "sha256:ff")
        return ledger
    }

    @Test("Python agrees with Veil on every hash, with awkward text in the entries")
    func agrees() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try awkwardLedger(at: path)
        let head = try ledger.head()
        let run = try runScript(path)
        #expect(run.status == 0)
        #expect(run.stdout == "chain verified: \(head.id) entries, head \(head.hash)\n")
    }

    @Test("Python reads a PostgreSQL ledger (psycopg2 or psql) and agrees with Veil; it finds an entry edited on the server")
    func agreesOnPostgres() throws {
        let url = try PostgresTestServer.freshDatabase("veil_ledger_test")
        let ledger = try awkwardLedger(at: url.redacted)
        let head = try ledger.head()
        let run = try runScript(url.redacted)
        #expect(run.status == 0)
        #expect(run.stdout == "chain verified: \(head.id) entries, head \(head.hash)\n")

        let session = try PostgresSession(url: url)
        defer { session.close() }
        try session.execute("ALTER TABLE veil_ledger.entry DISABLE TRIGGER USER")
        try session.execute("UPDATE veil_ledger.entry SET purpose = 'tab here' WHERE id = 5")
        let edited = try runScript(url.redacted)
        #expect(edited.status == 1)
        #expect(edited.stdout.isEmpty)
    }

    @Test("Python detects an edited entry")
    func detects() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path)
        let (event, cost) = try pure(0.5)
        _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p", resultDigest: "d")
        #expect(try sqlite3(path, "DROP TRIGGER entry_append_only_update; UPDATE entry SET purpose = 'q' WHERE id = 2;") == 0)
        #expect(try runScript(path).status == 1)
    }
}
