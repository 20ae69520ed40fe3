import BudgetLedger
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("Training work split across threads")
struct ParallelTrainingTests {
    @Test("OS-CSPRNG noise on a large tensor: mean and variance of N(0, 4) within 5.5 standard errors (false failure < 1e-7), no slice repeats another")
    func secureNoiseAcrossThreads() {
        let n = 1 << 18  // several slices of GaussianNoiseSampler.valuesPerThread
        var values = [Float](repeating: 0, count: n)
        var noise = GaussianNoiseSampler()
        var random = SecureRandomSource()
        noise.addNoise(to: &values, standardDeviation: 2, using: &random)
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n - 1)
        #expect(abs(mean) < 5.5 * 2 / Double(n).squareRoot())
        #expect(abs(variance - 4) < 5.5 * (2 * 16 / Double(n)).squareRoot())
        // Threads sharing one stream would repeat its values at the start of every slice.
        let head = Array(values[0..<64])
        for start in stride(from: 64, to: n - 64, by: 1) where values[start] == head[0] {
            #expect(Array(values[start..<(start + 64)]) != head, "values at \(start) repeat the first slice")
        }
    }

    @Test("a seeded source fills a large tensor in order from its own stream, as one value after another")
    func seededNoiseInOrder() {
        let n = 1 << 17
        var values = [Float](repeating: 1, count: n)
        var noise = GaussianNoiseSampler()
        var random = InsecureSeededRandomSource(seed: 5)
        noise.addNoise(to: &values, standardDeviation: 0.5, using: &random)
        var reference = GaussianNoiseSampler()
        var referenceRandom = InsecureSeededRandomSource(seed: 5)
        let expected = (0..<n).map { _ in 1 + Float(0.5 * reference.next(using: &referenceRandom)) }
        #expect(values == expected)
    }

    @Test("seeded CNN DP-SGD with per-example work split across threads: two runs give the same bits, another seed does not")
    func seededConvolutionRunsRepeat() throws {
        let shape = ImageShape(height: 12, width: 12, channels: 1)
        let (x, labels) = TestModels.randomBatch(rows: 120, shape: shape, classes: 3, seed: 8)
        let data = try Dataset(features: x, labels: labels, inputShape: shape, classCount: 3, sha256: "tiny-cnn")
        let architecture: [LayerSpecification] = [
            .convolution2D(filters: 4, kernel: 4, stride: 2, padding: 1), .tanh, .maxPool2D(kernel: 2, stride: 1),
            .convolution2D(filters: 5, kernel: 2, stride: 1, padding: 0), .relu, .flatten, .dense(units: 3)]
        let plan = try TrainingPlan(datasetSize: data.count,
                                    training: TrainingSettings(epochs: 2, expectedBatchSize: 40, maxPhysicalBatchSize: 16,
                                                               learningRate: 0.1),
                                    privacy: PrivacySettings(targetEpsilon: 4, delta: 1e-3, clipNorm: 0.5))
        func trainedBits(seed: UInt64) throws -> [[UInt32]] {
            var model = TestModels.model(architecture, shape: shape)
            var privacyRandom = InsecureSeededRandomSource(seed: seed), order = InsecureSeededRandomSource(seed: 1)
            _ = try DPSGDTrainer.train(model: &model, data: data, plan: plan, charger: InsecureUnrecordedBudgetCharger(),
                                       privacyRandom: &privacyRandom, orderRandom: &order)
            return model.parameters.map { $0.storage.map(\.bitPattern) }
        }
        let first = try trainedBits(seed: 31), second = try trainedBits(seed: 31), other = try trainedBits(seed: 32)
        #expect(first == second)
        #expect(first != other)
    }
}
