import Foundation
import Mechanisms

/// Small learnable image data sets in IDX form: 12 × 12 images whose label (0, 1 or 2) sets which third of
/// the rows holds a bright bar, plus seeded pixel noise.
public enum BarImages {
    /// Writes `count` (at most 255) images to `path` and their labels to `labelsPath`, uncompressed.
    public static func writeIDX(images path: String, labels labelsPath: String, count: Int, seed: UInt64) throws {
        precondition(count <= 255, "the header writes the count in one byte")
        var random = InsecureSeededRandomSource(seed: seed)
        var images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 12, 0, 0, 0, 12]
        var labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, UInt8(count)]
        for _ in 0..<count {
            let label = UInt8(random.uniform(below: UInt64(3)))
            labels.append(label)
            images += (0..<144).map { p in
                let onBar = (p / 12) / 4 == Int(label)
                return UInt8(min(255, (onBar ? 180 : 0) + Int(random.uniform(below: UInt64(60)))))
            }
        }
        try Data(images).write(to: URL(fileURLWithPath: path))
        try Data(labels).write(to: URL(fileURLWithPath: labelsPath))
    }

    /// Writes a training split of `trainCount` and a test split of `testCount` images into `folder` as
    /// `train-images`, `train-labels`, `test-images` and `test-labels`.
    public static func writeSplits(in folder: TemporaryFolder, trainCount: Int, testCount: Int) throws {
        try writeIDX(images: folder.path("train-images"), labels: folder.path("train-labels"), count: trainCount, seed: 1)
        try writeIDX(images: folder.path("test-images"), labels: folder.path("test-labels"), count: testCount, seed: 2)
    }

    /// The `data:` section of a pipeline over the splits of ``writeSplits(in:trainCount:testCount:)`` (declared
    /// size `size`).
    public static func dataSection(size: Int) -> String {
        """
        data:
          format: idx
          train_images: train-images
          train_labels: train-labels
          test_images: test-images
          test_labels: test-labels
          classes: 3
          size: \(size)
        """
    }

    /// The `data:` and `model:` sections of a pipeline over the splits of ``writeSplits(in:trainCount:testCount:)``
    /// (declared size `size`): logistic regression on ScatterNet features (J = 2, L = 4, cached in `feature-cache`)
    /// and `normalization`.
    public static func featurePipelineSections(size: Int, normalization: String = "{type: group, groups: 5}") -> String {
        """
        \(dataSection(size: size))
        model:
          architecture: logistic
          features: {type: scattering, J: 2, L: 4, cache: feature-cache}
          normalization: \(normalization)
        """
    }
}
