import Accounting
import FederatedLearning
import Foundation
import Mechanisms
import PrivateTraining
import SecureAggregation
import Testing
import _TestSupport

@Suite("Distributed discrete Gaussian in federated runs")
struct DistributedGaussianRoundTests {
    private func prepare(_ folder: URL, charger: RecordingCharger, clients: Int = 100, perRound: Int = 50,
                         rounds: Int = 3, epsilon: Double = 8) throws -> FederatedRun {
        try FederatedTestData.writeCSV(rows: 3000, in: folder)
        let yaml = FederatedTestData.pipeline(folder: folder, clients: clients, perRound: perRound, rounds: rounds,
                                              epsilon: epsilon, extraFederated: "  aggregation: ddg")
        let pipeline = try FederatedPipeline.parse(yaml: yaml, baseDirectory: folder.path)
        return try FederatedRun.prepare(pipeline: pipeline, source: "test", analyst: "a", charger: { _ in charger })
    }

    @Test("ε is the DDG accounting's for the plan's parameters, within the target, and the card and ledger say so")
    func epsilonIsTheAccountingsValue() throws {
        let folder = try TemporaryDirectory.make("fed-ddg-eps")
        defer { try? FileManager.default.removeItem(at: folder) }
        let charger = RecordingCharger()
        let run = try prepare(folder, charger: charger)
        let ddg = try #require(run.plan.distributedGaussian)
        #expect(charger.reserved.isEmpty, "calibrated before anything is reserved or run")
        // The same parameters through SecureAggregation's accounting, independently of the plan.
        let expected = try DistributedDiscreteGaussianAccounting(parameters: ddg.parameters, minimumClients: 25)
            .epsilon(delta: 1e-5, rounds: 3)
        #expect(ddg.minimumClients == 25 && ddg.parameters.clients == 100 && ddg.parameters.bitWidth == 32)
        #expect(run.plan.plannedEpsilon == expected)
        // Calibrated to the target: within it, and not needlessly below (bisection to 1e-12 relative in σ).
        #expect(expected <= 8 && expected > 7.99)
        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        let release = try run.execute(privacyRandom: &privacy, orderRandom: &order)
        #expect(release.epsilon == expected)
        let (event, cost) = try #require(charger.reserved.first)
        #expect(event == ddg.event(rounds: 3) && cost.epsilon == expected)
        // The ledger's Gaussian-equivalent event never charges less than the mechanism's ε.
        #expect(try RDPAccountant().epsilon(for: event, delta: 1e-5) >= expected * (1 - 1e-12))
        let card = try SafetensorsFile.read(path: release.modelPath).card
        #expect(card.accountant == "ddg" && card.epsilon == expected)
        #expect(card.noise?.hasPrefix("distributed discrete Gaussian with secure aggregation") == true)
        #expect(card.notes.contains { $0.contains("distributed discrete Gaussian with secure aggregation") })
    }

    @Test("parameters the accounting or the modulus cannot certify are refused before anything runs")
    func refusals() throws {
        // 16 bits cannot hold 1,000 clients' encodings on any grid fine enough to certify ε = 1.
        #expect(throws: VeilError.self) {
            _ = try DistributedGaussianPlan.calibrate(dimension: 3, clipNorm: 1, expectedClients: 500, maximumClients: 100_000,
                                                      bitWidth: 16, rounds: 10, targetEpsilon: 1, delta: 1e-5)
        }
        #expect(throws: VeilError.self) {
            _ = try DistributedGaussianPlan.calibrate(dimension: 3, clipNorm: 1, expectedClients: 2, maximumClients: 10,
                                                      bitWidth: 32, rounds: 1, targetEpsilon: 1, delta: 1e-5)
        }
        let yaml = FederatedTestData.pipeline(folder: URL(fileURLWithPath: "/x"), clients: 100, perRound: 50, rounds: 3,
                                              epsilon: nil, extraFederated: "  aggregation: ddg")
        let pipeline = try FederatedPipeline.parse(yaml: yaml, baseDirectory: "/")
        #expect(throws: VeilError.self) { _ = try FederatedPlan(settings: pipeline.federated, privacy: pipeline.base.privacy) }
    }

    @Test("a round's decoded sum is the clipped sum plus the clients' noise, within the paper's error bound")
    func decodedSumWithinBound() throws {
        let plan = try DistributedGaussianPlan.calibrate(dimension: 30, clipNorm: 1, expectedClients: 10, maximumClients: 100,
                                                         bitWidth: 32, rounds: 1, targetEpsilon: 4, delta: 1e-5)
        var aggregator = try DistributedGaussianAggregator(plan: plan, random: InsecureSeededRandomSource(seed: 17))
        var random = InsecureSeededRandomSource(seed: 3)
        var truth = [Double](repeating: 0, count: 30)
        aggregator.beginRound(1, dimension: 30)
        for client in 0..<10 {
            let raw = (0..<30).map { _ in Float(Double(random.next() >> 11) * 0x1p-53 - 0.5) }
            let clipped = UpdateClipping.clip(raw, clipNorm: 1).update
            for i in truth.indices { truth[i] += Double(clipped[i]) }
            try aggregator.accept(clipped, from: client)
        }
        let decoded = try aggregator.finishRound()
        #expect(aggregator.addsNoise && aggregator.lastRound?.included.count == 10)
        let squaredError = zip(decoded, truth).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        // Kairouz et al. 2021 (Theorem 2, no clamping, probability ≥ 1 − 1e-9 here): the error is γ·Hᵀ(rounding +
        // noise) with E‖·‖² ≤ d·γ²·n·(s² + 1/4) over the d = 32 rotated coordinates. Its sum of 32 roughly
        // independent terms exceeds 3× its mean with probability < 1e-7, and falls below a tenth of the noise's
        // share with probability < 1e-12 (the noise is really there).
        let gamma = plan.parameters.granularity, s2 = plan.parameters.localVariance.doubleValue
        let bound = 32 * gamma * gamma * 10 * (s2 + 0.25)
        #expect(squaredError <= 3 * bound)
        #expect(squaredError >= 0.1 * 30 * gamma * gamma * 10 * s2)
        #expect(abs(plan.noiseStandardDeviation - (10 * s2).squareRoot() * gamma) < 1e-9 * plan.noiseStandardDeviation)
    }

    @Test("fewer clients than the accounting counts on: the round aborts and releases nothing")
    func tooFewClientsAbort() throws {
        let plan = try DistributedGaussianPlan.calibrate(dimension: 4, clipNorm: 1, expectedClients: 10, maximumClients: 100,
                                                         bitWidth: 32, rounds: 1, targetEpsilon: 4, delta: 1e-5)
        var aggregator = try DistributedGaussianAggregator(plan: plan, random: InsecureSeededRandomSource(seed: 1))
        aggregator.beginRound(1, dimension: 4)
        for client in 0..<4 { try aggregator.accept([0.1, 0.2, 0.3, 0.4], from: client) }
        let error = #expect(throws: VeilError.self) { _ = try aggregator.finishRound() }
        #expect(error?.code == .roundAborted && aggregator.lastRound == nil)
    }

    @Test("a small simulated run with the distributed discrete Gaussian trains")
    func simulatedRunTrains() throws {
        let folder = try TemporaryDirectory.make("fed-ddg-train")
        defer { try? FileManager.default.removeItem(at: folder) }
        let charger = RecordingCharger()
        let run = try prepare(folder, charger: charger, clients: 300, perRound: 60, rounds: 8)
        let ddg = try #require(run.plan.distributedGaussian)
        var aggregator = try DistributedGaussianAggregator(plan: ddg, dropoutRate: 0.1,
                                                           random: InsecureSeededRandomSource(seed: 5))
        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        let release = try run.execute(aggregator: &aggregator, privacyRandom: &privacy, orderRandom: &order)
        #expect(release.rounds == 8)
        // Linearly separable data (fixed seeds): the model starts near chance and learns the boundary.
        let accuracy = try #require(release.evaluation?.accuracy)
        #expect(accuracy >= 0.85, "σ = \(ddg.noiseStandardDeviation)")
    }
}
