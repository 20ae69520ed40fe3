import Foundation
import LinearAlgebra
import Mechanisms

/// Loads tabular classification data from CSV: a header row, numeric feature columns and an
/// integer label column with values in `0 ..< classCount`.
public enum CSVLoader {
    /// The rows of `path` as a ``Dataset`` (features as given, not standardised), whose fingerprint is
    /// the SHA-256 of the file's bytes and whose ``Dataset/featureNames`` are the feature columns used.
    /// - Parameters:
    ///   - path: the CSV file (comma-separated, first line is the header; fields may be quoted).
    ///   - labelColumn: the name of the label column.
    ///   - featureColumns: the feature column names; `nil` takes every other column.
    ///   - classCount: number of classes (declared, not inferred from the data).
    ///   - boundedColumns: feature columns with declared bounds (see ``TabularDatasetBuilder``).
    /// - Throws: `VeilError.invalidInput` on a missing file or column, a non-numeric or non-finite field, a value
    ///   beyond ±``FeatureBounds/largestMagnitude`` in a column without bounds, or a label that is not an
    ///   integer in `0 ..< classCount`.
    public static func load(path: String, labelColumn: String, featureColumns: [String]?, classCount: Int,
                            boundedColumns: Set<String> = []) throws -> Dataset {
        let csv = try CSVText(path: path)
        var builder = try TabularDatasetBuilder(columns: csv.header, labelColumn: labelColumn, featureColumns: featureColumns,
                                                classCount: classCount, source: path, boundedColumns: boundedColumns)
        builder.reserveCapacity(rows: csv.rowCount)
        for r in 0..<csv.rowCount {
            let row = try csv.fields(ofRow: r)
            for i in builder.featureIndices {
                try builder.appendFeature(try csv.number(row, row: r, column: i), at: csv.location(ofRow: r))
            }
            let label = row[builder.labelIndex]
            try builder.appendLabel(Int64(label), describing: "\"\(label)\"", at: csv.location(ofRow: r))
        }
        return try builder.dataset(sha256: ContentDigest.sha256Hex(of: [csv.bytes]))
    }
}
