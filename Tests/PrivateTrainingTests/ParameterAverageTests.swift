import _TestSupport
import BudgetLedger
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite struct ParameterAverageTests {
    @Test func warmUpAndDecayKnownAnswer() {
        // β = 0.5 with the warm-up min(β, (1 + t)/(10 + t)): β₁ = 2/11, β₂ = 3/12, then 0.5 from t = 8 on.
        var average = ParameterAverage(decay: 0.5, initial: [Matrix(rows: 1, columns: 1, storage: [0])])
        var expected = 0.0
        for t in 1...10 {
            let current = Double(t)
            average.update(with: [Matrix(rows: 1, columns: 1, storage: [Float(current)])])
            let beta = min(0.5, Double(1 + t) / Double(10 + t))
            expected = beta * expected + (1 - beta) * current
            #expect(abs(Double(average.parameters[0].storage[0]) - expected) < 1e-5 * current)
        }
        #expect(abs(expected - 9.0) < 0.1)  // 0.5-weighted average of 8, 9, 10 and earlier: close to 9
    }

    /// β = 0 releases the last iterate bit for bit; β = 0.9 releases something else, says so on the card and
    /// costs nothing more.
    @Test func trainerReleasesTheAverage() throws {
        let data = try TrainingLoopTests.tinyData()
        func train(decay: Double?) throws -> (parameters: [Matrix], outcome: TrainingOutcome) {
            let plan = try TrainingPlan(
                datasetSize: data.count,
                training: TrainingSettings(epochs: 3, expectedBatchSize: 20, learningRate: 0.5, averageDecay: decay),
                privacy: PrivacySettings(targetEpsilon: 2, delta: 1e-3, clipNorm: 1))
            var model = TestModels.model(ModelArchitecture.logisticRegression(classes: 2), shape: TrainingLoopTests.shape)
            var privacyRandom = InsecureSeededRandomSource(seed: 5), order = InsecureSeededRandomSource(seed: 6)
            let outcome = try DPSGDTrainer.train(model: &model, data: data, plan: plan, charger: InsecureUnrecordedBudgetCharger(),
                                                 privacyRandom: &privacyRandom, orderRandom: &order)
            return (model.parameters, outcome)
        }
        let last = try train(decay: nil)
        let zero = try train(decay: 0)
        let averaged = try train(decay: 0.9)
        #expect(zero.parameters == last.parameters)
        #expect(averaged.parameters != last.parameters)
        #expect(averaged.outcome.epsilon == last.outcome.epsilon && averaged.outcome.steps == last.outcome.steps)
        #expect(averaged.outcome.card.notes.contains { $0.hasPrefix("released parameters: exponential moving average of the iterates (β = 0.9") })
        #expect(!last.outcome.card.notes.contains { $0.hasPrefix("released parameters") })
        #expect(throws: VeilError(.invalidParameter, "parameter average decay must be in the interval [0, 1), got 1.0")) {
            try TrainingPlan(datasetSize: 200,
                             training: TrainingSettings(epochs: 1, expectedBatchSize: 20, learningRate: 0.5, averageDecay: 1),
                             privacy: nil)
        }
    }
}
