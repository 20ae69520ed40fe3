import FederatedLearning
import LinearAlgebra
import Mechanisms
import PrivateTraining
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A client's local update against hand-computed SGD steps of a tiny logistic model.
@Suite("Local training")
struct LocalTrainingTests {
    /// Two examples of two features: x₁ = (1, 2) with label 0, x₂ = (3, −1) with label 1.
    static func data() throws -> Dataset {
        try Dataset(features: Matrix(rows: 2, columns: 2, storage: [1, 2, 3, -1]), labels: [0, 1],
                    inputShape: ImageShape(height: 1, width: 1, channels: 2), classCount: 2, sha256: "test")
    }

    static func zeroModel() throws -> SequentialModel {
        var random = InsecureSeededRandomSource(seed: 1)
        var model = try SequentialModel(architecture: ModelArchitecture.logisticRegression(classes: 2),
                                        inputShape: ImageShape(height: 1, width: 1, channels: 2), random: &random)
        model.parameters = model.parameters.map { Matrix(rows: $0.rows, columns: $0.columns) }
        return model
    }

    @Test("one full-batch step from zero weights: Δ = −η · mean((p − y) xᵀ) with p = (½, ½)")
    func oneStep() throws {
        let local = try LocalTraining(epochs: 1, batchSize: 2, learningRate: 0.1)
        var order = InsecureSeededRandomSource(seed: 2)
        let delta = local.update(from: try Self.zeroModel(), data: try Self.data(), examples: [0, 1], order: &order)
        // Gradient of W (rows = classes): class 0: ½(−½x₁ + ½x₂) = (0.5, −0.75); class 1 the opposite; bias 0.
        let expected: [Float] = [-0.05, 0.075, 0.05, -0.075, 0, 0]
        #expect(delta.count == expected.count)
        for (d, e) in zip(delta, expected) { #expect(abs(d - e) < 1e-6) }
    }

    @Test("E = 2 local epochs are two steps, the second from the first's weights")
    func twoEpochs() throws {
        let eta = 0.1
        let local = try LocalTraining(epochs: 2, batchSize: 2, learningRate: eta)
        var order = InsecureSeededRandomSource(seed: 2)
        let delta = local.update(from: try Self.zeroModel(), data: try Self.data(), examples: [0, 1], order: &order)
        // By hand: W and b after each full-batch step of softmax cross-entropy.
        let x: [[Double]] = [[1, 2], [3, -1]], y = [0, 1]
        var w = [[0.0, 0], [0, 0]], b = [0.0, 0]
        for _ in 0..<2 {
            var gw = [[0.0, 0], [0, 0]], gb = [0.0, 0]
            for n in 0..<2 {
                let z = (0..<2).map { k in w[k][0] * x[n][0] + w[k][1] * x[n][1] + b[k] }
                let m = z.max()!
                let e = z.map { exp($0 - m) }
                for k in 0..<2 {
                    let p = e[k] / (e[0] + e[1]) - (k == y[n] ? 1 : 0)
                    gw[k][0] += p * x[n][0] / 2
                    gw[k][1] += p * x[n][1] / 2
                    gb[k] += p / 2
                }
            }
            for k in 0..<2 {
                w[k][0] -= eta * gw[k][0]; w[k][1] -= eta * gw[k][1]; b[k] -= eta * gb[k]
            }
        }
        let expected = [w[0][0], w[0][1], w[1][0], w[1][1], b[0], b[1]]
        for (d, e) in zip(delta, expected) { #expect(abs(Double(d) - e) < 1e-6) }
    }

    @Test("a client with no examples sends a zero update")
    func emptyClient() throws {
        let local = try LocalTraining(epochs: 3, batchSize: 4, learningRate: 0.1)
        var order = InsecureSeededRandomSource(seed: 2)
        let delta = local.update(from: try Self.zeroModel(), data: try Self.data(), examples: [], order: &order)
        #expect(delta == [Float](repeating: 0, count: 6))
    }
}
