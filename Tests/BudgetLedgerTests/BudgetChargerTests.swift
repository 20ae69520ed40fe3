import _TestSupport
import Accounting
import Foundation
import Testing
@testable import BudgetLedger

@Suite("Budget chargers")
struct BudgetChargerTests {
    @Test("the ledger-backed charger reserves, commits and refunds on its own scope, one ledger entry per verb")
    func ledgerCharger() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path, epsilon: 1, delta: 1e-6)
        try ledger.createBudget(scope: "other", epsilon: 1, delta: 0, composition: .basic)
        let charger: any BudgetCharger = LedgerBudgetCharger(ledger: ledger, scope: "panel")
        try charger.checkBudget()
        let (event, cost) = try pure(0.25)
        let kept = try charger.reserve(event: event, cost: cost, analyst: "ana", purpose: "counts")
        let given = try charger.reserve(event: event, cost: cost, analyst: "bob", purpose: "means")
        #expect(kept.scope == "panel" && kept.cost == cost && kept.analyst == "ana" && kept.purpose == "counts")
        try charger.commit(kept, resultDigest: "sha256:aa")
        try charger.refund(given, reason: "failed before any data was read")
        let charges = try ledger.charges(scope: "panel")
        #expect(charges.map(\.state) == [.committed, .refunded])
        #expect(charges[0].resultDigest == "sha256:aa")
        #expect(charges[1].note == "failed before any data was read")
        #expect(try ledger.charges(scope: "other").isEmpty)
        #expect(charger.entryReference(for: kept) == "\(path)#\(kept.id)")
        #expect(charger.ledgerPath == path && charger.releaseNotes.isEmpty)
        // A committed release can never be refunded through the charger either.
        let refundCommitted = #expect(throws: VeilError.self) { try charger.refund(kept, reason: "oops") }
        #expect(refundCommitted?.code == .ledgerConflict)
        #expect(try ledger.verify().isValid)
    }

    @Test("a charger for a scope without a budget: checkBudget and reserve refuse, reserve names the command to run")
    func missingScope() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let ledger = try makeLedger(path)
        let charger = LedgerBudgetCharger(ledger: ledger, scope: "nosuch")
        let before = try ledger.head()
        let checked = #expect(throws: VeilError.self) { try charger.checkBudget() }
        #expect(checked?.code == .unknownScope)
        #expect(checked?.message == "no budget named \"nosuch\" in the ledger (create it with `veil budget create`)")
        let (event, cost) = try pure(0.1)
        let reserved = #expect(throws: VeilError.self) {
            try charger.reserve(event: event, cost: cost, analyst: "ana", purpose: "p")
        }
        #expect(reserved?.code == .unknownScope)
        #expect(reserved?.message == "no budget named \"nosuch\" in the ledger \(path); create it first, e.g. "
                + "`veil budget create nosuch --epsilon 3 --delta 1e-5 --ledger \(path)`")
        #expect(try ledger.head() == before)
    }

    @Test("the unrecorded charger records nothing and says so in what it releases")
    func unrecordedCharger() throws {
        let charger: any BudgetCharger = InsecureUnrecordedBudgetCharger()
        let (event, cost) = try pure(1e5)
        let reservation = try charger.reserve(event: event, cost: cost, analyst: "a", purpose: "p")
        #expect(reservation.id == 0 && reservation.scope == InsecureUnrecordedBudgetCharger.scope)
        #expect(reservation.cost == cost && reservation.event == event)
        try charger.commit(reservation, resultDigest: "d")
        try charger.refund(reservation, reason: "r")
        #expect(charger.ledgerPath == nil && charger.entryReference(for: reservation) == nil)
        #expect(charger.releaseNotes == [InsecureUnrecordedBudgetCharger.cardNote])
    }
}
