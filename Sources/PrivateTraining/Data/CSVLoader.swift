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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VeilError(.invalidInput, "data file not found: \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw VeilError(.invalidInput, "\(path) is not UTF-8 text")
        }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard !lines.isEmpty else { throw VeilError(.invalidInput, "\(path) is empty") }
        let header = fields(of: lines.removeFirst())
        var builder = try TabularDatasetBuilder(columns: header, labelColumn: labelColumn, featureColumns: featureColumns,
                                                classCount: classCount, source: path, boundedColumns: boundedColumns)
        builder.reserveCapacity(rows: lines.count)
        for (r, line) in lines.enumerated() {
            let row = fields(of: line)
            guard row.count == header.count else {
                throw VeilError(.invalidInput, "\(path) line \(r + 2) has \(row.count) fields, the header has \(header.count)")
            }
            for i in builder.featureIndices {
                guard let v = Float(row[i]), v.isFinite else {
                    throw VeilError(.invalidInput, "\(path) line \(r + 2), column \(header[i]): \"\(row[i].prefix(40))\" is not a finite number")
                }
                try builder.appendFeature(v, at: "\(path) line \(r + 2)")
            }
            let label = row[builder.labelIndex]
            try builder.appendLabel(Int64(label), describing: "\"\(label)\"", at: "\(path) line \(r + 2)")
        }
        return try builder.dataset(sha256: ContentDigest.sha256Hex(of: [data]))
    }

    private static func fields(of line: Substring) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let ch = iterator.next() {
            if quoted {
                if ch == "\"" { quoted = false } else { current.append(ch) }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                result.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(ch)
            }
        }
        result.append(current.trimmingCharacters(in: .whitespaces))
        return result
    }
}
