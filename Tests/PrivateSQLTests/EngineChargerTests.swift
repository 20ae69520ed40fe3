import _TestSupport
import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import Testing
@testable import PrivateSQL

/// Records every verb the engine calls; reservations come from the unrecorded charger.
final class RecordingBudgetCharger: BudgetCharger, @unchecked Sendable {
    enum Call: Equatable { case reserve(epsilon: Double, delta: Double), commit(digest: String), refund }
    private let lock = NSLock()
    private(set) var calls: [Call] = []
    private(set) var reservedEvents: [DPEvent] = []

    func reserve(event: DPEvent, cost: PrivacyParameters, analyst: String, purpose: String) throws -> Reservation {
        lock.withLock {
            calls.append(.reserve(epsilon: cost.epsilon, delta: cost.delta))
            reservedEvents.append(event)
        }
        return try InsecureUnrecordedBudgetCharger().reserve(event: event, cost: cost, analyst: analyst, purpose: purpose)
    }
    func commit(_ reservation: Reservation, resultDigest: String) throws { lock.withLock { calls.append(.commit(digest: resultDigest)) } }
    func refund(_ reservation: Reservation, reason: String) throws { lock.withLock { calls.append(.refund) } }
    func checkBudget() throws {}
    var ledgerPath: String? { nil }
    var releaseNotes: [String] { [] }
}

/// The engine charges through any ``BudgetCharger``, with the ledger's verbs and refund rules (docs/design.md §2 rule 3).
@Suite("Private query engine: any budget charger")
struct EngineChargerTests {
    @Test("a release: one reservation of the plan's cost and event, then a commit with the release's digest")
    func release() throws {
        let database = try TemporaryDatabase()
        try makeVisits(database, (1...40).map { ($0, 1984, 1, 1.0, 0, "north") })
        let charger = RecordingBudgetCharger()
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: database.url.path, charger: charger)
        let plan = try engine.plan("SELECT COUNT(*) FROM visits", budget: try PrivacyParameters(epsilon: 0.5))
        var source = InsecureSeededRandomSource(seed: 3)
        let release = try engine.execute(plan, analyst: "ana", using: &source)
        #expect(charger.calls == [.reserve(epsilon: 0.5, delta: 0), .commit(digest: release.resultDigest)])
        #expect(charger.reservedEvents == [plan.cost])
    }

    @Test("a database that cannot be used reserves nothing; a failure after the data was read is committed, never refunded")
    func failures() throws {
        let charger = RecordingBudgetCharger()
        let missing = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: "/nonexistent/veil.sqlite",
                                         charger: charger)
        let plan = try missing.plan("SELECT COUNT(*) FROM visits", budget: try PrivacyParameters(epsilon: 0.25))
        #expect(throws: VeilError.self) { try missing.execute(plan, analyst: "ana") }
        #expect(charger.calls.isEmpty)

        let endless = try endlessVisitsDatabase()
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: endless.url.path, charger: charger,
                                        timeLimit: .milliseconds(200))
        let error = #expect(throws: VeilError.self) { try engine.execute(plan, analyst: "ana") }
        #expect(error?.code == .queryTimeout)
        #expect(charger.calls == [.reserve(epsilon: 0.25, delta: 0),
                                  .commit(digest: PrivateQueryRelease.digest(Data(#"{"failure":"query_timeout"}"#.utf8)))])
    }
}
