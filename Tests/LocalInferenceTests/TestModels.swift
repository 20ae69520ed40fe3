import _TestSupport
import Foundation
import LinearAlgebra
import LocalInference
import Mechanisms
import PrivateTraining

/// Small models written to temporary files for the tests, with seeded (test-only) weights.
enum TestModels {
    static let card = PrivacyCard(
        differentiallyPrivate: true, epsilon: 1.25, delta: 1e-5, accountant: "rdp", noiseMultiplier: 1.1, clipNorm: 1,
        samplingRate: 0.01, steps: 100, expectedBatchSize: 10, targetEpsilon: 1.25, sampling: "poisson",
        noise: "gaussian", declaredDatasetSize: 1000, ledgerScope: "tests", ledgerEntry: "entry-7")

    /// Tabular features of the logistic model, with declared bounds on `age` only.
    static let featureColumns = ["age", "income", "visits"]
    static let bounds: [String: FeatureBounds] = ["age": try! FeatureBounds(lower: 0, upper: 100, column: "age")]

    static func model(_ architecture: [LayerSpecification], inputShape: ImageShape, seed: UInt64 = 7) -> SequentialModel {
        var random = InsecureSeededRandomSource(seed: seed)
        return try! SequentialModel(architecture: architecture, inputShape: inputShape, random: &random)
    }

    static var logistic: SequentialModel {
        model(ModelArchitecture.logisticRegression(classes: 3), inputShape: ImageShape(height: 1, width: 1, channels: 3))
    }

    static var mlp: SequentialModel {
        model(ModelArchitecture.multilayerPerceptron(hidden: [16, 8], classes: 4, activation: .relu),
              inputShape: ImageShape(height: 1, width: 1, channels: 5))
    }

    static var cnn: SequentialModel {
        model([.convolution2D(filters: 4, kernel: 3, stride: 1, padding: 1), .tanh, .maxPool2D(kernel: 2, stride: 2),
               .convolution2D(filters: 3, kernel: 3, stride: 1, padding: 0), .relu, .averagePool2D(kernel: 2, stride: 1),
               .flatten, .dense(units: 10)],
              inputShape: ImageShape(height: 8, width: 8, channels: 1))
    }

    /// Writes the tabular logistic model (CSV layout) to `path`.
    static func writeTabular(to path: String, card: PrivacyCard = card, format: TrainingDataDescription.Format = .csv) throws {
        let description = TrainingDataDescription(format: format, classes: 3, labelColumn: "label", featureColumns: featureColumns,
                                                  featureBounds: bounds, table: format == .sqlite ? "train" : nil,
                                                  testTable: format == .sqlite ? "test" : nil)
        try SafetensorsFile.write(model: logistic, card: card, to: path,
                                  extraMetadata: [TrainingDataDescription.metadataKey: description.json])
    }

    /// Writes the CNN (IDX layout) to `path`.
    static func writeImage(to path: String) throws {
        let description = TrainingDataDescription(format: .idx, classes: 10)
        try SafetensorsFile.write(model: cnn, card: card, to: path,
                                  extraMetadata: [TrainingDataDescription.metadataKey: description.json])
    }

    /// `model` through its file's bytes, as the store and the server load it.
    static func inferenceModel(_ model: SequentialModel, name: String, metadata: [String: String] = [:]) throws -> InferenceModel {
        let bytes = try SafetensorsFile.encode(model: model, card: card, extraMetadata: metadata)
        return try InferenceModel(contents: SafetensorsFile.decode(bytes), name: name)
    }

    static func temporaryFolder(_ label: String) throws -> URL {
        try TemporaryDirectory.make(label)
    }
}
