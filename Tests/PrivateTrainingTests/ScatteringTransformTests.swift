import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

/// Kymatio's coefficients for three MNIST test images (`scripts/scattering_reference.py`).
private struct ScatteringReference: Decodable {
    let J: Int
    let L: Int
    let height: Int
    let width: Int
    let channels: Int
    let outputHeight: Int
    let outputWidth: Int
    let images: [[Float]]
    /// Per image, kymatio's order: channel, row, column.
    let coefficients: [[Double]]

    static func load() throws -> ScatteringReference {
        let url = try #require(Bundle.module.url(forResource: "scattering_mnist_reference", withExtension: "json",
                                                 subdirectory: "Resources"))
        return try JSONDecoder().decode(ScatteringReference.self, from: Data(contentsOf: url))
    }
}

@Suite struct ScatteringTransformTests {
    @Test func matchesKymatioOnMNISTImages() throws {
        let reference = try ScatteringReference.load()
        let shape = ImageShape(height: reference.height, width: reference.width, channels: 1)
        let transform = try ScatteringTransform2D(inputShape: shape, scales: reference.J, orientations: reference.L)
        #expect(transform.outputShape == ImageShape(height: reference.outputHeight, width: reference.outputWidth,
                                                    channels: reference.channels))
        let images = Matrix(rows: reference.images.count, columns: shape.count, storage: reference.images.flatMap { $0 })
        let output = transform.apply(images)
        let (k, oh, ow) = (reference.channels, reference.outputHeight, reference.outputWidth)
        // Relative to the largest coefficient of the channel's image, so that near-zero values of a channel
        // are compared at the channel's scale (10⁻⁴ relative, as float32 Kymatio filters allow).
        var worst = 0.0
        for (n, expected) in reference.coefficients.enumerated() {
            let scale = expected.map(abs).max()!
            for channel in 0..<k {
                for row in 0..<oh {
                    for column in 0..<ow {
                        let want = expected[(channel * oh + row) * ow + column]
                        let got = Double(output[n, (row * ow + column) * k + channel])
                        let error = abs(got - want) / max(abs(want), 1e-3 * scale)
                        worst = max(worst, error)
                    }
                }
            }
        }
        #expect(worst < 1e-4, "largest relative error \(worst)")
    }

    @Test func channelCountsFollowTheOrderTwoFormula() throws {
        #expect(ScatteringTransform2D.channelCount(scales: 2, orientations: 8) == 81)
        #expect(ScatteringTransform2D.channelCount(scales: 3, orientations: 8) == 217)
        let t = try ScatteringTransform2D(inputShape: ImageShape(height: 32, width: 20, channels: 1), scales: 3, orientations: 4)
        #expect(t.outputShape == ImageShape(height: 4, width: 2, channels: 1 + 12 + 16 * 3))
    }

    @Test func refusesUnsupportedShapesWithTheirLimits() {
        #expect(throws: VeilError(.invalidParameter, "the scattering transform takes single-channel images, got 28x28x3")) {
            try ScatteringTransform2D(inputShape: ImageShape(height: 28, width: 28, channels: 3), scales: 2, orientations: 8)
        }
        #expect(throws: VeilError.invalidParameter("scattering J", 5, allowed: "in 1...4")) {
            try ScatteringTransform2D(inputShape: ImageShape(height: 28, width: 28, channels: 1), scales: 5, orientations: 8)
        }
    }

    @Test func batchResultsEqualOneImageAtATime() throws {
        let shape = ImageShape(height: 12, width: 10, channels: 1)
        let transform = try ScatteringTransform2D(inputShape: shape, scales: 2, orientations: 4)
        let (batch, _) = TestModels.randomBatch(rows: 9, shape: shape, classes: 2, seed: 7)
        let together = transform.apply(batch)
        for i in 0..<batch.rows {
            let alone = transform.apply(batch.rows(i..<(i + 1)))
            #expect(alone.storage == Array(together.storage[(i * alone.columns)..<((i + 1) * alone.columns)]))
        }
    }
}
