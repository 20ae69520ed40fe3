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
    /// SHA-256 (hex) fingerprint of the data the examples came from, for the ledger entry of a training
    /// run; it is never written into a model file (what it covers
    /// depends on the loader: the source files for IDX and CSV, the values read for SQLite).
    public let sha256: String
    /// Tabular data: the name of each feature column, in the order of `features`' columns; `nil` for images.
    public let featureNames: [String]?

    /// A data set; validates shapes and that every label lies in `0 ..< classCount`.
    /// - Parameters:
    ///   - features: `N × inputShape.count` values, one example per row.
    ///   - labels: `N` labels.
    ///   - inputShape: the shape of one example.
    ///   - classCount: number of classes (at least 2).
    ///   - sha256: the fingerprint recorded in the ledger.
    ///   - featureNames: tabular data only: one name per feature column.
    /// - Throws: `VeilError.invalidInput` on a shape mismatch or a label out of range.
    public init(features: Matrix, labels: [Int32], inputShape: ImageShape, classCount: Int, sha256: String,
                featureNames: [String]? = nil) throws {
        guard features.rows == labels.count else {
            throw VeilError(.invalidInput, "\(features.rows) examples but \(labels.count) labels")
        }
        guard features.columns == inputShape.count else {
            throw VeilError(.invalidInput, "examples have \(features.columns) values, expected \(inputShape.count)")
        }
        if let featureNames, featureNames.count != features.columns {
            throw VeilError(.invalidInput, "\(featureNames.count) feature names for \(features.columns) feature columns")
        }
        guard classCount >= 2 else {
            throw VeilError(.invalidInput, "a classification data set needs at least 2 classes, got \(classCount)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw VeilError(.invalidInput,
                            "the label of example \(bad) is out of range 0..<\(classCount)")
        }
        self.features = features
        self.labels = labels
        self.inputShape = inputShape
        self.classCount = classCount
        self.sha256 = sha256
        self.featureNames = featureNames
    }

    /// Number of examples.
    public var count: Int { labels.count }

    /// The first `limit` examples (all when `limit ≥ count`); the fingerprint names the subset.
    public func prefix(_ limit: Int) -> Dataset {
        guard limit < count else { return self }
        // Shapes and labels were validated for the whole set, so the subset is valid too.
        return try! Dataset(features: features.rows(0..<limit), labels: Array(labels[0..<limit]),
                            inputShape: inputShape, classCount: classCount, sha256: "\(sha256):first\(limit)",
                            featureNames: featureNames)
    }

    /// The examples at `indices`.
    public func batch(_ indices: [Int]) -> (features: Matrix, labels: [Int32]) {
        (features.gatherRows(indices), indices.map { labels[$0] })
    }
}
