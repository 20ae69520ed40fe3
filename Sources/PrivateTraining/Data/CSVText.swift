import Foundation
import Mechanisms

/// A CSV file read for the tabular readers (``CSVLoader`` for training and evaluation, and
/// prediction input): UTF-8 text, the first line a header, fields comma-separated, optionally
/// double-quoted, trimmed of spaces; empty lines are skipped. Rows are split into fields on demand.
public struct CSVText {
    /// The file, for error messages.
    public let path: String
    /// The file's bytes (fingerprinted by the loaders).
    public let bytes: Data
    /// The header's column names.
    public let header: [String]
    private let lines: [Substring]

    /// Reads `path`.
    /// - Throws: `VeilError.invalidInput` when the file is missing, not UTF-8, or empty.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VeilError(.invalidInput, "data file not found: \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw VeilError(.invalidInput, "\(path) is not UTF-8 text")
        }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard !lines.isEmpty else { throw VeilError(.invalidInput, "\(path) is empty") }
        self.path = path
        self.bytes = data
        self.header = Self.fields(of: lines.removeFirst())
        self.lines = lines
    }

    /// The number of data rows (lines after the header).
    public var rowCount: Int { lines.count }

    /// Where data row `row` (0-based) is, for error messages: `PATH line N` (the header is line 1).
    public func location(ofRow row: Int) -> String { "\(path) line \(row + 2)" }

    /// The fields of data row `row` (0-based), one per header column.
    /// - Throws: `VeilError.invalidInput` when the row has another number of fields than the header.
    public func fields(ofRow row: Int) throws -> [String] {
        let fields = Self.fields(of: lines[row])
        guard fields.count == header.count else {
            throw VeilError(.invalidInput, "\(location(ofRow: row)) has \(fields.count) fields, the header has \(header.count)")
        }
        return fields
    }

    /// Field `column` of the data row `row` read by ``fields(ofRow:)``, as a finite `Float`.
    /// - Throws: `VeilError.invalidInput` when it is not a number or not finite as a `Float`.
    public func number(_ fields: [String], row: Int, column: Int) throws -> Float {
        guard let value = Float(fields[column]), value.isFinite else {
            throw VeilError(.invalidInput, "\(location(ofRow: row)), column \(header[column]): the field is not a finite number")
        }
        return value
    }

    /// The fields of one line: comma-separated, optionally double-quoted, trimmed of spaces.
    static func fields(of line: Substring) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        for ch in line {
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
