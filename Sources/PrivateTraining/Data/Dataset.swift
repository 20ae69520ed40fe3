import LinearAlgebra
import Mechanisms

/// A labelled classification data set held in memory: one example per row of `features`.
public struct Dataset: Sendable {
    /// `N × inputShape.count` feature values.
    public var features: Matrix
    /// `N` labels in `0 ..< classCount`.
    public var labels: [Int32]
    /// The shape of one example (tabular data: `1 × 1 × features`).
    public let inputShape: ImageShape
    /// Number of classes.
    public let classCount: Int
    /// SHA-256 (hex) of the source bytes the examples were decoded from, for model cards.
    public let sha256: String

    /// A data set; validates shapes and that every label lies in `0 ..< classCount`.
    /// - Throws: `VeilError.invalidInput` on a shape mismatch or a label out of range.
    public init(features: Matrix, labels: [Int32], inputShape: ImageShape, classCount: Int, sha256: String) throws {
        guard features.rows == labels.count else {
            throw VeilError(.invalidInput, "\(features.rows) examples but \(labels.count) labels")
        }
        guard features.columns == inputShape.count else {
            throw VeilError(.invalidInput, "examples have \(features.columns) values, expected \(inputShape.count)")
        }
        guard classCount >= 2 else {
            throw VeilError(.invalidInput, "a classification data set needs at least 2 classes, got \(classCount)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw VeilError(.invalidInput,
                            "label \(labels[bad]) of example \(bad) is out of range 0..<\(classCount)")
        }
        self.features = features
        self.labels = labels
        self.inputShape = inputShape
        self.classCount = classCount
        self.sha256 = sha256
    }

    /// Number of examples.
    public var count: Int { labels.count }

    /// The first `limit` examples (all when `limit ≥ count`); the fingerprint names the subset.
    public func prefix(_ limit: Int) -> Dataset {
        guard limit < count else { return self }
        // Shapes and labels were validated for the whole set, so the subset is valid too.
        return try! Dataset(features: features.rows(0..<limit), labels: Array(labels[0..<limit]),
                            inputShape: inputShape, classCount: classCount, sha256: "\(sha256):first\(limit)")
    }

    /// The examples at `indices`.
    public func batch(_ indices: [Int]) -> (features: Matrix, labels: [Int32]) {
        (features.gatherRows(indices), indices.map { labels[$0] })
    }
}
