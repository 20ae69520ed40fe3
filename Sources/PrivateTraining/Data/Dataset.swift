import LinearAlgebra
import Mechanisms

/// A labelled classification data set held in memory: one example per row of `features`, or per `views`
/// consecutive rows when each example comes with augmented views of itself (``ShiftAugmentation``).
public struct Dataset: Sendable {
    /// `N·views × inputShape.count` feature values: example `i` is rows `i·views ..< (i+1)·views`.
    public var features: Matrix
    /// Rows of `features` per example: 1, or the number of augmented views of each example, whose gradients
    /// DP-SGD averages before clipping (augmentation multiplicity, ``DPSGDTrainer``).
    public let views: Int
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
    ///   - features: `N·views × inputShape.count` values, one example per row (per `views` rows).
    ///   - labels: `N` labels.
    ///   - inputShape: the shape of one example.
    ///   - classCount: number of classes (at least 2).
    ///   - sha256: the fingerprint recorded in the ledger.
    ///   - featureNames: tabular data only: one name per feature column.
    ///   - views: rows per example (at least 1).
    /// - Throws: `VeilError.invalidInput` on a shape mismatch or a label out of range.
    public init(features: Matrix, labels: [Int32], inputShape: ImageShape, classCount: Int, sha256: String,
                featureNames: [String]? = nil, views: Int = 1) throws {
        guard views >= 1, features.rows == labels.count * views else {
            throw VeilError(.invalidInput, views == 1 ? "\(features.rows) examples but \(labels.count) labels"
                            : "\(features.rows) rows but \(labels.count) labels of \(views) views each")
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
        self.views = views
    }

    /// Number of examples.
    public var count: Int { labels.count }

    /// The first `limit` examples (all when `limit ≥ count`); the fingerprint names the subset.
    public func prefix(_ limit: Int) -> Dataset {
        guard limit < count else { return self }
        // Shapes and labels were validated for the whole set, so the subset is valid too.
        return try! Dataset(features: features.rows(0..<(limit * views)), labels: Array(labels[0..<limit]),
                            inputShape: inputShape, classCount: classCount, sha256: "\(sha256):first\(limit)",
                            featureNames: featureNames, views: views)
    }

    /// The examples at `indices`: `views` rows each, each row with its example's label.
    public func batch(_ indices: [Int]) -> (features: Matrix, labels: [Int32]) {
        guard views > 1 else { return (features.gatherRows(indices), indices.map { labels[$0] }) }
        let rows = indices.flatMap { ($0 * views)..<(($0 + 1) * views) }
        return (features.gatherRows(rows), rows.map { labels[$0 / views] })
    }
}
