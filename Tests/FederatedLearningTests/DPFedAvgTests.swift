import Accounting
import BudgetLedger
import FederatedLearning
import LinearAlgebra
import Mechanisms
import PrivateTraining
import Testing
import Foundation

/// Clipping, noise calibration and one DP-FedAvg round against values computed independently.
@Suite("DP-FedAvg")
struct DPFedAvgTests {
    static func settings(rounds: Int = 10, perRound: Int = 5, clients: Int = 50,
                         adaptive: AdaptiveClippingSettings? = nil) -> FederatedSettings {
        FederatedSettings(clients: .split(count: clients, skew: .iid, seed: 0), declaredClients: clients, rounds: rounds,
                          clientsPerRound: perRound, adaptiveClipping: adaptive)
    }

    @Test("an update is clipped to norm C; a non-finite one is zeroed; a short one is unchanged")
    func clipping() {
        let long = UpdateClipping.clip([3, 4], clipNorm: 1)
        #expect(abs(Vector.norm(long.update) - 1) < 1e-5)
        #expect(long.norm == 5)
        #expect(UpdateClipping.clip([0.3, 0.4], clipNorm: 1).update == [0.3, 0.4])
        for bad: Float in [.nan, .infinity, -.infinity] {
            let clipped = UpdateClipping.clip([1, bad, 2], clipNorm: 1)
            #expect(clipped.update == [0, 0, 0])
            #expect(clipped.norm == nil)
        }
        // Finite values whose squared norm overflows Float: zeroed, never passed through unclipped.
        #expect(UpdateClipping.clip([3e38, 3e38], clipNorm: 1).update == [0, 0])
    }

    @Test("σ is the DP-SGD calibration for (q = clients per round / N, T = rounds)")
    func calibration() throws {
        let privacy = PrivacySettings(targetEpsilon: 2, delta: 1e-5, clipNorm: 1)
        let plan = try FederatedPlan(settings: Self.settings(rounds: 40, perRound: 10, clients: 1000), privacy: privacy)
        #expect(plan.samplingRate == 0.01)
        let expected = try NoiseCalibration.noiseMultiplier(targetEpsilon: 2, samplingRate: 0.01, steps: 40, delta: 1e-5,
                                                            accountant: RDPAccountant())
        #expect(plan.noiseMultiplier == expected.noiseMultiplier)
        #expect(plan.updateNoiseMultiplier == expected.noiseMultiplier)
        #expect(plan.plannedEpsilon! <= 2)
    }

    @Test("adaptive clipping: σ_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2), refused unless 2σ_b > z")
    func effectiveNoise() throws {
        #expect(abs(try FederatedPlan.updateNoiseMultiplier(effective: 1, countNoise: 1) - 1 / 0.75.squareRoot()) < 1e-12)
        #expect(abs(try FederatedPlan.updateNoiseMultiplier(effective: 2, countNoise: 5) - 1 / (0.25 - 0.01).squareRoot()) < 1e-12)
        #expect(throws: VeilError.self) { try FederatedPlan.updateNoiseMultiplier(effective: 2, countNoise: 1) }
        let privacy = PrivacySettings(targetEpsilon: 2, delta: 1e-5, clipNorm: 1)
        let plan = try FederatedPlan(settings: Self.settings(adaptive: AdaptiveClippingSettings(
            targetQuantile: 0.5, learningRate: 0.2, countNoiseStandardDeviation: 10)), privacy: privacy)
        let z = plan.noiseMultiplier!
        #expect(abs(plan.updateNoiseMultiplier! - 1 / (1 / (z * z) - 1 / 400.0).squareRoot()) < 1e-9)
    }

    /// A model of 6 parameters (logistic, 2 features, 2 classes) with zero weights.
    static func model() throws -> SequentialModel { try LocalTrainingTests.zeroModel() }

    @Test("a round adds N(0, σ²C²) to the sum of clipped updates and divides by q·N, not by the clients reached")
    func oneRound() throws {
        let privacy = PrivacySettings(targetEpsilon: 2, delta: 1e-5, clipNorm: 1)
        let plan = try FederatedPlan(settings: Self.settings(perRound: 4), privacy: privacy)
        let local = try LocalTraining(epochs: 1, batchSize: 1, learningRate: 0.1)
        var rounds = try FederatedRounds(plan: plan, local: local, model: try Self.model(), clientCount: 50)
        let updates: [Int: [Float]] = [0: [3, 4, 0, 0, 0, 0], 1: [0.1, 0, 0, 0, 0, 0.2], 2: [.nan, 0, 0, 0, 0, 0]]
        var aggregator = PlainSumAggregator()
        var random = InsecureSeededRandomSource(seed: 5)
        let outcome = try rounds.runRound(clients: [0, 1, 2, 3], aggregator: &aggregator, privacyRandom: &random) {
            updates[$0]  // client 3 drops out
        }
        #expect(outcome.reached == 3 && outcome.dropped == 1)
        // Replay the same noise draws independently.
        var replay = InsecureSeededRandomSource(seed: 5)
        var noise = GaussianNoiseSampler()
        var expected: [Float] = [0.6 + 0.1, 0.8, 0, 0, 0, 0.2]
        noise.addNoise(to: &expected, standardDeviation: plan.updateNoiseMultiplier! * 1, using: &replay)
        let after = ParameterVector.flatten(rounds.model.parameters)
        for (a, e) in zip(after, expected) { #expect(abs(a - e / 4) < 1e-5) }
        #expect(after.allSatisfy { $0.isFinite })
    }

    @Test("FedAvg without privacy: the server model moves by the mean update of the clients reached")
    func fedAvg() throws {
        let plan = try FederatedPlan(settings: Self.settings(perRound: 4), privacy: nil)
        let local = try LocalTraining(epochs: 1, batchSize: 1, learningRate: 0.1)
        var rounds = try FederatedRounds(plan: plan, local: local, model: try Self.model(), clientCount: 50)
        var aggregator = PlainSumAggregator()
        var random = InsecureSeededRandomSource(seed: 5)
        _ = try rounds.runRound(clients: [0, 1], aggregator: &aggregator, privacyRandom: &random) {
            $0 == 0 ? [1, 2, 3, 4, 5, 6] : [3, 2, 1, 0, -1, -2]
        }
        #expect(ParameterVector.flatten(rounds.model.parameters) == [2, 2, 2, 2, 2, 2])
    }

    @Test("adaptive clipping moves C geometrically towards the target quantile of update norms")
    func adaptiveClipping() throws {
        // Client i's update norm is i/100 for i in 1...100: the median is about 0.5. σ_b tiny: the count is
        // nearly exact (σ_b = 0.01 on a count of 100), so C must settle near 0.5 whatever it starts at.
        for start in [0.055, 4.0] {
            let privacy = PrivacySettings(targetEpsilon: 1e5, delta: 1e-5, clipNorm: start, noiseMultiplier: 1e-2)
            let adaptive = AdaptiveClippingSettings(targetQuantile: 0.5, learningRate: 0.2, countNoiseStandardDeviation: 1e-2)
            let plan = try FederatedPlan(settings: Self.settings(rounds: 1, perRound: 100, clients: 100, adaptive: adaptive),
                                         privacy: privacy)
            let local = try LocalTraining(epochs: 1, batchSize: 1, learningRate: 0.1)
            var rounds = try FederatedRounds(plan: plan, local: local, model: try Self.model(), clientCount: 100)
            var random = InsecureSeededRandomSource(seed: 9)
            var aggregator = PlainSumAggregator()
            let before = rounds.clipNorm!
            _ = try rounds.runRound(clients: Array(1...100), aggregator: &aggregator, privacyRandom: &random) {
                [Float($0) / 100, 0, 0, 0, 0, 0]
            }
            // One round, known answer: b̃ = fraction of norms ≤ C (count noise ≈ 0), C ← C·exp(−0.2(b̃ − ½)).
            let fraction = Double((1...100).filter { Double($0) / 100 <= before }.count) / 100
            #expect(abs(rounds.clipNorm! - before * Foundation.exp(-0.2 * (fraction - 0.5))) < 1e-3 * before)
            for _ in 0..<200 {
                _ = try rounds.runRound(clients: Array(1...100), aggregator: &aggregator, privacyRandom: &random) {
                    [Float($0) / 100, 0, 0, 0, 0, 0]
                }
            }
            #expect(abs(rounds.clipNorm! - 0.5) < 0.06)
        }
    }
}
