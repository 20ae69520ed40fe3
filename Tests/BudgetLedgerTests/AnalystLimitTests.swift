import _TestSupport
import Accounting
import Foundation
import Testing
@testable import BudgetLedger

@Suite("Per-analyst limits inside a budget")
struct AnalystLimitTests {
    @Test("a charge past the analyst's limit is refused while the scope still has budget; other analysts are unaffected", arguments: LedgerBackend.allCases)
    func analystLimitBeforeScopeLimit(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 10, delta: 0)
        let limit = try AnalystLimit(epsilon: 1, delta: 0)
        let (event, cost) = try pure(0.4)
        for _ in 0..<2 {
            _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        }
        let before = try ledger.head()
        let refused = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        }
        #expect(refused?.code == .budgetExhausted)
        #expect(refused?.message == "analyst budget exhausted: ε 0.2, δ 0 remaining for ana in panel (this charge needs ε 0.4, δ 0.0)")
        #expect(try ledger.head() == before)   // nothing appended
        #expect(try ledger.status(scope: "panel").epsilonRemaining > 9)
        // Another analyst with the same limit still can; without a limit the scope's budget is the only bound.
        _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "bob", purpose: "p", analystLimit: limit)
        _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p")
        #expect(try ledger.verify().isValid)
    }

    @Test("refunded reservations give the analyst's share back; open and committed ones count; spending reports it", arguments: LedgerBackend.allCases)
    func refundsAndSpending(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 10, delta: 1e-6)
        let limit = try AnalystLimit(epsilon: 1, delta: 1e-7)
        let (event, cost) = try pure(0.5)
        let committed = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        try ledger.commit(committed, resultDigest: "sha256:00")
        let refunded = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        try ledger.refund(refunded, reason: "nothing read")
        _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        let spending = try ledger.spending(scope: "panel", analyst: "ana")
        #expect(spending == AnalystSpending(scope: "panel", analyst: "ana", epsilon: 1, delta: 0, charges: 2))
        #expect(try ledger.spending(scope: "panel", analyst: "bob").charges == 0)
        #expect(throws: VeilError.self) { try ledger.spending(scope: "nosuch", analyst: "ana") }
        // The δ limit binds too.
        let gaussian = try PrivacyParameters.cost(epsilon: 0.01, delta: 2e-7)
        let refused = #expect(throws: VeilError.self) {
            try ledger.reserve(event: .epsilonDelta(epsilon: 0.01, delta: 2e-7), cost: gaussian, scope: "panel",
                               analyst: "bob", purpose: "p", analystLimit: limit)
        }
        #expect(refused?.code == .budgetExhausted)
    }

    @Test("the scope's limit still binds when the analyst's limit is larger", arguments: LedgerBackend.allCases)
    func scopeLimitStillBinds(_ backend: LedgerBackend) throws {
        let folder = try TemporaryFolder()
        let ledger = try makeLedger(try backend.freshLocation(in: folder), epsilon: 1, delta: 0)
        let limit = try AnalystLimit(epsilon: 5, delta: 0)
        let (event, cost) = try pure(0.6)
        _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        let refused = #expect(throws: VeilError.self) {
            try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        }
        #expect(refused?.message.hasPrefix("budget exhausted: ε 0.4, δ 0 remaining in panel") == true)
    }

    @Test("8 analysts racing one analyst limit through separate connections never overspend it",
          arguments: LedgerBackend.allCases)
    func racingReservations(_ backend: LedgerBackend) async throws {
        let folder = try TemporaryFolder()
        let path = try backend.freshLocation(in: folder)
        _ = try makeLedger(path, epsilon: 100, delta: 0)
        let limit = try AnalystLimit(epsilon: 1, delta: 0)
        let granted = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let ledger = try Ledger.open(location: path, durability: .normal)
                    let (event, cost) = try pure(0.1)
                    var count = 0
                    for _ in 0..<4 {
                        do {
                            _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p",
                                                   analystLimit: limit)
                            count += 1
                        } catch let error as VeilError where error.code == .budgetExhausted {}
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(granted == 10)   // exactly ten charges of 0.1 fit a limit of 1 (fixed-point sums are exact)
        #expect(try Ledger.open(location: path).spending(scope: "panel", analyst: "ana").epsilon == 1)
    }

    @Test("limits are validated")
    func validation() {
        #expect(throws: VeilError.self) { try AnalystLimit(epsilon: 0, delta: 0) }
        #expect(throws: VeilError.self) { try AnalystLimit(epsilon: .nan, delta: 0) }
        #expect(throws: VeilError.self) { try AnalystLimit(epsilon: 1, delta: 1) }
    }
}
