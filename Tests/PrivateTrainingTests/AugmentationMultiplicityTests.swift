import _TestSupport
import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("Augmentation multiplicity")
struct AugmentationMultiplicityTests {
    /// Example `i`'s gradient as the mean of its views' gradients, run on its views alone; clipped and summed.
    private func naive(_ model: SequentialModel, _ data: Dataset, clip: Float) -> (norms: [Float], sum: [Matrix]) {
        var sum = model.parameters.map { Matrix(rows: $0.rows, columns: $0.columns) }
        var norms: [Float] = []
        for i in 0..<data.count {
            var m = model
            let rows = (i * data.views)..<((i + 1) * data.views)
            let logits = m.forward(data.features.rows(rows))
            let labels = [Int32](repeating: data.labels[i], count: data.views)
            var g = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels[...]).gradient
            g.scale(by: 1 / Float(data.views))
            m.backward(g)
            let gradient = m.parameterGradients(exampleScales: nil)
            let norm = gradient.reduce(Float(0)) { $0 + $1.frobeniusNorm * $1.frobeniusNorm }.squareRoot()
            norms.append(norm)
            for p in sum.indices { sum[p].add(gradient[p], scaledBy: min(1, clip / (norm + 1e-6))) }
        }
        return (norms, sum)
    }

    @Test("with views, each example's norm and the clipped sum are those of the mean over its views",
          arguments: TestModels.architectures.indices)
    func matchesNaive(index: Int) throws {
        let model = TestModels.model(TestModels.architectures[index].1, seed: UInt64(index + 40))
        let (x, y) = TestModels.randomBatch(rows: 5 * 3, shape: TestModels.imageShape, classes: 3, seed: UInt64(index + 400))
        let data = try Dataset(features: x, labels: (0..<5).map { y[$0] }, inputShape: TestModels.imageShape,
                               classCount: 3, sha256: "views", views: 3)
        // A clip norm between the examples' norms, so that clipping bites for some examples only.
        let clip = naive(model, data, clip: .infinity).norms.sorted()[2]
        let reference = naive(model, data, clip: clip)
        var probe = model
        let batch = data.batch([0, 1, 2, 3, 4])
        var g = SoftmaxCrossEntropy.lossAndGradient(logits: probe.forward(batch.features), labels: batch.labels[...]).gradient
        g.scale(by: 1 / 3)
        probe.backward(g)
        let norms = probe.perExampleSquaredNorms(batch: 5, rowsPerExample: 3).map { $0.squareRoot() }
        for i in 0..<5 { #expect(abs(norms[i] - reference.norms[i]) <= 1e-4 * max(1, reference.norms[i]), "example \(i)") }
        // Chunks of 2 examples: the last chunk holds one example, 3 rows.
        var trained = model
        let sum = DPSGDTrainer.accumulate(model: &trained, data: data, indices: [0, 1, 2, 3, 4], chunk: 2, clipNorm: clip)
        for (a, b) in zip(sum, reference.sum) {
            for k in 0..<a.count { #expect(abs(a.storage[k] - b.storage[k]) <= 1e-4 * max(1, abs(b.storage[k]))) }
        }
    }

    @Test("identical views give the gradient of the example without views")
    func identicalViews() throws {
        let (x, y) = TestModels.randomBatch(rows: 4, shape: TestModels.imageShape, classes: 3, seed: 9)
        let plain = try Dataset(features: x, labels: y, inputShape: TestModels.imageShape, classCount: 3, sha256: "plain")
        let repeated = try Dataset(features: x.gatherRows([0, 0, 1, 1, 2, 2, 3, 3]), labels: y,
                                   inputShape: TestModels.imageShape, classCount: 3, sha256: "twice", views: 2)
        for (_, architecture) in TestModels.architectures {
            var a = TestModels.model(architecture, seed: 3)
            var b = a
            let one = DPSGDTrainer.accumulate(model: &a, data: plain, indices: [0, 1, 2, 3], chunk: 4, clipNorm: 0.2)
            let two = DPSGDTrainer.accumulate(model: &b, data: repeated, indices: [0, 1, 2, 3], chunk: 4, clipNorm: 0.2)
            for (p, q) in zip(one, two) {
                for k in 0..<p.count { #expect(abs(p.storage[k] - q.storage[k]) <= 1e-5 * max(1, abs(p.storage[k]))) }
            }
        }
    }

    @Test("shifted views of a 3 × 4 image: the original, then up, down, left, right, then the diagonals")
    func shiftedViews() throws {
        let shape = ImageShape(height: 3, width: 4, channels: 1)
        let image = Matrix(rows: 1, columns: 12, storage: (1...12).map(Float.init))
        let data = try Dataset(features: image, labels: [2], inputShape: shape, classCount: 3, sha256: "abc")
        let viewed = try ShiftAugmentation(pixels: 1, diagonals: true).apply(to: data)
        #expect(viewed.views == 9 && viewed.count == 1 && viewed.labels == [2] && viewed.sha256 == "abc:shifts1d")
        let expected: [[Float]] = [
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            [5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0],      // moved up: row y shows row y + 1
            [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],         // down
            [2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0],      // left
            [0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11],       // right
            [6, 7, 8, 0, 10, 11, 12, 0, 0, 0, 0, 0],      // up and left
            [0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0],       // up and right
            [0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0],         // down and left
            [0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7],         // down and right
        ]
        for (view, values) in expected.enumerated() {
            #expect(Array(viewed.features.rows(view..<(view + 1)).storage) == values, "view \(view)")
        }
        // Channels move with their pixel; a shift of 2 moves by two pixels.
        let colour = try Dataset(features: Matrix(rows: 1, columns: 18, storage: (1...9).flatMap { [Float($0), -Float($0)] }),
                                 labels: [0], inputShape: ImageShape(height: 3, width: 3, channels: 2), classCount: 2,
                                 sha256: "two channels")
        let moved = try ShiftAugmentation(pixels: 2).apply(to: colour)
        #expect(moved.views == 5)
        #expect(Array(moved.features.rows(4..<5).storage) == [0, 0, 0, 0, 1, -1, 0, 0, 0, 0, 4, -4, 0, 0, 0, 0, 7, -7])
    }

    @Test("augmentation refuses tables, images too small for the shift, and data that already has views")
    func refusals() throws {
        let table = try Dataset(features: Matrix(rows: 2, columns: 3), labels: [0, 1],
                                inputShape: ImageShape(height: 1, width: 1, channels: 3), classCount: 2, sha256: "t",
                                featureNames: ["a", "b", "c"])
        #expect(throws: VeilError(.invalidInput, "training.augmentation shifts images; the training examples are table rows")) {
            try ShiftAugmentation(pixels: 1).apply(to: table)
        }
        let small = try Dataset(features: Matrix(rows: 1, columns: 4), labels: [0],
                                inputShape: ImageShape(height: 2, width: 2, channels: 1), classCount: 2, sha256: "s")
        #expect(throws: VeilError(.invalidInput, "training.augmentation shifts images; the training examples are 2x2x1 values")) {
            try ShiftAugmentation(pixels: 2).apply(to: small)
        }
        #expect(throws: VeilError.self) { try ShiftAugmentation(pixels: 1).apply(to: try ShiftAugmentation(pixels: 1).apply(to: small)) }
        #expect(throws: VeilError.invalidParameter("augmentation pixels", 0, allowed: "1 to 8")) { try ShiftAugmentation(pixels: 0) }
    }

    @Test("the feature cache keeps views apart from the plain images")
    func cacheKeys() throws {
        let shape = ImageShape(height: 3, width: 3, channels: 1)
        let data = try Dataset(features: Matrix(rows: 2, columns: 9), labels: [0, 1], inputShape: shape, classCount: 2,
                               sha256: "same")
        let views = try Dataset(features: Matrix(rows: 10, columns: 9), labels: [0, 1], inputShape: shape, classCount: 2,
                                sha256: "same", views: 5)
        let layers: [LayerSpecification] = [.scattering2D(scales: 1, orientations: 4)]
        #expect(FeatureCache.key(data: data, layers: layers) != FeatureCache.key(data: views, layers: layers))
    }

    static func pipeline(augmentation: String, normalization: String = "{type: group, groups: 5}") -> String {
        BarImages.featurePipelineSections(size: 60, normalization: normalization) + """

        privacy: {target_epsilon: 8, delta: 1e-3, clip_norm: 1, ledger_scope: bars}
        training:
          epochs: 3
          expected_batch_size: 10
          learning_rate: 0.5
          augmentation: \(augmentation)
        output: model.safetensors
        """
    }

    @Test("training.augmentation: keys, errors, and a DP run charged as without it")
    func pipelineRun() throws {
        let folder = try TemporaryFolder("augmentation-run")
        try BarImages.writeSplits(in: folder, trainCount: 60, testCount: 30)
        let refused: [(String, String)] = [
            ("{type: crops}", "pipeline: training: augmentation.type must be shifts, got crops"),
            ("{type: shifts, pixels: 9}", "pipeline: training: augmentation.pixels must be an integer in 1...8"),
            ("{type: shifts, flips: true}", "pipeline: training: augmentation: unknown key flips"),
        ]
        for (augmentation, message) in refused {
            #expect(throws: VeilError(.invalidInput, message)) {
                try TrainingPipeline.parse(yaml: Self.pipeline(augmentation: augmentation), baseDirectory: folder.url.path)
            }
        }
        #expect(throws: VeilError(.invalidInput, "pipeline: training.augmentation cannot be combined with model.normalization "
                                  + "type dp, whose statistics count each training example once; use type: group")) {
            try TrainingPipeline.parse(yaml: Self.pipeline(augmentation: "{type: shifts}",
                                                           normalization: FeaturePipelineTests.dpNormalization),
                                       baseDirectory: folder.url.path)
        }

        let pipeline = try TrainingPipeline.parse(yaml: Self.pipeline(augmentation: "{type: shifts, pixels: 1}"),
                                                  baseDirectory: folder.url.path)
        #expect(pipeline.augmentation == (try ShiftAugmentation(pixels: 1)))
        var plain = pipeline
        plain.augmentation = nil
        let charger = TrainingLoopTests.RecordingCharger()
        let run = try TrainingRun.prepare(pipeline: pipeline, source: "test", analyst: "tests", charger: { _ in charger })
        let plainRun = try TrainingRun.prepare(pipeline: plain, source: "test", analyst: "tests",
                                               charger: { _ in TrainingLoopTests.RecordingCharger() })
        #expect(run.plan.event(stepsTaken: run.plan.steps) == plainRun.plan.event(stepsTaken: plainRun.plan.steps))
        let release = try run.execute(progressInterval: 100)
        #expect(charger.reserved.count == 1 && charger.reserved.first?.cost.epsilon == plainRun.plan.plannedEpsilon)
        #expect(release.card.notes.contains(try ShiftAugmentation(pixels: 1).cardNote))
        #expect(release.card.epsilon == plainRun.plan.plannedEpsilon)
        // The views' features were cached beside the plain images': five rows per training image.
        let cache = folder.path("feature-cache")
        let sizes = try FileManager.default.contentsOfDirectory(atPath: cache).map {
            try #require(FileManager.default.attributesOfItem(atPath: cache + "/" + $0)[.size] as? Int)
        }.sorted()
        let header = FeatureCache.headerLength
        // 30 test images, 60 training images (the run without views), 300 views.
        #expect(sizes.count == 3 && sizes[1] - header == 2 * (sizes[0] - header) && sizes[2] - header == 10 * (sizes[0] - header))
    }
}
