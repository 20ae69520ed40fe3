import _TestSupport
import Accounting
import Foundation
import PostgresClient
import Testing
@testable import BudgetLedger

/// The ledger on PostgreSQL: its schema, tampering done with SQL on the server, and `copyEntries` from SQLite.
/// The charging logic itself runs on both stores in the parameterised suites (ChargingProtocolTests and others).
@Suite("Ledger on PostgreSQL")
struct PostgresLedgerTests {
    /// A ledger of 1 budget + 4 charges (reserve + commit each) + 1 refunded reservation = 11 entries.
    private func sampleLedger(at location: String) throws -> Ledger {
        let ledger = try makeLedger(location, epsilon: 10, delta: 1e-6)
        for i in 0..<4 {
            let (event, cost) = try pure(0.5 + Double(i) / 10)
            _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "q\(i)", resultDigest: "d\(i)")
        }
        let (event, cost) = try pure(1)
        let r = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "bob", purpose: "failed")
        try ledger.refund(r, reason: "backend error")
        #expect(try ledger.verify().entryCount == 11)
        return ledger
    }

    /// Runs `statements` on the ledger's database with a connection of its own, as a tamperer would.
    private func onServer(_ url: PostgresURL, _ statements: [String]) throws {
        let session = try PostgresSession(url: url)
        defer { session.close() }
        for statement in statements { try session.execute(statement) }
    }

    @Test("the schema is created on first use; an empty database is no ledger; another format is refused")
    func schema() throws {
        let url = try PostgresTestServer.freshDatabase()
        let missing = #expect(throws: VeilError.self) { try Ledger.open(location: url.redacted) }
        #expect(missing?.code == .ledgerUnavailable)
        #expect(missing?.message == "no ledger at \(url.redacted) (create a budget first with `veil budget create`)")
        let ledger = try makeLedger(url.redacted)
        #expect(ledger.path == url.redacted)
        #expect(try Ledger.open(location: url.redacted).budgets().map(\.scope) == ["panel"])

        try onServer(url, ["UPDATE veil_ledger.ledger_format SET format = 2"])
        let newer = #expect(throws: VeilError.self) { try Ledger.open(location: url.redacted) }
        #expect(newer?.code == .ledgerUnavailable)
        #expect(newer?.message.contains("holds a ledger of format 2") == true)
    }

    @Test("reservations are durable before reserve returns: synchronous_commit is on even where the database turns it off")
    func synchronousCommit() throws {
        let url = try PostgresTestServer.freshDatabase()
        try onServer(url, ["ALTER DATABASE \(PostgresIdentifier.quote(url.database)) SET synchronous_commit = off"])
        let ledger = try makeLedger(url.redacted)
        #expect(try ledger.read { db in try db.value("SHOW synchronous_commit")?.string } == "on")
        let scratch = try Ledger.open(location: url.redacted, durability: .normal)
        #expect(try scratch.read { db in try db.value("SHOW synchronous_commit")?.string } == "off")
    }

    @Test("the append-only trigger refuses updates, deletes and truncation")
    func triggers() throws {
        let url = try PostgresTestServer.freshDatabase()
        let ledger = try sampleLedger(at: url.redacted)
        for statement in ["UPDATE veil_ledger.entry SET note = 'x' WHERE id = 3",
                          "DELETE FROM veil_ledger.entry WHERE id = 11", "TRUNCATE veil_ledger.entry"] {
            #expect(throws: VeilError.self) { try onServer(url, [statement]) }
        }
        #expect(try ledger.verify().isValid)
    }

    @Test("an entry edited on the server (triggers disabled) is found by verify", arguments: [
        ("UPDATE veil_ledger.entry SET epsilon = 0.05, epsilon_units = 50000000000 WHERE id = 2", Int64(2)),
        ("UPDATE veil_ledger.entry SET analyst = 'eve' WHERE id = 4", 4),
        ("UPDATE veil_ledger.entry SET digest = 'sha256:forged' WHERE id = 7", 7),
        ("DELETE FROM veil_ledger.entry WHERE id = 5", 6),   // the chain jumps from 4 to 6
        ("UPDATE veil_ledger.entry SET id = 100 + id WHERE id IN (8, 9)", 10),   // 8 and 9 moved past the end
    ])
    func tampering(_ edit: (sql: String, firstBad: Int64)) throws {
        let url = try PostgresTestServer.freshDatabase()
        let ledger = try sampleLedger(at: url.redacted)
        try onServer(url, ["ALTER TABLE veil_ledger.entry DISABLE TRIGGER USER", edit.sql])
        let result = try ledger.verify()
        #expect(!result.isValid)
        #expect(result.firstInvalidEntry == edit.firstBad)
    }

    @Test("a running total lowered on the server stops the next charge; nothing is appended")
    func loweredTotal() throws {
        let url = try PostgresTestServer.freshDatabase()
        let ledger = try sampleLedger(at: url.redacted)
        let head = try ledger.head()
        try onServer(url, ["UPDATE veil_ledger.scope_total SET epsilon_units = 0"])
        let (event, cost) = try pure(0.1)
        let refused = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p")
        }
        #expect(refused?.code == .ledgerDamaged)
        #expect(try ledger.head() == head)
        #expect(try !ledger.verify().isValid)
    }

    @Test("copyEntries moves an SQLite ledger entry by entry: same hashes, same statuses, charging goes on")
    func migration() throws {
        let folder = try TemporaryFolder()
        let source = try sampleLedger(at: folder.path("l.sqlite"))
        try source.createBudget(scope: "model", epsilon: 4, delta: 1e-5, composition: .rdp)
        _ = try source.charge(event: .gaussian(noiseMultiplier: 3), cost: PrivacyParameters.cost(epsilon: 1, delta: 1e-6),
                              scope: "model", analyst: "ml", purpose: "train", resultDigest: "d")
        let open = try source.reserve(event: .gaussian(noiseMultiplier: 5), cost: PrivacyParameters.cost(epsilon: 0.5, delta: 0),
                                      scope: "model", analyst: "ml", purpose: "crashed")
        let url = try PostgresTestServer.freshDatabase()
        let target = try Ledger.open(location: url.redacted, mode: .createIfMissing)
        let result = try target.copyEntries(from: source)
        #expect(result.entries == 15)
        #expect(result.target.headHash == result.source.headHash)
        #expect(try target.entries() == source.entries())
        #expect(try target.statuses() == source.statuses())
        // The copy is a working ledger: the open reservation can be resolved and the rdp scope charged from its state.
        try target.resolve(reservationID: open.id, as: .refund, resultDigest: nil, note: "migrated open")
        _ = try target.charge(event: .gaussian(noiseMultiplier: 3), cost: PrivacyParameters.cost(epsilon: 1, delta: 1e-6),
                              scope: "model", analyst: "ml", purpose: "again", resultDigest: "d")
        #expect(try target.verify().isValid)

        // A target that holds entries is refused, and left as it was.
        let head = try target.head()
        let conflict = #expect(throws: VeilError.self) { try target.copyEntries(from: source) }
        #expect(conflict?.code == .ledgerConflict)
        #expect(try target.head() == head)
    }

    @Test("copyEntries refuses a source that does not verify and copies nothing")
    func damagedSource() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        _ = try sampleLedger(at: path)
        #expect(try sqlite3(path, "DROP TRIGGER entry_append_only_update; UPDATE entry SET analyst = 'eve' WHERE id = 4;") == 0)
        let url = try PostgresTestServer.freshDatabase()
        let target = try Ledger.open(location: url.redacted, mode: .createIfMissing)
        let refused = #expect(throws: VeilError.self) { try target.copyEntries(from: try Ledger(path: path)) }
        #expect(refused?.code == .ledgerDamaged)
        #expect(try target.head().id == 0)
    }
}
