import _TestSupport
import Accounting
import Foundation
import Testing
@testable import BudgetLedger

@Suite("Charging protocol")
struct ChargingProtocolTests {
    @Test("reserve, commit and refund move budget between spent, reserved and remaining", arguments: LedgerBackend.allCases)
    func lifecycle(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 1, delta: 1e-6)
        let (event, cost) = try pure(0.25)
        let a = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "counts")
        let b = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "bob", purpose: "means")
        var status = try ledger.status(scope: "panel")
        #expect(status.epsilonReserved == 0.5)
        #expect(status.epsilonRemaining == 0.5)
        try ledger.commit(a, resultDigest: "sha256:aa")
        try ledger.refund(b, reason: "query failed before noise")
        status = try ledger.status(scope: "panel")
        #expect(status.epsilonSpent == 0.25)
        #expect(status.epsilonReserved == 0)
        #expect(status.epsilonRemaining == 0.75)
        #expect(status.deltaRemaining == 1e-6)
        #expect(status.committed == 1 && status.refunded == 1 && status.open == 0)
        #expect(status.analysts.map(\.analyst) == ["ana"])

        // A committed reservation released a result: it can never be refunded.
        let refundCommitted = #expect(throws: VeilError.self) { try ledger.refund(a, reason: "oops") }
        #expect(refundCommitted?.code == .ledgerConflict)
        #expect(throws: VeilError.self) { try ledger.commit(a, resultDigest: "again") }
        #expect(throws: VeilError.self) { try ledger.commit(b, resultDigest: "after refund") }
        #expect(try ledger.verify().isValid)
    }

    @Test("a charge past the limit is refused with what is left, and nothing is recorded", arguments: LedgerBackend.allCases)
    func exhaustion(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 1, delta: 1e-6)
        let (event, cost) = try pure(0.4)
        _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", resultDigest: "d")
        _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", resultDigest: "d")
        let headBefore = try ledger.head()
        let error = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p")
        }
        #expect(error?.code == .budgetExhausted)
        #expect(error?.message.hasPrefix("budget exhausted: ε 0.2, δ 0.000001 remaining") == true)
        #expect(try ledger.head() == headBefore)
        // δ is limited too.
        let deltaError = #expect(throws: VeilError.self) {
            try ledger.reserve(event: .epsilonDelta(epsilon: 0.1, delta: 2e-6), cost: PrivacyParameters.cost(epsilon: 0.1, delta: 2e-6),
                               scope: "panel", analyst: "ana", purpose: "p")
        }
        #expect(deltaError?.code == .budgetExhausted)
    }

    @Test("an open reservation counts as spent until an operator resolves it", arguments: LedgerBackend.allCases)
    func openReservationCounts(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 1, delta: 0)
        let (event, cost) = try pure(0.6)
        let crashed = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p")
        #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "bob", purpose: "p")
        }
        #expect(try ledger.openReservations().map(\.reservation.id) == [crashed.id])
        try ledger.resolve(reservationID: crashed.id, as: .refund, resultDigest: nil, note: "no result was released")
        _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "bob", purpose: "p")
        #expect(throws: VeilError.self) {
            try ledger.resolve(reservationID: 999, as: .commit, resultDigest: nil, note: nil)
        }
    }

    @Test("bad inputs are refused before anything is written", arguments: LedgerBackend.allCases)
    func badInputs(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder))
        let head = try ledger.head()
        let (event, cost) = try pure(0.1)
        #expect(throws: VeilError.self) { try PrivacyParameters.cost(epsilon: -1, delta: 0) }
        #expect(throws: VeilError.self) { try PrivacyParameters.cost(epsilon: .nan, delta: 0) }
        #expect(throws: VeilError.self) { try PrivacyParameters.cost(epsilon: 1, delta: 1) }
        #expect(throws: VeilError.self) { try Budget(scope: "bad scope", epsilon: 1, delta: 0, composition: .basic) }
        #expect(throws: VeilError.self) { try Budget(scope: "s", epsilon: 1, delta: 0, composition: .rdp) }
        let unknown = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "nope", analyst: "a", purpose: "p")
        }
        #expect(unknown?.code == .unknownScope)
        #expect(throws: VeilError.self) {
            try ledger.reserve(event: .gaussian(noiseMultiplier: -1), cost: cost, scope: "panel", analyst: "a", purpose: "p")
        }
        #expect(throws: VeilError.self) { try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: " ", purpose: "p") }
        let duplicate = #expect(throws: VeilError.self) {
            try ledger.createBudget(scope: "panel", epsilon: 1, delta: 0, composition: .basic)
        }
        #expect(duplicate?.code == .ledgerConflict)
        #expect(try ledger.head() == head)
    }

    @Test("an analyst or purpose holding NUL is bad input on both stores, refused before anything is written",
          arguments: LedgerBackend.allCases)
    func nulInNames(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder))
        let head = try ledger.head()
        let (event, cost) = try pure(0.1)
        for (analyst, purpose) in [("ana\u{0}eve", "p"), ("\u{0}", "p"), ("ana", "weekly\u{0}counts")] {
            let refused = #expect(throws: VeilError.self) {
                try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: analyst, purpose: purpose)
            }
            #expect(refused?.code == .invalidParameter)
            #expect(refused?.message.contains("without the character NUL") == true)
        }
        let lookup = #expect(throws: VeilError.self) { try ledger.spending(scope: "panel", analyst: "ana\u{0}") }
        #expect(lookup?.code == .invalidParameter)
        #expect(try ledger.head() == head)
        // The name without the NUL is an ordinary analyst.
        _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "anaeve", purpose: "p", resultDigest: "d")
        #expect(try ledger.spending(scope: "panel", analyst: "anaeve").charges == 1)
    }

    @Test("a hundred sequential charges of 0.1 fit a budget of 10 and the next is refused", arguments: LedgerBackend.allCases)
    func exactHundred(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 10, delta: 0)
        let (event, cost) = try pure(0.1)
        for _ in 0..<100 {
            _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p", resultDigest: "d")
        }
        let error = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p")
        }
        #expect(error?.message.hasPrefix("budget exhausted: ε 0, δ 0 remaining") == true)
        let status = try ledger.status(scope: "panel")
        #expect(status.epsilonSpent == 10 && status.epsilonRemaining == 0)
    }
}

@Suite("Composition rules")
struct CompositionRuleTests {
    @Test("rdp budgets compose stored events with the RDP accountant at the budget's δ", arguments: LedgerBackend.allCases)
    func rdp(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 3, delta: 1e-6, composition: .rdp)
        let gaussian = DPEvent.gaussian(noiseMultiplier: 4)
        let declared = try PrivacyParameters.cost(epsilon: 1.2, delta: 1e-7)
        var count = 0
        while true {
            do {
                let r = try ledger.reserve(event: gaussian, cost: declared, scope: "panel", analyst: "ana", purpose: "p")
                try ledger.commit(r, resultDigest: "d")
                count += 1
            } catch let error as VeilError where error.code == .budgetExhausted {
                #expect(error.message.contains("remaining at δ 1e-06"))
                break
            }
        }
        let accountant = RDPAccountant()
        let spent = try accountant.epsilon(for: .selfComposed(event: gaussian, count: count), delta: 1e-6)
        let next = try accountant.epsilon(for: .selfComposed(event: gaussian, count: count + 1), delta: 1e-6)
        #expect(spent <= 3 && next > 3)
        // Far more Gaussian releases fit than basic composition of the declared ε would allow.
        #expect(count > 2)
        let status = try ledger.status(scope: "panel")
        #expect(abs(status.epsilonSpent - spent) < 1e-12)
        #expect(status.deltaSpent == 1e-6)
    }

    @Test("zcdp budgets sum ρ and convert at the budget's δ", arguments: LedgerBackend.allCases)
    func zcdp(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 2, delta: 1e-6, composition: .zcdp)
        let (event, cost) = try pure(0.3)
        _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "a", purpose: "p", resultDigest: "d")
        _ = try ledger.charge(event: .gaussian(noiseMultiplier: 5), cost: cost, scope: "panel", analyst: "b", purpose: "p", resultDigest: "d")
        let rho = 0.3 * 0.3 / 2 + 1 / (2 * 25.0)
        let status = try ledger.status(scope: "panel")
        #expect(abs(status.epsilonSpent - (try ZCDP.epsilon(rho: rho, delta: 1e-6))) < 1e-12)
        #expect(status.analysts.count == 2)
    }

    @Test("(ε, δ) events on rdp and zcdp budgets: the pure part composes, the δs are paid out of the budget's δ", arguments: LedgerBackend.allCases)
    func approximateDPComposes(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        for rule in [CompositionRule.rdp, .zcdp] {
            let ledger = try makeLedger(try backend.freshLocation(in: folder, name: "\(rule).sqlite"), epsilon: 5, delta: 1e-6, composition: rule)
            let event = DPEvent.composed([.laplace(noiseMultiplier: 2), .epsilonDelta(epsilon: 0.5, delta: 1e-8)])
            _ = try ledger.charge(event: event, cost: PrivacyParameters.cost(epsilon: 1, delta: 1e-8), scope: "panel",
                                  analyst: "a", purpose: "p", resultDigest: "d")
            let pureParts = DPEvent.composed([.laplace(noiseMultiplier: 2), .epsilonDelta(epsilon: 0.5, delta: 0)])
            let expected = rule == .rdp
                ? try RDPAccountant().epsilon(for: pureParts, delta: 1e-6 - 1e-8)
                : try ZCDP.epsilon(rho: try ZCDP.rho(for: pureParts), delta: 1e-6 - 1e-8)
            let status = try ledger.status(scope: "panel")
            #expect(abs(status.epsilonSpent - expected) < 1e-12)
            // Converting at the full δ would have given less: the additive δ is really paid for.
            let atFullDelta = rule == .rdp
                ? try RDPAccountant().epsilon(for: pureParts, delta: 1e-6)
                : try ZCDP.epsilon(rho: try ZCDP.rho(for: pureParts), delta: 1e-6)
            #expect(status.epsilonSpent > atFullDelta)

            // δ-only events (partition selection) use up δ: 6e-7 fits once in 1e-6 (with 1e-8 spent), not twice.
            let selection = DPEvent.epsilonDelta(epsilon: 0, delta: 6e-7)
            _ = try ledger.charge(event: selection, cost: PrivacyParameters.cost(epsilon: 0, delta: 6e-7), scope: "panel",
                                  analyst: "a", purpose: "p", resultDigest: "d")
            let exhausted = #expect(throws: VeilError.self) {
                try ledger.reserve(event: selection, cost: PrivacyParameters.cost(epsilon: 0, delta: 6e-7), scope: "panel",
                                   analyst: "a", purpose: "p")
            }
            #expect(exhausted?.code == .budgetExhausted)
            #expect(exhausted?.message.contains("leaving nothing of δ") == true)

            // Under Poisson sampling an (ε, δ) event is not accounted: refused.
            let sampled = DPEvent.poissonSampled(samplingRate: 0.1, event: .epsilonDelta(epsilon: 1, delta: 1e-9))
            let unsupported = #expect(throws: VeilError.self) {
                try ledger.reserve(event: sampled, cost: PrivacyParameters.cost(epsilon: 1, delta: 1e-9), scope: "panel",
                                   analyst: "a", purpose: "p")
            }
            #expect(unsupported?.code == .unsupported)
        }
    }
}

@Suite("Concurrent charges in one process")
struct InProcessConcurrencyTests {
    @Test("8 threads with their own connections never overspend", arguments: LedgerBackend.allCases)
    func threads(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let path = try backend.freshLocation(in: folder)
        try makeLedger(path, epsilon: 10, delta: 0)
        let results = ResultCounter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let ledger = try? Ledger.open(location: path), let (event, cost) = try? pure(0.1) else {
                results.add(failure: true)
                return
            }
            for _ in 0..<16 {
                do {
                    _ = try ledger.charge(event: event, cost: cost, scope: "panel", analyst: "t", purpose: "p", resultDigest: "d")
                    results.add(success: true)
                } catch let error as VeilError where error.code == .budgetExhausted {
                    results.add(refused: true)
                } catch {
                    results.add(failure: true)
                }
            }
        }
        let (successes, refusals, failures) = results.counts
        #expect(successes == 100)
        #expect(refusals == 28)
        #expect(failures == 0)
        let ledger = try Ledger.open(location: path)
        #expect(try ledger.verify().isValid)
        #expect(try ledger.status(scope: "panel").epsilonRemaining == 0)
    }
}

/// Thread-safe tallies of the concurrency test.
final class ResultCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var successes = 0, refusals = 0, failures = 0

    func add(success: Bool = false, refused: Bool = false, failure: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        if success { successes += 1 }
        if refused { refusals += 1 }
        if failure { failures += 1 }
    }

    var counts: (Int, Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        return (successes, refusals, failures)
    }
}
