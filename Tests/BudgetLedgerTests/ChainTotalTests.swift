import _TestSupport
import Foundation
import Mechanisms
import Testing
@testable import BudgetLedger

/// A charge adds to the running total that the hash chain records, not to the `scope_total` cache
/// alone: a cache edited with `sqlite3` (no trigger guards it) must stop charges, not let them
/// overspend until a later `verify`.
@Suite("Running totals checked against the chain")
struct ChainTotalTests {
    /// A ledger written by format 1 (no recorded totals), restored from its `sqlite3 .dump`.
    private func formatOneLedger(_ folder: TemporaryFolder) throws -> String {
        let path = folder.path("format1.sqlite")
        let dump = try String(contentsOf: RepositoryFolder.scripts.appendingPathComponent("testdata/format1-ledger.sql"),
                              encoding: .utf8)
        #expect(try sqlite3(path, dump) == 0)
        return path
    }

    @Test("a charge is refused when the cached total was lowered; nothing is appended")
    func loweredCache() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path, epsilon: 10)
        let (event, cost) = try pure(6)
        _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p", resultDigest: "d")
        #expect(try sqlite3(path, "UPDATE scope_total SET epsilon_units = 0;") == 0)
        let head = try ledger.head()
        // Before the fix the cache said 0 spent and this charge of 6 went through (12 of 10).
        let error = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "b", purpose: "q")
        }
        #expect(error?.code == .ledgerDamaged)
        #expect(error?.message.contains("does not match the ledger's hash chain") == true)
        #expect(error?.message.contains("veil budget verify") == true)
        #expect(try ledger.head() == head)
    }

    @Test("a refund is refused too when the cache disagrees; the reservation stays open (spent)")
    func refundWithLoweredCache() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path, epsilon: 10)
        let (event, cost) = try pure(4)
        let reservation = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p")
        #expect(try sqlite3(path, "UPDATE scope_total SET epsilon_units = 1;") == 0)
        let error = #expect(throws: VeilError.self) { try ledger.refund(reservation, reason: "nothing drawn") }
        #expect(error?.code == .ledgerDamaged)
        #expect(try ledger.status(scope: "panel").open == 1)
    }

    @Test("a last entry whose recorded total was edited (hash not redone) stops charges")
    func editedLastEntry() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path, epsilon: 10)
        let (event, cost) = try pure(6)
        _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p")
        #expect(try sqlite3(path, """
            DROP TRIGGER entry_append_only_update;
            UPDATE entry SET total_epsilon_units = 0 WHERE id = 2;
            UPDATE scope_total SET epsilon_units = 0;
            """) == 0)
        let error = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "b", purpose: "q")
        }
        #expect(error?.code == .ledgerDamaged)
        #expect(error?.message.contains("entry 2 does not match its hash") == true)
    }

    @Test("reserve and refund entries record the running total after them; verify checks it")
    func recordedTotals() throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(folder.path("l.sqlite"), epsilon: 10, delta: 1e-6)
        let a = try ledger.reserve(event: .epsilonDelta(epsilon: 0.25, delta: 1e-7), cost: PrivacyParameters.cost(epsilon: 0.25, delta: 1e-7),
                                   scope: "panel", analyst: "a", purpose: "p")
        let b = try ledger.reserve(event: .epsilonDelta(epsilon: 0.5, delta: 0), cost: PrivacyParameters.cost(epsilon: 0.5, delta: 0),
                                   scope: "panel", analyst: "a", purpose: "p")
        try ledger.commit(a, resultDigest: "d")
        try ledger.refund(b, reason: "r")
        let entries = try ledger.entries(scope: "panel")
        #expect(entries.map(\.totalEpsilonUnits) == [nil, 250_000_000_000, 750_000_000_000, nil, 250_000_000_000])
        #expect(entries.map(\.totalDeltaUnits) == [nil, 100_000_000_000, 100_000_000_000, nil, 100_000_000_000])
        #expect(try ledger.verify().isValid)
    }

    @Test("a format-1 ledger opens, verifies in Swift and Python, and charges continue with recorded totals")
    func formatOne() throws {
        let folder = try TemporaryFolder()
        let path = try formatOneLedger(folder)
        let ledger = try Ledger(path: path)
        let before = try ledger.verify()
        #expect(before.isValid)
        #expect(before.entryCount == 10)
        #expect(before.headHash == "5ff99cf1360687921b16ba95c6b4ad4d9d062aa0c4caa4acf8622b1aff19b721")
        // panel: ε 10, committed 2 + 0.5, refunded 3 → 7.5 left.
        let (big, bigCost) = try pure(7.6)
        #expect(throws: VeilError.self) {
            try ledger.reserve(event: big, cost: bigCost, scope: "panel", analyst: "a", purpose: "too much")
        }
        let (event, cost) = try pure(7.5)
        let reservation = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "the rest")
        let recorded = try #require(try ledger.entries(scope: "panel").last)
        #expect(recorded.id == reservation.id)
        #expect(recorded.totalEpsilonUnits == 10_000_000_000_000)
        #expect(recorded.totalDeltaUnits == 100_000_000_000)
        #expect(try ledger.verify().isValid)
        #expect(try runLedgerVerifier(path).status == 0)
    }

    @Test("a format-1 ledger whose cached total was lowered refuses charges as well")
    func formatOneLoweredCache() throws {
        let folder = try TemporaryFolder()
        let path = try formatOneLedger(folder)
        #expect(try sqlite3(path, "UPDATE scope_total SET epsilon_units = 0 WHERE scope = 'panel';") == 0)
        let ledger = try Ledger(path: path)
        let (event, cost) = try pure(5)
        let error = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p")
        }
        #expect(error?.code == .ledgerDamaged)
    }
}
