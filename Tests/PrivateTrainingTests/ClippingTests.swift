import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

/// Per-example clipping when a norm is not a finite number (docs/design.md §2 rule 8).
@Suite("Clipping of non-finite norms")
struct ClippingTests {
    @Test("the clip factor is 0 for NaN, ±Inf and negative squared norms, min(1, C/(‖g‖+1e-6)) otherwise")
    func clipFactor() {
        for bad: Float in [.nan, .infinity, -.infinity, -1, -Float.leastNonzeroMagnitude] {
            #expect(PerExampleClipping.factor(squaredNorm: bad, clipNorm: 1) == 0, "squared norm \(bad)")
        }
        #expect(PerExampleClipping.factor(squaredNorm: 0, clipNorm: 1) == 1)
        #expect(PerExampleClipping.factor(squaredNorm: 0.25, clipNorm: 1) == 1)
        #expect(PerExampleClipping.factor(squaredNorm: 16, clipNorm: 2) == 2 / (4 + 1e-6))
        #expect(PerExampleClipping.factor(squaredNorm: .greatestFiniteMagnitude, clipNorm: 1e-4) > 0)
    }

    static let shape = ImageShape(height: 1, width: 1, channels: 2)

    /// An MLP with one tanh hidden layer, as in the reported overflow attack.
    static func mlp() -> SequentialModel {
        TestModels.model(ModelArchitecture.multilayerPerceptron(hidden: [8], classes: 2, activation: .tanh), shape: shape)
    }

    /// Equal up to float rounding of sums taken in another order.
    static func close(_ a: [Matrix], _ b: [Matrix]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            x.count == y.count && zip(x.storage, y.storage).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }
        }
    }

    static func norm(_ gradients: [Matrix]) -> Double {
        gradients.reduce(0.0) { $0 + $1.storage.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot()
    }

    @Test("an input of 2e19 (‖a‖² overflows, tanh saturates, g·‖a‖² = 0·Inf) adds nothing, not an unclipped gradient")
    func overflowingInput() throws {
        let clip: Float = 1e-4
        let data = try Dataset(features: Matrix(rows: 3, columns: 2, storage: [2e19, 1, 0.5, -0.25, -0.75, 0.5]),
                               labels: [1, 0, 1], inputShape: Self.shape, classCount: 2, sha256: "adversarial")
        // The hidden layer's ghost norm of the adversarial example is NaN: the case the proof must survive.
        var probe = Self.mlp()
        let logits = probe.forward(data.features.rows(0..<1))
        probe.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [1]).gradient)
        #expect(probe.perExampleSquaredNorms(batch: 1)[0].isNaN)

        var model = Self.mlp()
        let alone = DPSGDTrainer.accumulate(model: &model, data: data, indices: [0], chunk: 4, clipNorm: clip)
        #expect(Self.norm(alone) == 0)
        // With ordinary examples, the sum is what they give without it, and within n·C.
        let all = DPSGDTrainer.accumulate(model: &model, data: data, indices: [0, 1, 2], chunk: 4, clipNorm: clip)
        let others = DPSGDTrainer.accumulate(model: &model, data: data, indices: [1, 2], chunk: 4, clipNorm: clip)
        #expect(Self.close(all, others))
        #expect(Self.norm(all) <= 2 * Double(clip) * 1.001)
    }

    @Test("an example whose gradient is NaN and whose input holds Inf is removed exactly, for dense and convolution layers",
          arguments: [0, 2])
    func nonFiniteExample(architecture: Int) throws {
        let shape = TestModels.imageShape
        let (x, y) = TestModels.randomBatch(rows: 3, shape: shape, classes: 3, seed: 77)
        var features = x
        for j in 0..<shape.count { features[1, j] = j % 2 == 0 ? .infinity : -.infinity }
        let data = try Dataset(features: features, labels: y, inputShape: shape, classCount: 3, sha256: "non-finite")
        var model = TestModels.model(TestModels.architectures[architecture].1, shape: shape)
        let all = DPSGDTrainer.accumulate(model: &model, data: data, indices: [0, 1, 2], chunk: 4, clipNorm: 0.5)
        let others = DPSGDTrainer.accumulate(model: &model, data: data, indices: [0, 2], chunk: 4, clipNorm: 0.5)
        #expect(all.allSatisfy { $0.storage.allSatisfy(\.isFinite) })
        #expect(Self.close(all, others))
    }
}
