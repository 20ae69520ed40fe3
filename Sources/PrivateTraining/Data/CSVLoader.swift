import Foundation
import LinearAlgebra
import Mechanisms

/// Loads tabular classification data from CSV: a header row, numeric feature columns and an
/// integer label column with values in `0 ..< classCount`.
public enum CSVLoader {
    /// The rows of `path` as a ``Dataset`` (features as given, not standardised).
    /// - Parameters:
    ///   - path: the CSV file (comma-separated, first line is the header; fields may be quoted).
    ///   - labelColumn: the name of the label column.
    ///   - featureColumns: the feature column names; `nil` takes every other column.
    ///   - classCount: number of classes (declared, not inferred from the data).
    /// - Throws: `VeilError.invalidInput` on a missing file or column, a non-numeric field or a label out of range.
    public static func load(path: String, labelColumn: String, featureColumns: [String]?, classCount: Int) throws -> Dataset {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VeilError(.invalidInput, "data file not found: \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw VeilError(.invalidInput, "\(path) is not UTF-8 text")
        }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard !lines.isEmpty else { throw VeilError(.invalidInput, "\(path) is empty") }
        let header = fields(of: lines.removeFirst())
        guard let labelIndex = header.firstIndex(of: labelColumn) else {
            throw VeilError(.invalidInput, "\(path) has no column \"\(labelColumn)\" (columns: \(header.joined(separator: ", ")))")
        }
        let featureNames = featureColumns ?? header.enumerated().filter { $0.offset != labelIndex && !$0.element.isEmpty }.map(\.element)
        let featureIndices = try featureNames.map { name -> Int in
            guard let i = header.firstIndex(of: name) else {
                throw VeilError(.invalidInput, "\(path) has no column \"\(name)\"")
            }
            return i
        }
        guard !featureIndices.isEmpty else { throw VeilError(.invalidInput, "no feature columns selected in \(path)") }
        var features = Matrix(rows: lines.count, columns: featureIndices.count)
        var labels = [Int32](repeating: 0, count: lines.count)
        for (r, line) in lines.enumerated() {
            let row = fields(of: line)
            guard row.count == header.count else {
                throw VeilError(.invalidInput, "\(path) line \(r + 2) has \(row.count) fields, the header has \(header.count)")
            }
            for (j, i) in featureIndices.enumerated() {
                guard let v = Float(row[i]) else {
                    throw VeilError(.invalidInput, "\(path) line \(r + 2), column \(header[i]): \"\(row[i])\" is not a number")
                }
                features[r, j] = v
            }
            guard let label = Int32(row[labelIndex]) else {
                throw VeilError(.invalidInput, "\(path) line \(r + 2): label \"\(row[labelIndex])\" is not an integer")
            }
            labels[r] = label
        }
        return try Dataset(features: features, labels: labels,
                           inputShape: ImageShape(height: 1, width: 1, channels: featureIndices.count),
                           classCount: classCount, sha256: ContentDigest.sha256Hex(of: [data]))
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

/// Per-feature standardisation `(x − mean) / std`, fitted on one split and applied to others.
///
/// Fitting reads the training data, so the means and deviations are themselves a function of
/// private data that this training run does not account for. In production they must be public
/// (domain knowledge, a public sample) or computed with a DP mechanism and charged to the budget.
public struct Standardization: Sendable, Codable {
    /// Per-feature means.
    public let means: [Float]
    /// Per-feature standard deviations (1 where a feature is constant).
    public let deviations: [Float]

    /// Fits means and deviations on `features`.
    public init(fittedOn features: Matrix) {
        let n = Float(max(1, features.rows))
        let means = features.columnSums().map { $0 / n }
        var centred = features
        centred.addToEachRow(means.map { -$0 })
        var squared = centred
        for i in squared.storage.indices { squared.storage[i] *= squared.storage[i] }
        self.means = means
        deviations = squared.columnSums().map { let d = ($0 / n).squareRoot(); return d > 0 ? d : 1 }
    }

    /// Standardises `features` in place.
    public func apply(to features: inout Matrix) {
        features.addToEachRow(means.map { -$0 })
        for r in 0..<features.rows {
            for j in 0..<features.columns { features[r, j] /= deviations[j] }
        }
    }
}
