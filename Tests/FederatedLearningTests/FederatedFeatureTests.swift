import FederatedLearning
import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining
import Testing
import _TestSupport

@Suite("Fixed features in a federated run")
struct FederatedFeatureTests {
    static let pipeline = BarImages.featurePipelineSections(size: 120) + """

        privacy: {non_private: true}
        training: {epochs: 2, expected_batch_size: 4, optimizer: sgd, learning_rate: 0.5}
        federated:
          clients: {split: iid, count: 12, seed: 3}
          rounds: 10
          clients_per_round: 12
        output: model.safetensors
        """

    @Test("clients train the head on features computed once; the model file opens with them and the card names them")
    func scatteringFeatures() throws {
        let folder = try TemporaryFolder("fed-features")
        try BarImages.writeSplits(in: folder, trainCount: 120, testCount: 60)
        let pipeline = try FederatedPipeline.parse(yaml: Self.pipeline, baseDirectory: folder.url.path)
        var lines: [String] = []
        let run = try FederatedRun.prepare(pipeline: pipeline, source: "test", analyst: "a",
                                           charger: { _ in RecordingCharger() }, status: { lines.append($0) })
        // The transform's progress: computed, then done, for each split; never a count of examples.
        #expect(lines.count == 4)
        #expect(lines.first?.hasPrefix("features: computing the scattering transform of the training images") == true)
        #expect(lines.dropFirst(2).first?.hasPrefix("features: computing the scattering transform of the test images") == true)
        // The clients' examples are the features: 1 + J·L + L²·J(J−1)/2 = 25 channels of 3 × 3 for J = 2, L = 4.
        #expect(run.data.examples.inputShape == ImageShape(height: 3, width: 3, channels: 1 + 2 * 4 + 16))

        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        let release = try run.execute(privacyRandom: &privacy, orderRandom: &order)
        #expect(release.card.notes.contains("fixed features: scattering transform (J = 2, L = 4, order 2), then group "
                                            + "normalisation (5 groups, per-example statistics); data-independent, no privacy cost"))
        // The file holds the whole architecture on raw images, so inference needs nothing else.
        let contents = try SafetensorsFile.decode(Data(contentsOf: URL(fileURLWithPath: folder.path("model.safetensors"))))
        #expect(contents.model.architecture == pipeline.base.layerSpecifications)
        #expect(contents.model.inputShape == ImageShape(height: 12, width: 12, channels: 1))
        let rawTest = try IDXLoader.load(imagesPath: folder.path("test-images"), labelsPath: folder.path("test-labels"),
                                         classCount: 3)
        let evaluation = try #require(release.evaluation)
        #expect(try Evaluation(model: contents.model, data: rawTest).accuracy == evaluation.accuracy)
        #expect(evaluation.accuracy > 0.8, "the bars are learnable: accuracy \(evaluation.accuracy)")
    }

    @Test("DP statistics of a pooled training set and an average of the iterates are refused before any data is read")
    func pooledSettingsAreRefused() throws {
        let folder = try TemporaryFolder("fed-features-refused")
        let dp = Self.pipeline
            .replacingOccurrences(of: "normalization: {type: group, groups: 5}",
                                  with: "normalization: {type: dp, mean_clip: 1, square_clip: 1}")
            .replacingOccurrences(of: "privacy: {non_private: true}",
                                  with: "privacy: {target_epsilon: 8, delta: 1e-3, clip_norm: 1, ledger_scope: bars}")
        let pipeline = try FederatedPipeline.parse(yaml: dp, baseDirectory: folder.url.path)
        #expect(throws: VeilError(.invalidInput, "test: model.normalization type dp (statistics of the pooled training "
                                  + "set) is not available in federated training; use type: group (each client's own examples)")) {
            try FederatedRun.prepare(pipeline: pipeline, source: "test", analyst: "a", charger: { _ in
                Issue.record("refused before the ledger is opened")
                return RecordingCharger()
            })
        }
        let augmented = Self.pipeline.replacingOccurrences(
            of: "learning_rate: 0.5}", with: "learning_rate: 0.5, augmentation: {type: shifts}}")
        #expect(throws: VeilError(.invalidInput, "test: training.augmentation is not available in federated training; remove it")) {
            try FederatedRun.prepare(pipeline: try FederatedPipeline.parse(yaml: augmented, baseDirectory: folder.url.path),
                                     source: "test", analyst: "a", charger: { _ in
                Issue.record("refused before the ledger is opened")
                return RecordingCharger()
            })
        }
        #expect(throws: VeilError(.invalidInput, "training.average_decay is not available in federated training: clients "
                                  + "release their last local step")) {
            try LocalTraining(TrainingSettings(epochs: 1, expectedBatchSize: 4, learningRate: 0.5, averageDecay: 0.9))
        }
    }
}
