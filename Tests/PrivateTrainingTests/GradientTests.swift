import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("Layer gradients against finite differences")
struct GradientTests {
    @Test("every parameter's analytic gradient matches central differences", arguments: TestModels.architectures.indices)
    func finiteDifferences(index: Int) {
        let (name, architecture) = TestModels.architectures[index]
        var model = TestModels.model(architecture, seed: UInt64(index + 10))
        let (x, y) = TestModels.randomBatch(rows: 3, shape: TestModels.imageShape, classes: 3, seed: UInt64(index + 100))
        let logits = model.forward(x)
        model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y[...]).gradient)
        let analytic = model.parameterGradients(exampleScales: nil)
        let parameters = model.parameters
        var probe = InsecureSeededRandomSource(seed: 7)
        for (p, tensor) in parameters.enumerated() {
            for _ in 0..<min(8, tensor.count) {
                let k = Int(probe.uniform(below: UInt64(tensor.count)))
                let h: Float = 1e-2
                var plus = model, minus = model
                var pp = parameters, pm = parameters
                pp[p].storage[k] += h
                pm[p].storage[k] -= h
                plus.parameters = pp
                minus.parameters = pm
                let numeric = (TestModels.summedLoss(plus, x, y) - TestModels.summedLoss(minus, x, y)) / Double(2 * h)
                let value = Double(analytic[p].storage[k])
                #expect(abs(numeric - value) <= 2e-2 * max(1, abs(value)),
                        "\(name): parameter \(p)[\(k)] analytic \(value) numeric \(numeric)")
            }
        }
    }

    @Test("softmax cross-entropy gradient matches central differences")
    func lossGradient() {
        let logits = Matrix(rows: 2, columns: 3, storage: [0.2, -1, 0.5, 2, 0.1, -0.3])
        let labels: [Int32] = [2, 0]
        let (_, g) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels[...])
        for k in 0..<6 {
            var plus = logits, minus = logits
            plus.storage[k] += 1e-2
            minus.storage[k] -= 1e-2
            let f = { (m: Matrix) in SoftmaxCrossEntropy.lossAndGradient(logits: m, labels: labels[...]).losses.reduce(0, +) }
            #expect(abs((f(plus) - f(minus)) / 2e-2 - g.storage[k]) < 1e-3)
        }
    }
}

@Suite("Ghost clipping against per-example gradients")
struct GhostClippingTests {
    /// Per-example gradients by running the model on one example at a time.
    private func naive(_ model: SequentialModel, _ x: Matrix, _ y: [Int32], clip: Float) -> (norms: [Float], sum: [Matrix]) {
        var sum = model.parameters.map { Matrix(rows: $0.rows, columns: $0.columns) }
        var norms: [Float] = []
        for i in 0..<x.rows {
            var m = model
            let logits = m.forward(x.rows(i..<(i + 1)))
            m.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y[i..<(i + 1)]).gradient)
            let g = m.parameterGradients(exampleScales: nil)
            let norm = g.reduce(Float(0)) { $0 + $1.frobeniusNorm * $1.frobeniusNorm }.squareRoot()
            norms.append(norm)
            let c = min(1, clip / (norm + 1e-6))
            for p in sum.indices { sum[p].add(g[p], scaledBy: c) }
        }
        return (norms, sum)
    }

    @Test("norms and clipped sums equal the naive computation (Gram and materialised conv norms)",
          arguments: TestModels.architectures.indices, [BlockNormMethod.gram, .materialized])
    func matchesNaive(index: Int, method: BlockNormMethod) {
        var model = TestModels.model(TestModels.architectures[index].1, seed: UInt64(index + 20))
        for i in model.layers.indices {
            if var conv = model.layers[i] as? Convolution2DLayer {
                conv.normMethod = method
                model.layers[i] = conv
            }
        }
        let (x, y) = TestModels.randomBatch(rows: 6, shape: TestModels.imageShape, classes: 3, seed: UInt64(index + 200))
        let clip: Float = 0.5
        let reference = naive(model, x, y, clip: clip)
        let data = try! Dataset(features: x, labels: y, inputShape: TestModels.imageShape, classCount: 3, sha256: "test")
        var probe = model
        let logits = probe.forward(x)
        probe.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y[...]).gradient)
        let ghost = probe.perExampleSquaredNorms(batch: 6).map { $0.squareRoot() }
        for i in 0..<6 { #expect(abs(ghost[i] - reference.norms[i]) <= 1e-4 * max(1, reference.norms[i])) }
        // Clipping must bite for some examples and not others for the test to mean something.
        #expect(reference.norms.contains { $0 > clip })
        let sum = DPSGDTrainer.accumulate(model: &model, data: data, indices: Array(0..<6), chunk: 4, clipNorm: clip)
        for p in sum.indices {
            for k in 0..<sum[p].count {
                #expect(abs(sum[p].storage[k] - reference.sum[p].storage[k]) <= 1e-4 * max(1, abs(reference.sum[p].storage[k])))
            }
        }
    }

    @Test("mixed ghost clipping picks materialisation for the MNIST CNN's first convolution")
    func costChoice() {
        let model = TestModels.model(ModelArchitecture.mnistCNN(classes: 10, activation: .tanh),
                                     shape: ImageShape(height: 28, width: 28, channels: 1))
        let convs = model.layers.compactMap { $0 as? Convolution2DLayer }
        #expect(convs.count == 2)
        #expect(convs[0].normMethod == .materialized)  // P = 196, K = 64, D = 16
        #expect(convs[0].outputShape == ImageShape(height: 14, width: 14, channels: 16))
        #expect(convs[1].outputShape == ImageShape(height: 5, width: 5, channels: 32))
        #expect(model.classCount == 10)
    }
}
