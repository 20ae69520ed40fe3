import Foundation
import LinearAlgebra
import LocalInference
import Mechanisms
import PrivateTraining
import Testing

@Suite("Inference engine")
struct InferenceEngineTests {
    private func randomInputs(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var random = InsecureSeededRandomSource(seed: seed)
        return Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in
            Float(random.next() >> 40) * 0x1p-24 * 2 - 1
        })
    }

    @Test("a dense layer with set weights gives the known logits and probabilities")
    func knownAnswer() throws {
        var model = TestModels.model([.dense(units: 2)], inputShape: ImageShape(height: 1, width: 1, channels: 2))
        model.parameters = [Matrix(rows: 2, columns: 2, storage: [1, 2, 3, 4]), Matrix(rows: 1, columns: 2, storage: [0.5, -0.5])]
        let logits = model.inferenceLogits(Matrix(rows: 2, columns: 2, storage: [1, 1, 0, -1]))
        #expect(logits.storage == [3.5, 6.5, -1.5, -4.5])
        let predictor = BatchPredictor(model: try TestModels.inferenceModel(model, name: "known"))
        let p = predictor.probabilities(Matrix(rows: 1, columns: 2, storage: [1, 1]))
        // softmax(3.5, 6.5) = (1/(1+e³), e³/(1+e³))
        #expect(abs(p[0, 0] - 0.047425874) < 1e-6)
        #expect(abs(p[0, 1] - 0.95257413) < 1e-6)
        #expect(BatchPredictor.predictedClasses(p) == [1])
    }

    @Test("the forward-only pass equals the training forward pass, for one example and for a batch",
          arguments: ["logistic", "mlp", "cnn", "mnist-mlp", "mnist-cnn"], [1, 37])
    func matchesTrainingForward(architecture: String, rows: Int) {
        let mnist = ImageShape(height: 28, width: 28, channels: 1)
        let model = switch architecture {
        case "logistic": TestModels.logistic
        case "mlp": TestModels.mlp
        case "cnn": TestModels.cnn
        // 784 → 256: one example's product runs as 24 blocks of matrix–vector products.
        case "mnist-mlp": TestModels.model(ModelArchitecture.multilayerPerceptron(hidden: [256], classes: 10, activation: .relu),
                                           inputShape: mnist)
        default: TestModels.model(ModelArchitecture.mnistCNN(classes: 10, activation: .tanh), inputShape: mnist)
        }
        let x = randomInputs(rows: rows, columns: model.inputShape.count, seed: 3)
        var training = model
        let expected = training.forward(x)
        let actual = model.inferenceLogits(x)
        #expect(actual.rows == expected.rows && actual.columns == expected.columns)
        let worst = zip(actual.storage, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4 * max(1, expected.storage.map(abs).max() ?? 1))
        // The caller's input is left as it was (only intermediate buffers are overwritten).
        #expect(x == randomInputs(rows: rows, columns: model.inputShape.count, seed: 3))
    }

    @Test("x·Wᵀ + b: known answers for one row (blocks of matrix–vector products) and for several rows")
    func affineProduct() {
        // 1,000 inputs: blocks of 9 weight rows, so 20 outputs are 9 + 9 + 2.
        let (k, n) = (1_000, 20)
        let w = Matrix(rows: n, columns: k, storage: (0..<(n * k)).map { Float(($0 % 7) - 3) })
        let bias = (0..<n).map { Float($0) / 4 }
        for rows in [1, 3] {
            let x = Matrix(rows: rows, columns: k, storage: (0..<(rows * k)).map { Float(($0 % 5) - 2) / 2 })
            let y = Matrix.affineProduct(x, weights: w, bias: bias)
            #expect(y.rows == rows && y.columns == n)
            for r in 0..<rows {
                for j in 0..<n {
                    // Small integers and halves: every partial sum is exact in FP32, so the answer is exact.
                    let exact = (0..<k).reduce(Double(bias[j])) { $0 + Double(x[r, $1]) * Double(w[j, $1]) }
                    #expect(y[r, j] == Float(exact), "row \(r), output \(j)")
                }
            }
        }
        #expect(Matrix.affineProduct(Matrix(rows: 1, columns: 0), weights: Matrix(rows: 2, columns: 0), bias: [1, 2]).storage == [1, 2])
    }

    @Test("batches of any size give the probabilities of one pass")
    func batchingIsTransparent() throws {
        let model = try TestModels.inferenceModel(TestModels.cnn, name: "cnn")
        let x = randomInputs(rows: 50, columns: 64, seed: 5)
        let whole = BatchPredictor(model: model, batchSize: 50).probabilities(x)
        var pieces: [Float] = []
        var ranges: [Range<Int>] = []
        BatchPredictor(model: model, batchSize: 16).forEachBatch(x) { rows, p in
            ranges.append(rows)
            pieces += p.storage
        }
        #expect(ranges == [0..<16, 16..<32, 32..<48, 48..<50])
        #expect(zip(pieces, whole.storage).allSatisfy { abs($0 - $1) < 1e-6 })
        for r in 0..<50 { #expect(abs((0..<10).reduce(Float(0)) { $0 + whole[r, $1] } - 1) < 1e-5) }
    }

    @Test("the batch size is capped by the model's footprint")
    func batchCap() throws {
        let model = try TestModels.inferenceModel(TestModels.cnn, name: "cnn")
        let cap = try ArchitectureFootprint(architecture: model.model.architecture, inputShape: model.inputShape).largestBatch
        #expect(BatchPredictor(model: model, batchSize: Int.max).batchSize == cap)
        #expect(BatchPredictor(model: model, batchSize: 0).batchSize == 1)
    }

    @Test("tabular inputs are clamped and scaled by the declared bounds; non-finite values are refused")
    func preparation() throws {
        let folder = try TestModels.temporaryFolder("prepare")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.safetensors").path
        try TestModels.writeTabular(to: path)
        let model = try InferenceModel(path: path, name: "m")
        #expect(model.featureNames == TestModels.featureColumns)
        var x = Matrix(rows: 2, columns: 3, storage: [25, 1000, 2, 150, -3, 0])
        try model.prepare(&x)
        // age: (2·25 − 100)/100 = −0.5; 150 clamps to 100 → 1. Other columns as given.
        #expect(x.storage == [-0.5, 1000, 2, 1, -3, 0])
        var nan = Matrix(rows: 1, columns: 3, storage: [1, .nan, 2])
        #expect(throws: VeilError.self) { try model.prepare(&nan) }
        var huge = Matrix(rows: 1, columns: 3, storage: [1, 2e12, 2])
        #expect(throws: VeilError.self) { try model.prepare(&huge) }
        var hugeBounded = Matrix(rows: 1, columns: 3, storage: [3e12, 2, 2])
        try model.prepare(&hugeBounded)
        #expect(hugeBounded.storage == [1, 2, 2])
    }

    @Test("architecture names")
    func architectureNames() {
        #expect(InferenceModel.architectureName(TestModels.logistic.architecture) == "logistic")
        #expect(InferenceModel.architectureName(TestModels.mlp.architecture) == "mlp")
        #expect(InferenceModel.architectureName(TestModels.cnn.architecture) == "cnn")
    }
}
