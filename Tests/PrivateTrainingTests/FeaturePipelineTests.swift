import _TestSupport
import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite struct FeaturePipelineTests {
    static let dpNormalization = "{type: dp, noise_multiplier: 4, mean_clip: 0.5, square_clip: 0.25}"

    /// The bar images through scattering features and `normalization`, with the given privacy section.
    static func pipeline(normalization: String = "{type: group, groups: 5}",
                         privacy: String = "{non_private: true}") -> String {
        BarImages.featurePipelineSections(size: 60, normalization: normalization) + """

        privacy: \(privacy)
        training:
          epochs: 3
          expected_batch_size: 10
          learning_rate: 0.5
          seed: 4
        output: model.safetensors
        """
    }

    /// A DP run on the bar images with the given normalisation.
    static func dpPipeline(normalization: String = dpNormalization) -> String {
        pipeline(normalization: normalization,
                 privacy: "{target_epsilon: 8, delta: 1e-3, clip_norm: 1, ledger_scope: bars}")
    }

    @Test func featureKeysBuildTheModelsFirstLayers() throws {
        let folder = try TemporaryFolder("feature-keys")
        let p = try TrainingPipeline.parse(yaml: Self.pipeline(), baseDirectory: folder.url.path)
        #expect(p.layerSpecifications == [.scattering2D(scales: 2, orientations: 4), .groupNormalization(groups: 5),
                                          .flatten, .dense(units: 3)])
        #expect(p.features.cacheFolder == folder.path("feature-cache"))
        #expect(throws: VeilError(.invalidInput, "pipeline: model.normalization type dp releases training-set statistics "
                                  + "under DP and needs a DP run; without privacy use type: group")) {
            try TrainingPipeline.parse(yaml: Self.pipeline(normalization: Self.dpNormalization),
                                       baseDirectory: folder.url.path)
        }
        let wrongType = Self.pipeline().replacingOccurrences(of: "type: scattering", with: "type: wavelets")
        #expect(throws: VeilError(.invalidInput, "pipeline: model: features.type must be scattering, got wavelets")) {
            try TrainingPipeline.parse(yaml: wrongType, baseDirectory: folder.url.path)
        }
        let badJ = Self.pipeline().replacingOccurrences(of: "J: 2", with: "J: 9")
        #expect(throws: VeilError(.invalidInput, "pipeline: model: features.J must be an integer in 1...4")) {
            try TrainingPipeline.parse(yaml: badJ, baseDirectory: folder.url.path)
        }
    }

    @Test func dpNormalizationKeys() throws {
        let folder = try TemporaryFolder("feature-dp-keys")
        let p = try TrainingPipeline.parse(yaml: Self.dpPipeline(), baseDirectory: folder.url.path)
        #expect(p.features.dpNormalization == (try DPChannelNormalization(noiseMultiplier: 4, meanClip: 0.5, squareClip: 0.25)))
        // The statistics are released by the run: the declared architecture has no normalisation layer yet.
        #expect(p.layerSpecifications == [.scattering2D(scales: 2, orientations: 4), .flatten, .dense(units: 3)])
        let refused: [(String, String)] = [
            ("{type: dp, noise_multiplier: 4, square_clip: 0.25}", "pipeline: model: normalization lacks the required key mean_clip"),
            ("{type: dp, mean_clip: -1, square_clip: 0.25}",
             "pipeline: model: normalization.mean_clip must be a finite number > 0, got -1.0"),
            ("{type: dp, noise_multiplier: 0.05, mean_clip: 1, square_clip: 1}",
             "pipeline: model: normalization.noise_multiplier must be a finite number of at least 0.1, got 0.05"),
            ("{type: batch}", "pipeline: model: normalization.type must be group or dp, got batch"),
            // Hostile numbers: one line each, before any data is read.
            ("{type: dp, mean_clip: 1e308, square_clip: 0.25}",
             "pipeline: model: normalization.mean_clip must be at most 1000000, got 1e+308"),
            ("{type: dp, mean_clip: .nan, square_clip: 0.25}", "pipeline: model: normalization.mean_clip must be a finite number > 0, got nan"),
            ("{type: dp, mean_clip: 1, square_clip: -0.0}", "pipeline: model: normalization.square_clip must be a finite number > 0, got -0.0"),
            ("{type: dp, noise_multiplier: .inf, mean_clip: 1, square_clip: 1}",
             "pipeline: model: normalization.noise_multiplier must be a finite number of at least 0.1, got inf"),
        ]
        for (normalization, message) in refused {
            #expect(throws: VeilError(.invalidInput, message)) {
                try TrainingPipeline.parse(yaml: Self.dpPipeline(normalization: normalization), baseDirectory: folder.url.path)
            }
        }
    }

    /// A run with DP statistics reserves their cost with the steps before releasing them, and the model file
    /// holds them: loaded alone, it evaluates the raw test images as the run did.
    @Test func dpNormalizationIsChargedAndTravelsInTheModelFile() throws {
        let folder = try TemporaryFolder("feature-dp-run")
        try BarImages.writeSplits(in: folder, trainCount: 60, testCount: 30)
        let pipeline = try TrainingPipeline.parse(yaml: Self.dpPipeline(), baseDirectory: folder.url.path)
        let charger = TrainingLoopTests.RecordingCharger()
        let run = try TrainingRun.prepare(pipeline: pipeline, source: "test", analyst: "tests", charger: { _ in charger })
        let statistics = try #require(pipeline.features.dpNormalization).event(channels: 25)
        #expect(run.plan.preprocessing == statistics)
        let release = try run.execute(progressInterval: 100)
        // One reservation, of the statistics and every step, at the planned ε (≤ the target).
        #expect(charger.reserved.count == 1)
        #expect(charger.reserved.first?.event == run.plan.event(stepsTaken: run.plan.steps))
        #expect(charger.reserved.first?.cost.epsilon == run.plan.plannedEpsilon && run.plan.plannedEpsilon! <= 8)
        #expect(release.card.epsilon == run.plan.plannedEpsilon)
        #expect(release.card.notes.contains { $0.hasPrefix("per-channel normalisation: each channel's mean and mean square") })
        #expect(charger.committed.count == 1)

        let contents = try SafetensorsFile.decode(Data(contentsOf: URL(fileURLWithPath: folder.path("model.safetensors"))))
        let architecture = contents.model.architecture
        #expect(architecture.count == 4 && architecture[0] == .scattering2D(scales: 2, orientations: 4))
        guard case .channelNormalization(let shift, let scale) = architecture[1] else {
            Issue.record("the second layer is \(architecture[1])")
            return
        }
        #expect(shift.count == 25 && scale.count == 25 && scale.allSatisfy { $0 > 0 })
        let rawTest = try IDXLoader.load(imagesPath: folder.path("test-images"), labelsPath: folder.path("test-labels"),
                                         classCount: 3)
        let evaluation = try #require(release.evaluation)
        let reloaded = try Evaluation(model: contents.model, data: rawTest)
        #expect(reloaded.accuracy == evaluation.accuracy)
        #expect(abs(reloaded.loss - evaluation.loss) < 1e-5)
    }

    /// Train → save → load: the model file alone gives the same predictions as the run's own evaluation,
    /// because it starts with the feature layers the run applied to the data.
    @Test func modelFileCarriesItsFeatures() throws {
        let folder = try TemporaryFolder("feature-roundtrip")
        try BarImages.writeSplits(in: folder, trainCount: 60, testCount: 30)
        let pipeline = try TrainingPipeline.parse(yaml: Self.pipeline(), baseDirectory: folder.url.path)
        var lines: [String] = []
        let run = try TrainingRun.prepare(pipeline: pipeline, source: "test", analyst: "tests", charger: { _ in
            Issue.record("a non-private run opens no ledger")
            return InsecureUnrecordedBudgetCharger()
        }, status: { lines.append($0) })
        // Progress of the transform: computed, then done, for each part; never a count of examples.
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("features: computing the scattering transform of the training images"))
        #expect(lines[1].hasPrefix("features: training images done in 0m0"))
        #expect(lines[2].hasPrefix("features: computing the scattering transform of the test images"))
        let shown = lines.joined().replacingOccurrences(of: folder.path("feature-cache"), with: "")
        #expect(!shown.contains("60") && !shown.contains("30"))
        var again: [String] = []
        _ = try TrainingRun.prepare(pipeline: pipeline, source: "test", analyst: "tests",
                                    charger: { _ in InsecureUnrecordedBudgetCharger() }, status: { again.append($0) })
        #expect(again == ["features: scattering transform of the training images read from the cache (\(folder.path("feature-cache")))",
                          "features: scattering transform of the test images read from the cache (\(folder.path("feature-cache")))"])
        let release = try run.execute(progressInterval: 100)
        let evaluation = try #require(release.evaluation)
        #expect(release.card.notes.contains("fixed features: scattering transform (J = 2, L = 4, order 2), then group "
                                            + "normalisation (5 groups, per-example statistics); data-independent, no privacy cost"))

        let contents = try SafetensorsFile.decode(Data(contentsOf: URL(fileURLWithPath: folder.path("model.safetensors"))))
        #expect(contents.model.architecture == pipeline.layerSpecifications)
        #expect(contents.model.inputShape == ImageShape(height: 12, width: 12, channels: 1))
        let rawTest = try IDXLoader.load(imagesPath: folder.path("test-images"), labelsPath: folder.path("test-labels"),
                                         classCount: 3)
        let reloaded = try Evaluation(model: contents.model, data: rawTest)
        #expect(reloaded.accuracy == evaluation.accuracy)
        #expect(abs(reloaded.loss - evaluation.loss) < 1e-5)
        #expect(evaluation.accuracy > 0.5, "the bars are learnable: accuracy \(evaluation.accuracy)")
        // The inference path (no training caches, as `veil predict` and the server run it) agrees too.
        let logits = contents.model.logits(rawTest.features)
        let inference = contents.model.inferenceLogits(rawTest.features)
        for (a, b) in zip(logits.storage, inference.storage) { #expect(abs(a - b) < 1e-5) }
        // The features were cached for the next run on the same data.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("feature-cache")).count == 2)
    }
}
