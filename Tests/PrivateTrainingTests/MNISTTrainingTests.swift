import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("Short DP training run on an MNIST subset")
struct MNISTTrainingTests {
    static let directory = ProcessInfo.processInfo.environment["VEIL_MNIST_DIR"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/datasets/mnist").standardized.path
    static var available: Bool {
        FileManager.default.fileExists(atPath: directory + "/t10k-images-idx3-ubyte.gz")
    }

    @Test("DP-SGD logistic regression on 4,000 MNIST test-set images reaches ≥ 80% on the other 1,000 (ε ≤ 8)",
          .enabled(if: available))
    func shortRun() throws {
        let all = try IDXLoader.load(imagesPath: Self.directory + "/t10k-images-idx3-ubyte.gz",
                                     labelsPath: Self.directory + "/t10k-labels-idx1-ubyte.gz", limit: 5000)
        #expect(all.inputShape == ImageShape(height: 28, width: 28, channels: 1))
        let train = all.prefix(4000)
        let heldOut = try Dataset(features: all.features.rows(4000..<5000), labels: Array(all.labels[4000..<5000]),
                                  inputShape: all.inputShape, classCount: 10, sha256: "held-out")
        let plan = try TrainingPlan(
            datasetSize: train.count,
            training: TrainingSettings(epochs: 5, expectedBatchSize: 200, maxPhysicalBatchSize: 128,
                                       optimizer: .sgd(momentum: 0.9), learningRate: 0.5),
            privacy: PrivacySettings(targetEpsilon: 8, delta: 1e-4, clipNorm: 1))
        var initRandom = InsecureSeededRandomSource(seed: 13)
        var model = try SequentialModel(architecture: ModelArchitecture.logisticRegression(classes: 10),
                                        inputShape: train.inputShape, random: &initRandom)
        var privacyRandom = InsecureSeededRandomSource(seed: 11), order = InsecureSeededRandomSource(seed: 12)
        let outcome = try DPSGDTrainer.train(model: &model, data: train, plan: plan,
                                             charger: InsecureUnrecordedBudgetCharger(), privacyRandom: &privacyRandom, orderRandom: &order)
        #expect(outcome.steps == 100)
        #expect(outcome.epsilon! <= 8)
        let result = try Evaluation(model: model, data: heldOut)
        #expect(result.accuracy >= 0.80, "accuracy \(result.accuracy)")
    }
}
