import _TestSupport
import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite struct FeatureLayerTests {
    @Test func groupNormalizationKnownAnswer() {
        // One example, 2 positions × 4 channels, 2 groups of 2 channels: group 0 holds {1, 2, 5, 6}
        // (mean 3.5, biased variance 4.25), group 1 holds {3, 4, 7, 8} (mean 5.5, variance 4.25).
        var layer = GroupNormalizationLayer(shape: ImageShape(height: 1, width: 2, channels: 4), groups: 2)
        let y = layer.forward(Matrix(rows: 1, columns: 8, storage: [1, 2, 3, 4, 5, 6, 7, 8]))
        let s = 1 / (4.25 + 1e-5).squareRoot()
        let expected = [-2.5, -1.5, -2.5, -1.5, 1.5, 2.5, 1.5, 2.5].map { Float($0 * s) }
        for (got, want) in zip(y.storage, expected) { #expect(abs(got - want) < 1e-6) }
    }

    @Test func featureLayersMustOpenTheModel() {
        let shape = ImageShape(height: 12, width: 12, channels: 1)
        #expect(throws: VeilError(.invalidParameter, "groupnorm(1 groups) must come before every other layer: fixed "
                                  + "feature layers open a model and have no backward pass")) {
            try ArchitectureFootprint(architecture: [.flatten, .groupNormalization(groups: 1), .dense(units: 2)],
                                      inputShape: shape)
        }
        #expect(throws: VeilError(.invalidParameter, "group normalisation into 2 groups does not divide the 81 channels of 3x3x81")) {
            try ArchitectureFootprint(architecture: [.scattering2D(scales: 2, orientations: 8), .groupNormalization(groups: 2),
                                                     .flatten, .dense(units: 2)], inputShape: shape)
        }
        let split = FixedFeatureLayers(architecture: [.scattering2D(scales: 2, orientations: 8), .groupNormalization(groups: 27),
                                                      .flatten, .dense(units: 10)])
        #expect(split.features == [.scattering2D(scales: 2, orientations: 8), .groupNormalization(groups: 27)])
        #expect(split.head == [.flatten, .dense(units: 10)])
    }

    @Test func cacheRoundTripAndInvalidation() throws {
        let folder = try TemporaryFolder("feature-cache")
        let cache = FeatureCache(folder: folder.path("cache"))
        let shape = ImageShape(height: 12, width: 12, channels: 1)
        let (x, labels) = TestModels.randomBatch(rows: 5, shape: shape, classes: 2, seed: 3)
        let data = try Dataset(features: x, labels: labels, inputShape: shape, classCount: 2, sha256: "digest-a")
        let scattering: [LayerSpecification] = [.scattering2D(scales: 2, orientations: 4)]
        let key = FeatureCache.key(data: data, layers: scattering)
        #expect(cache.load(key: key, rows: 5, columns: 3) == nil)
        let features = Matrix(rows: 5, columns: 3, storage: (0..<15).map { Float($0) / 7 })
        try cache.store(features, key: key)
        #expect(cache.load(key: key, rows: 5, columns: 3) == features)
        // Another shape than asked for is a miss, not a misread.
        #expect(cache.load(key: key, rows: 3, columns: 5) == nil)
        // Other data or another transform: another key.
        let other = try Dataset(features: x, labels: labels, inputShape: shape, classCount: 2, sha256: "digest-b")
        #expect(FeatureCache.key(data: other, layers: scattering) != key)
        #expect(FeatureCache.key(data: data, layers: [.scattering2D(scales: 2, orientations: 8)]) != key)
        // Owner-only files, no temporary file left behind, and a truncated entry is ignored.
        let path = folder.path("cache") + "/" + key + ".features"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("cache")) == [key + ".features"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.dropLast(4).write(to: URL(fileURLWithPath: path))
        #expect(cache.load(key: key, rows: 5, columns: 3) == nil)
    }

    @Test func cachedFeaturesEqualComputedOnes() throws {
        let folder = try TemporaryFolder("feature-cache-apply")
        let cache = FeatureCache(folder: folder.path("cache"))
        let shape = ImageShape(height: 12, width: 12, channels: 1)
        let (x, labels) = TestModels.randomBatch(rows: 6, shape: shape, classes: 3, seed: 11)
        let data = try Dataset(features: x, labels: labels, inputShape: shape, classCount: 3, sha256: "digest")
        let fixed = FixedFeatureLayers(architecture: [.scattering2D(scales: 2, orientations: 4), .groupNormalization(groups: 5),
                                                      .flatten, .dense(units: 3)])
        let first = try fixed.apply(to: data, cache: cache)
        let second = try fixed.apply(to: data, cache: cache)
        let uncached = try fixed.apply(to: data, cache: nil)
        #expect(first.inputShape == ImageShape(height: 3, width: 3, channels: 25))
        #expect(first.features == uncached.features && second.features == uncached.features)
        #expect(second.labels == labels && second.sha256 == "digest")
    }
}
