import Accounting
import Foundation
import _TestSupport
import Testing
@testable import BudgetLedger

/// An `rdp` or `zcdp` charge adds its event to the scope's stored composed state (format 3) instead
/// of recomposing every earlier event; the state is bound to the chain by the `state_digest` of the
/// scope's last `reserve` or `refund` entry.
@Suite("Composed state of rdp and zcdp scopes")
struct ComposedStateTests {
    /// The events the oracle sequences draw from: Gaussian and Laplace releases, a DP-SGD-like
    /// sampled Gaussian (refused under zcdp), approximate (ε, δ) releases, and a composition.
    private static let events: [DPEvent] = [
        .gaussian(noiseMultiplier: 12),
        .epsilonDelta(epsilon: 0.3, delta: 1e-7),
        .selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1.1)), count: 50),
        .laplace(noiseMultiplier: 9),
        .composed([.gaussian(noiseMultiplier: 20), .epsilonDelta(epsilon: 0.1, delta: 0)]),
        .epsilonDelta(epsilon: 0.45, delta: 0),
        .discreteGaussian(sigma: 15, sensitivity: 1),
    ]

    /// The stored state of `scope`, read back.
    private func storedState(_ ledger: Ledger, _ scope: String) throws -> String? {
        try ledger.read { db in try Ledger.storedComposition(db, scope: scope) }
    }

    @Test("charges and refusals are exactly those of a full recomposition",
          arguments: [CompositionRule.rdp, .zcdp], LedgerBackend.allCases)
    func sameDecisionsAsRecomposition(rule: CompositionRule, backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), scope: "s", epsilon: 2, delta: 1e-5, composition: rule)
        // The oracle: the events of the reservations not refunded, in order, composed from scratch
        // by the existing composition code at every step.
        var active: [(reservation: Reservation, event: DPEvent, committed: Bool)] = []
        var accepted = 0
        var refused = 0
        var unsupported = 0
        var refunds = 0
        for step in 0..<70 {
            let open = active.indices.filter { !active[$0].committed }
            if step % 4 == 3, !open.isEmpty {
                // A refund in the middle of the history: its event leaves the composition.
                let index = open[(step * 5) % open.count]
                try ledger.refund(active.remove(at: index).reservation, reason: "nothing drawn")
                refunds += 1
            }
            let event = Self.events[(step * 3) % Self.events.count]
            let before = try CompositionAccounting.epsilon(of: active.map(\.event), rule: rule, delta: 1e-5)
            let after: Double
            do {
                after = try CompositionAccounting.epsilon(of: active.map(\.event) + [event], rule: rule, delta: 1e-5)
            } catch let expected as VeilError {
                let error = #expect(throws: VeilError.self) {
                    try ledger.reserve(event: event, cost: PrivacyParameters.cost(epsilon: 1, delta: 0), scope: "s", analyst: "a", purpose: "p")
                }
                #expect(error?.code == expected.code)
                unsupported += 1
                continue
            }
            if after <= 2 + CompositionAccounting.tolerance {
                let reservation = try ledger.reserve(event: event, cost: PrivacyParameters.cost(epsilon: 1, delta: 0),
                                                     scope: "s", analyst: "a", purpose: "p")
                let commits = step % 3 == 0
                if commits { try ledger.commit(reservation, resultDigest: "d\(step)") }
                active.append((reservation, event, commits))
                accepted += 1
            } else {
                let error = #expect(throws: VeilError.self) {
                    try ledger.reserve(event: event, cost: PrivacyParameters.cost(epsilon: 1, delta: 0), scope: "s", analyst: "a", purpose: "p")
                }
                #expect(error?.code == .budgetExhausted)
                #expect(error?.message.contains("budget exhausted: ε \(max(0, 2 - before)) remaining") == true,
                        "\(error?.message ?? "")")
                if after.isFinite {
                    #expect(error?.message.contains("would bring ε to \(after) of 2.0") == true, "\(error?.message ?? "")")
                }
                refused += 1
            }
            // The stored state is, bit for bit, the recomposition of the remaining events.
            var oracle = RenyiComposition(rule: rule)
            for charge in active { try oracle.add(charge.event) }
            #expect(try storedState(ledger, "s") == (accepted == 0 ? nil : ComposedState.text(of: oracle)))
            let status = try ledger.status(scope: "s")
            #expect(status.epsilonRemaining == max(0, 2 - (try oracle.epsilon(delta: 1e-5))))
        }
        // The sequence exercises every path.
        #expect(accepted >= 10 && refused >= 5 && refunds >= 5)
        #expect(unsupported > 0 || rule == .rdp)
        #expect(try ledger.verify().isValid)
        if backend == .sqlite {   // the independent Python verifier reads files
            #expect(try runLedgerVerifier(ledger.path).status == 0)
        }
    }

    @Test("a stored state edited with sqlite3 stops the next charge (exit 1) and verify reports it")
    func tamperedState() throws {
        let folder = try TemporaryFolder()
        let ledger = folder.path("l.sqlite")
        #expect(try runVeil(["budget", "create", "m", "--epsilon", "3", "--delta", "1e-5", "--composition", "rdp", "--ledger", ledger]).status == 0)
        let charge = ["budget", "charge", "m", "--epsilon", "1", "--analyst", "a", "--purpose", "p", "--ledger", ledger]
        #expect(try runVeil(charge).status == 0)
        #expect(try runVeil(charge).status == 0)
        #expect(try runVeil(["budget", "verify", "--ledger", ledger]).status == 0)
        // Someone resets the state to "nothing spent", which would let charges overspend.
        let empty = ComposedState.text(of: RenyiComposition(rule: .rdp))
        #expect(try sqlite3(ledger, "UPDATE scope_composition SET state = '\(empty)' WHERE scope = 'm';") == 0)
        let head = try runVeil(["budget", "head", "--ledger", ledger]).stdout
        let refused = try runVeil(charge)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the composed state of m does not match the ledger's hash chain"), "\(refused.stderr)")
        #expect(refused.stderr.filter { $0 == "\n" }.count == 1)
        #expect(try runVeil(["budget", "head", "--ledger", ledger]).stdout == head)
        let verify = try runVeil(["budget", "verify", "--ledger", ledger])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("the stored composed state of m does not match its entries"), "\(verify.stderr)")
    }

    @Test("verify reports an entry whose state digest does not match the events (hash redone)")
    func forgedDigest() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path, scope: "z", epsilon: 3, delta: 1e-5, composition: .zcdp)
        _ = try ledger.reserve(event: .gaussian(noiseMultiplier: 4), cost: PrivacyParameters.cost(epsilon: 1, delta: 0),
                               scope: "z", analyst: "a", purpose: "p")
        // Rewrite the head entry with the digest of an empty state and a matching hash.
        let entry = try #require(try ledger.entries(scope: "z").last)
        let forged = LedgerEntry(id: entry.id, kind: entry.kind, timeMilliseconds: entry.timeMilliseconds, scope: entry.scope,
                                 analyst: entry.analyst, purpose: entry.purpose, event: entry.event, epsilon: entry.epsilon,
                                 delta: entry.delta, epsilonUnits: entry.epsilonUnits, deltaUnits: entry.deltaUnits,
                                 totalEpsilonUnits: entry.totalEpsilonUnits, totalDeltaUnits: entry.totalDeltaUnits,
                                 stateDigest: ComposedState.digest(of: RenyiComposition(rule: .zcdp)),
                                 previousHash: entry.previousHash)
        #expect(try sqlite3(path, """
            DROP TRIGGER entry_append_only_update;
            UPDATE entry SET state_digest = '\(forged.stateDigest!)', hash = '\(forged.hash)' WHERE id = \(entry.id);
            """) == 0)
        let result = try ledger.verify()
        #expect(!result.isValid)
        #expect(result.firstInvalidEntry == entry.id)
        #expect(result.problem?.contains("the composed state it records does not match the events of z") == true)
    }

    @Test("an rdp scope of a format-1 ledger is recomposed once, then charged from its recorded state")
    func formatOneScope() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("format1.sqlite")
        let dump = try String(contentsOf: RepositoryFolder.scripts.appendingPathComponent("testdata/format1-ledger.sql"), encoding: .utf8)
        #expect(try sqlite3(path, dump) == 0)
        let ledger = try Ledger(path: path)
        #expect(try storedState(ledger, "model") == nil)
        // "model" (rdp, ε 8, δ 1e-5) holds one committed pure ε = 1 release from format 1.
        let (event, cost) = try pure(1)
        _ = try ledger.reserve(event: event, cost: cost, scope: "model", analyst: "a", purpose: "p")
        var oracle = RenyiComposition(rule: .rdp)
        try oracle.add(event)
        try oracle.add(event)
        #expect(try storedState(ledger, "model") == ComposedState.text(of: oracle))
        let last = try #require(try ledger.entries(scope: "model").last)
        #expect(last.stateDigest == ComposedState.digest(of: oracle))
        #expect(try ledger.verify().isValid)
        #expect(try runLedgerVerifier(path).status == 0)
    }
}
