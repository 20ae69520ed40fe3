import Accounting
import BudgetLedger
import FederatedLearning
import Foundation
import Mechanisms
import PrivateTraining
import Testing
import _TestSupport

/// Records what a run reserves and commits.
final class RecordingCharger: BudgetCharger, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var reserved: [(DPEvent, PrivacyParameters)] = []
    private(set) var committed: [String] = []
    private(set) var refunded: [String] = []

    func reserve(event: DPEvent, cost: PrivacyParameters, analyst: String, purpose: String) throws -> Reservation {
        lock.withLock { reserved.append((event, cost)) }
        return try InsecureUnrecordedBudgetCharger().reserve(event: event, cost: cost, analyst: analyst, purpose: purpose)
    }
    func commit(_ reservation: Reservation, resultDigest: String) throws { lock.withLock { committed.append(resultDigest) } }
    func refund(_ reservation: Reservation, reason: String) throws { lock.withLock { refunded.append(reason) } }
    func checkBudget() throws {}
    var ledgerPath: String? { nil }
    var releaseNotes: [String] { [] }
}

/// An aggregator whose transport fails in round 2.
struct FailingAggregator: UpdateAggregator {
    var inner = PlainSumAggregator()
    var round = 0
    var addsNoise: Bool { false }
    mutating func beginRound(_ round: Int, dimension: Int) {
        self.round = round
        inner.beginRound(round, dimension: dimension)
    }
    mutating func accept(_ update: [Float], from client: Int) throws {
        if round == 2 { throw VeilError(.numerical, "transport failed") }
        try inner.accept(update, from: client)
    }
    mutating func finishRound() throws -> [Double] { try inner.finishRound() }
}

@Suite("Federated runs and the ledger")
struct FederatedRunTests {
    private func prepare(_ folder: URL, charger: RecordingCharger, rounds: Int = 3) throws -> FederatedRun {
        try FederatedTestData.writeCSV(rows: 300, in: folder)
        let yaml = FederatedTestData.pipeline(folder: folder, clients: 100, perRound: 50, rounds: rounds)
        let pipeline = try FederatedPipeline.parse(yaml: yaml, baseDirectory: folder.path)
        return try FederatedRun.prepare(pipeline: pipeline, source: "test", analyst: "a", charger: { _ in charger })
    }

    @Test("every few rounds a report carries the model's test accuracy; the last one is the final evaluation's")
    func evaluationInterval() throws {
        let folder = try TemporaryDirectory.make("fed-run-eval")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try prepare(folder, charger: RecordingCharger(), rounds: 5)
        var aggregator = PlainSumAggregator()
        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        var reports: [FederatedProgress] = []
        let release = try run.execute(aggregator: &aggregator, privacyRandom: &privacy, orderRandom: &order,
                                      progressInterval: 5, evaluationInterval: 2) { reports.append($0) }
        // Rounds 2 and 4 (evaluation) and 5 (the last, both).
        #expect(reports.map(\.round) == [2, 4, 5])
        #expect(reports.allSatisfy { $0.testAccuracy != nil })
        #expect(reports.last?.testAccuracy == release.evaluation?.accuracy)
        // Without an interval no report evaluates.
        var plain: [FederatedProgress] = []
        var again = PlainSumAggregator()
        _ = try run.execute(aggregator: &again, privacyRandom: &privacy, orderRandom: &order) { plain.append($0) }
        #expect(plain.count == 5 && plain.allSatisfy { $0.testAccuracy == nil })
        #expect(throws: VeilError.self) {
            _ = try run.execute(aggregator: &again, privacyRandom: &privacy, orderRandom: &order, evaluationInterval: 0)
        }
    }

    @Test("the whole planned run is reserved before round 1 and committed with the model file's digest")
    func reserveAndCommit() throws {
        let folder = try TemporaryDirectory.make("fed-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let charger = RecordingCharger()
        let run = try prepare(folder, charger: charger)
        #expect(charger.reserved.isEmpty, "prepare reserves nothing")
        var aggregator = PlainSumAggregator()
        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        var reportsSeen = 0
        let release = try run.execute(aggregator: &aggregator, privacyRandom: &privacy, orderRandom: &order) { _ in
            #expect(charger.reserved.count == 1, "reserved before any round reports")
            reportsSeen += 1
        }
        #expect(reportsSeen == 3)
        let (event, cost) = try #require(charger.reserved.first)
        #expect(event == run.plan.event(rounds: 3))
        #expect(cost.epsilon == run.plan.plannedEpsilon)
        #expect(charger.committed == ["sha256:" + release.modelDigest])
        let card = try SafetensorsFile.read(path: release.modelPath).card
        #expect(card.privacyUnit.hasPrefix("one client"))
        #expect(card.declaredDatasetSize == 100 && card.steps == 3 && card.samplingRate == 0.5)
        #expect(card.noiseMultiplier == run.plan.noiseMultiplier && card.clipNorm == 1)
    }

    @Test("a run that stops after the reservation commits the whole reservation, never refunds it")
    func earlyStop() throws {
        let folder = try TemporaryDirectory.make("fed-stop")
        defer { try? FileManager.default.removeItem(at: folder) }
        let charger = RecordingCharger()
        let run = try prepare(folder, charger: charger)
        var aggregator = FailingAggregator()
        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        #expect(throws: VeilError.self) {
            try run.execute(aggregator: &aggregator, privacyRandom: &privacy, orderRandom: &order)
        }
        #expect(charger.reserved.count == 1)
        #expect(charger.committed.count == 1 && charger.committed[0].hasPrefix("stopped-early"))
        #expect(charger.refunded.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path))
    }
}
