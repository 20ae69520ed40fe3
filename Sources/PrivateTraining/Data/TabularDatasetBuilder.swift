import LinearAlgebra
import Mechanisms

/// What the tabular loaders (``CSVLoader``, ``SQLiteLoader``) share: choosing the label and feature
/// columns by name, checking labels, and collecting values row by row into one contiguous buffer.
///
/// A loader resolves its column names with ``init(columns:labelColumn:featureColumns:classCount:source:)``,
/// then for every row calls ``appendFeature(_:)`` once per feature (in ``featureIndices`` order) and
/// ``appendLabel(_:describing:at:)`` once, and finally ``dataset(sha256:)``.
struct TabularDatasetBuilder {
    /// The label column's position among the source's columns.
    let labelIndex: Int
    /// The feature columns' positions among the source's columns, in feature order.
    let featureIndices: [Int]
    /// The feature columns' names, in feature order.
    let featureNames: [String]
    private let source: String
    private let classCount: Int
    /// Per feature (in feature order): whether the column has declared bounds (its values are clamped later).
    private let bounded: [Bool]
    private var values: [Float] = []
    private var labels: [Int32] = []

    /// Resolves the label and feature columns among `columns`.
    /// - Parameters:
    ///   - columns: the source's column names, in source order.
    ///   - labelColumn: the label column.
    ///   - featureColumns: the feature columns; `nil` takes every other (named) column in source order.
    ///   - classCount: labels must lie in `0 ..< classCount`.
    ///   - source: names the file or table in error messages.
    ///   - boundedColumns: the feature columns with declared bounds: their finite values are accepted
    ///     whatever their size (they are clamped later); other columns' values must lie within
    ///     ±``FeatureBounds/largestMagnitude``.
    /// - Throws: `VeilError.invalidInput` on an unknown column, a label column also listed as a feature,
    ///   or no feature column at all.
    init(columns: [String], labelColumn: String, featureColumns: [String]?, classCount: Int, source: String,
         boundedColumns: Set<String> = []) throws {
        func unknown(_ name: String) -> VeilError {
            VeilError(.invalidInput, "\(source) has no column \"\(name)\" (columns: \(columns.joined(separator: ", ")))")
        }
        guard let labelIndex = columns.firstIndex(of: labelColumn) else { throw unknown(labelColumn) }
        let names = featureColumns ?? columns.enumerated()
            .filter { $0.offset != labelIndex && !$0.element.isEmpty }.map(\.element)
        guard !names.contains(labelColumn) else {
            throw VeilError(.invalidInput, "the label column \"\(labelColumn)\" of \(source) is also listed as a feature column")
        }
        featureIndices = try names.map { name in
            guard let i = columns.firstIndex(of: name) else { throw unknown(name) }
            return i
        }
        guard !featureIndices.isEmpty else { throw VeilError(.invalidInput, "no feature columns selected in \(source)") }
        self.labelIndex = labelIndex
        self.featureNames = names
        self.source = source
        self.classCount = classCount
        bounded = names.map { boundedColumns.contains($0) }
    }

    /// Reserves room for `rows` examples.
    mutating func reserveCapacity(rows: Int) {
        values.reserveCapacity(rows * featureIndices.count)
        labels.reserveCapacity(rows)
    }

    /// Appends the next feature value of the current row.
    /// - Parameters:
    ///   - value: the value as read.
    ///   - location: where the row is, for the error message.
    /// - Throws: `VeilError.invalidInput` when ``FeatureBounds/checkRaw(_:bounded:at:)`` refuses the value.
    mutating func appendFeature(_ value: Float, at location: @autoclosure () -> String) throws {
        let feature = values.count % featureIndices.count
        try FeatureBounds.checkRaw(value, bounded: bounded[feature], at: "\(location()), column \"\(featureNames[feature])\"")
        values.append(value)
    }

    /// Appends the current row's label.
    /// - Parameters:
    ///   - value: the label as an integer, or `nil` when the stored value is not an integer.
    ///   - raw: how the stored value reads, for the error message.
    ///   - location: where the row is (`FILE line 7`, `table "t" of DB, rowid 7`).
    /// - Throws: `VeilError.invalidInput` when the label is not an integer in `0 ..< classCount`.
    mutating func appendLabel(_ value: Int64?, describing raw: @autoclosure () -> String, at location: @autoclosure () -> String) throws {
        guard let value else {
            throw VeilError(.invalidInput, "\(location()): the label is not an integer")
        }
        guard value >= 0, value < Int64(classCount) else {
            throw VeilError(.invalidInput, "\(location()): the label is out of range 0..<\(classCount)")
        }
        labels.append(Int32(value))
    }

    /// The collected rows as a tabular ``Dataset`` (input shape `1 × 1 × features`), with ``featureNames``.
    /// - Throws: `VeilError.invalidInput` when no row was appended.
    func dataset(sha256: String) throws -> Dataset {
        guard !labels.isEmpty else { throw VeilError(.invalidInput, "\(source) has no data rows") }
        let columns = featureIndices.count
        precondition(values.count == labels.count * columns, "every row appends one value per feature and one label")
        return try Dataset(features: Matrix(rows: labels.count, columns: columns, storage: values), labels: labels,
                           inputShape: ImageShape(height: 1, width: 1, channels: columns),
                           classCount: classCount, sha256: sha256, featureNames: featureNames)
    }

    /// The canonical bytes of the values collected, fingerprinted: SHA-256 of the feature matrix as
    /// read (row-major, IEEE-754 `Float32` little-endian) followed by the labels (`Int32` little-endian).
    var contentSHA256: String {
        let featureBytes = values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
        let labelBytes = labels.map { $0.littleEndian }.withUnsafeBytes { Array($0) }
        return ContentDigest.sha256Hex(of: [featureBytes, labelBytes])
    }
}
