import LinearAlgebra
import Mechanisms
@testable import PrivateTraining

/// Small models and data shared by the tests.
enum TestModels {
    static let imageShape = ImageShape(height: 7, width: 6, channels: 2)

    static func randomBatch(rows: Int, shape: ImageShape, classes: Int, seed: UInt64) -> (Matrix, [Int32]) {
        var random = InsecureSeededRandomSource(seed: seed)
        var x = Matrix(rows: rows, columns: shape.count)
        for i in 0..<x.count { x.storage[i] = Float(random.next() >> 40) * 0x1p-24 * 2 - 1 }
        let labels = (0..<rows).map { _ in Int32(random.uniform(below: UInt64(classes))) }
        return (x, labels)
    }

    static func model(_ architecture: [LayerSpecification], shape: ImageShape = imageShape, seed: UInt64 = 1) -> SequentialModel {
        var random = InsecureSeededRandomSource(seed: seed)
        return try! SequentialModel(architecture: architecture, inputShape: shape, random: &random)
    }

    static let architectures: [(String, [LayerSpecification])] = [
        ("dense+tanh", [.flatten, .dense(units: 5), .tanh, .dense(units: 3)]),
        ("dense+relu", [.dense(units: 6), .relu, .dense(units: 3)]),
        ("conv+tanh+maxpool", [.convolution2D(filters: 3, kernel: 3, stride: 2, padding: 1), .tanh,
                               .maxPool2D(kernel: 2, stride: 1), .flatten, .dense(units: 3)]),
        ("conv+relu+avgpool", [.convolution2D(filters: 4, kernel: 2, stride: 1, padding: 0), .relu,
                               .averagePool2D(kernel: 2, stride: 2), .flatten, .dense(units: 3)]),
        ("conv+conv", [.convolution2D(filters: 3, kernel: 3, stride: 1, padding: 1), .tanh,
                       .convolution2D(filters: 2, kernel: 2, stride: 2, padding: 0), .tanh, .dense(units: 3)]),
    ]

    static func summedLoss(_ model: SequentialModel, _ x: Matrix, _ y: [Int32]) -> Double {
        var m = model
        let logits = m.forward(x)
        return SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y[...]).losses.reduce(0.0) { $0 + Double($1) }
    }
}
