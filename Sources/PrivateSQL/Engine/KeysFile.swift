import Foundation
import GRDB
import Mechanisms

/// Reads the public group keys of a query from a file (`veil query --keys FILE`).
///
/// Keys given this way replace the metadata's `public_values` for the query: every listed key is released
/// (empty groups included, no δ spent on partition selection) and rows with other keys are dropped. They must
/// be chosen without looking at the data, like `public_values`.
///
/// Two formats, chosen by the file's content:
/// - JSON: an object mapping each column to its list of values, `{"region": ["north", "south"]}`, or a list of
///   objects, one per key, `[{"region": "north", "year": 1984}, …]` (each column's distinct values are taken).
/// - CSV: a header naming the columns, then one value per line and column; empty fields are skipped, repeated
///   values are kept once. A one-column file is simply a list of keys.
///
/// Values are converted to the column's declared type (`integer`, `real`, `boolean` as 0/1, `text`).
public enum KeysFile {
    /// Loads the key values per column from `url` for `table`.
    /// - Parameters:
    ///   - url: a JSON or CSV file.
    ///   - table: the queried table's metadata (column names and types).
    /// - Returns: for each column named in the file (by its declared spelling), its distinct values in file order.
    /// - Throws: ``VeilError`` (`invalid_input`) naming the file and the problem: unreadable file, unknown column,
    ///   a value that does not fit the column's type, or a column without values.
    public static func load(contentsOf url: URL, table: TableMetadata) throws -> [String: [SQLValue]] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw VeilError(.invalidInput, "cannot read the keys file \(url.path): \(error.localizedDescription)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let file = url.lastPathComponent
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            return try parseJSON(data, file: file, table: table)
        }
        return try parseCSV(text, file: file, table: table)
    }

    /// Parses the CSV form (see ``KeysFile``).
    static func parseCSV(_ text: String, file: String, table: TableMetadata) throws -> [String: [SQLValue]] {
        var records = CSVRecords(text: text, file: file)
        guard let header = try records.next() else { throw VeilError(.invalidInput, "\(file): the keys file is empty") }
        let columns = try header.fields.map { try column($0.trimmingCharacters(in: .whitespaces), file: file, table: table) }
        var lists = [[SQLValue]](repeating: [], count: columns.count)
        while let record = try records.next() {
            if record.fields.count == 1, record.fields[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard record.fields.count == columns.count else {
                throw VeilError(.invalidInput, "\(file):\(record.line): \(record.fields.count) fields, but the header "
                                + "has \(columns.count)")
            }
            for (i, field) in record.fields.enumerated() where !field.isEmpty {
                lists[i].append(try value(field, column: columns[i], file: "\(file):\(record.line)"))
            }
        }
        return try collect(zip(columns, lists).map { ($0.name, $1) }, file: file)
    }

    /// Parses the JSON form (see ``KeysFile``).
    static func parseJSON(_ data: Data, file: String, table: TableMetadata) throws -> [String: [SQLValue]] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw VeilError(.invalidInput, "\(file): not valid JSON: \(error.localizedDescription)")
        }
        var pairs: [(String, [SQLValue])] = []
        if let map = object as? [String: Any] {
            for name in map.keys.sorted() {
                let declared = try column(name, file: file, table: table)
                guard let list = map[name] as? [Any] else {
                    throw VeilError(.invalidInput, "\(file): the keys of \(name) must be a list")
                }
                pairs.append((declared.name, try list.map { try value($0, column: declared, file: file) }))
            }
        } else if let list = object as? [[String: Any]] {
            var order: [String] = []
            var lists: [String: [SQLValue]] = [:]
            for entry in list {
                for name in entry.keys.sorted() {
                    let declared = try column(name, file: file, table: table)
                    if lists[declared.name] == nil { order.append(declared.name) }
                    lists[declared.name, default: []].append(try value(entry[name]!, column: declared, file: file))
                }
            }
            pairs = order.map { ($0, lists[$0]!) }
        } else {
            throw VeilError(.invalidInput, "\(file): expected an object of lists ({\"region\": [\"north\"]}) or a list "
                            + "of objects ([{\"region\": \"north\"}])")
        }
        return try collect(pairs, file: file)
    }

    static func column(_ name: String, file: String, table: TableMetadata) throws -> ColumnMetadata {
        guard let column = table.column(named: name) else {
            throw VeilError(.invalidInput, "\(file): '\(name)' is not a column of table \(table.name) (columns: "
                            + table.columns.map(\.name).joined(separator: ", ") + ")")
        }
        return column
    }

    static func value(_ raw: Any, column: ColumnMetadata, file: String) throws -> SQLValue {
        let text: String
        switch raw {
        case let s as String: text = s
        case let n as NSNumber: text = n.stringValue
        default:
            throw VeilError(.invalidInput, "\(file): a key of \(column.name) is neither a string nor a number")
        }
        guard let converted = CSVImporter.convert(text.trimmingCharacters(in: .whitespaces), to: column.type) else {
            throw VeilError(.invalidInput, "\(file): column \(column.name): '\(text)' is not a valid \(column.type.rawValue)")
        }
        return SQLValue(converted)
    }

    static func collect(_ pairs: [(String, [SQLValue])], file: String) throws -> [String: [SQLValue]] {
        var result: [String: [SQLValue]] = [:]
        for (name, values) in pairs {
            var seen = Set<SQLValue>()
            let distinct = values.filter { seen.insert($0).inserted }
            guard !distinct.isEmpty else { throw VeilError(.invalidInput, "\(file): no keys are listed for \(name)") }
            result[name] = distinct
        }
        return result
    }
}
