import Foundation
import GRDB
import Mechanisms

/// Options of a CSV import.
public struct CSVImportOptions: Sendable {
    /// The table to create.
    public var table: String
    /// The table's privacy metadata; when given, exactly its columns are imported, with its types.
    public var metadata: TableMetadata?
    /// CSV header names to rename (`old → new`) before anything else.
    public var renames: [String: String]
    /// CSV columns (by header name, before renaming) to leave out.
    public var skippedColumns: Set<String>
    /// Field texts read as NULL (the empty field always is).
    public var nullTokens: Set<String>
    /// Replace an existing table of the same name rather than fail.
    public var replaceExisting: Bool

    /// Creates import options.
    public init(table: String, metadata: TableMetadata? = nil, renames: [String: String] = [:],
                skippedColumns: Set<String> = [], nullTokens: Set<String> = [], replaceExisting: Bool = false) {
        self.table = table
        self.metadata = metadata
        self.renames = renames
        self.skippedColumns = skippedColumns
        self.nullTokens = nullTokens
        self.replaceExisting = replaceExisting
    }
}

/// What an import wrote.
public struct CSVImportSummary: Hashable, Sendable {
    /// One imported column.
    public struct Column: Hashable, Sendable {
        /// Its name in the table.
        public let name: String
        /// Its type (declared in the metadata, or inferred).
        public let type: ColumnType
    }

    /// Rows inserted.
    public let rows: Int
    /// The table's columns, in order.
    public let columns: [Column]
    /// CSV columns that were not imported (not in the metadata, or skipped).
    public let ignoredColumns: [String]
}

/// Loads a CSV file (RFC 4180: comma-separated, `"`-quoted fields with `""` escapes, quoted newlines) into a
/// SQLite table.
///
/// The whole import is one transaction: rows go into a scratch table that is renamed to the target at the
/// end, so a failure (a malformed row, a value of the wrong type) leaves the database as it was, and a database
/// file the import created is removed again. Errors name the CSV line.
///
/// Limits: at most ``TableMetadata/maximumColumns`` imported columns (SQLite's default `SQLITE_MAX_COLUMN`),
/// checked on the header before any row is read; no NUL character in a field, a header name or the table name
/// (SQLite would cut the text at it).
public enum CSVImporter {
    /// Imports `csv` into the database at `databasePath` (created if missing).
    /// - Parameters:
    ///   - csv: the CSV file; its first record is the header.
    ///   - databasePath: the SQLite file.
    ///   - options: table name, metadata, renames, skipped columns, NULL tokens.
    /// - Returns: what was written.
    /// - Throws: ``VeilError`` (`invalid_input`) naming the file and line of a malformed row, a missing
    ///   column, a value that does not fit its type, a NUL character, more than ``TableMetadata/maximumColumns``
    ///   columns, or an existing table without `replaceExisting`.
    public static func importCSV(at csv: URL, into databasePath: String,
                                 options: CSVImportOptions) throws -> CSVImportSummary {
        guard !options.table.utf8.contains(0) else {
            throw VeilError(.invalidInput, "the table name contains a NUL character, which SQLite cannot take in a name")
        }
        let text: String
        do {
            text = try String(contentsOf: csv, encoding: .utf8)
        } catch {
            throw VeilError(.invalidInput, "cannot read \(csv.path): \(error.localizedDescription)")
        }
        let name = csv.lastPathComponent
        var records = CSVRecords(text: text, file: name)
        guard let header = try records.next() else { throw VeilError(.invalidInput, "\(name) is empty") }

        // Column selection.
        var selected: [(index: Int, name: String)] = []
        var selectedNames = Set<String>()   // ASCII-folded, as SQLite compares column names
        var ignored: [String] = []
        for (index, raw) in header.fields.enumerated() {
            if options.skippedColumns.contains(raw) {
                ignored.append(raw)
                continue
            }
            let column = options.renames[raw] ?? raw
            if let metadata = options.metadata, metadata.column(named: column) == nil {
                ignored.append(raw)
                continue
            }
            guard !column.isEmpty else {
                throw VeilError(.invalidInput, "\(name): column \(index + 1) of the header has no name; rename it "
                                + "(--rename '=NAME') or skip it (--skip '')")
            }
            guard selectedNames.insert(column.asciiLowercased).inserted else {
                throw VeilError(.invalidInput, "\(name): column \(column) appears twice in the header")
            }
            guard selected.count < TableMetadata.maximumColumns else {
                throw VeilError(.invalidInput, "\(name): the header has more than \(TableMetadata.maximumColumns) columns "
                                + "to import, SQLite's limit for a table; leave columns out (--skip) or import the declared "
                                + "ones only (--metadata)")
            }
            selected.append((index, column))
        }
        if let metadata = options.metadata {
            let missing = metadata.columns.filter { c in !selected.contains { $0.name.caseInsensitiveEquals(c.name) } }
            guard missing.isEmpty else {
                throw VeilError(.invalidInput, "\(name) has no column " + missing.map(\.name).joined(separator: ", ")
                                + " declared for table \(metadata.name) (header: "
                                + header.fields.map { options.renames[$0] ?? $0 }.joined(separator: ", ") + ")")
            }
            // Metadata order and spelling.
            selected = metadata.columns.map { c in
                (selected.first { $0.name.caseInsensitiveEquals(c.name) }!.index, c.name)
            }
        }
        guard !selected.isEmpty else { throw VeilError(.invalidInput, "\(name): no column to import") }

        // Read every record, checking field counts.
        var rows: [(line: Int, fields: [String])] = []
        while let record = try records.next() {
            if record.fields == [""] { continue }   // blank line
            guard record.fields.count == header.fields.count else {
                throw VeilError(.invalidInput, "\(name):\(record.line): \(record.fields.count) fields, but the header "
                                + "has \(header.fields.count)")
            }
            rows.append((record.line, record.fields))
        }

        // Types: declared, or inferred (integer, else real, else text).
        let nulls = options.nullTokens.union([""])
        let types: [ColumnType] = selected.map { column in
            if let declared = options.metadata?.column(named: column.name)?.type { return declared }
            var type = ColumnType.integer
            for row in rows {
                let field = row.fields[column.index]
                if nulls.contains(field) { continue }
                if type == .integer, Int64(field) != nil { continue }
                if let d = Double(field), d.isFinite { type = .real; continue }
                return .text
            }
            return type
        }

        // Convert, then write in one transaction.
        var values: [[DatabaseValue]] = []
        values.reserveCapacity(rows.count)
        for row in rows {
            var converted: [DatabaseValue] = []
            for (position, column) in selected.enumerated() {
                let field = row.fields[column.index]
                if nulls.contains(field) {
                    converted.append(.null)
                    continue
                }
                guard let value = convert(field, to: types[position]) else {
                    throw VeilError(.invalidInput, "\(name):\(row.line): column \(column.name): '\(field)' is not "
                                    + "\(types[position] == .integer ? "an" : "a") \(types[position].rawValue)")
                }
                converted.append(value)
            }
            values.append(converted)
        }
        let table = SQLRewriter.quote(options.table)
        let scratch = SQLRewriter.quote("\(options.table)__veil_import")
        let definitions = zip(selected, types).map { column, type in
            "\(SQLRewriter.quote(column.name)) \(type == .integer || type == .boolean ? "INTEGER" : type == .real ? "REAL" : "TEXT")"
        }
        let databaseExisted = FileManager.default.fileExists(atPath: databasePath)
        do {
            try write(into: databasePath) { db in
                if try db.tableExists(options.table) {
                    guard options.replaceExisting else {
                        throw VeilError(.invalidInput, "table \(options.table) already exists in \(databasePath); "
                                        + "pass --replace to overwrite it")
                    }
                }
                try db.execute(sql: "DROP TABLE IF EXISTS \(scratch)")
                try db.execute(sql: "CREATE TABLE \(scratch) (\(definitions.joined(separator: ", ")))")
                let placeholders = selected.map { _ in "?" }.joined(separator: ", ")
                let insert = try db.makeStatement(sql: "INSERT INTO \(scratch) VALUES (\(placeholders))")
                for row in values { try insert.execute(arguments: StatementArguments(row)) }
                try db.execute(sql: "DROP TABLE IF EXISTS \(table)")
                try db.execute(sql: "ALTER TABLE \(scratch) RENAME TO \(table)")
            }
        } catch {
            // Leave nothing behind: a database this import created goes (never one that existed before).
            if !databaseExisted {
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    try? FileManager.default.removeItem(atPath: databasePath + suffix)
                }
            }
            if let error = error as? VeilError { throw error }
            throw VeilError(.invalidInput, "cannot write \(databasePath): \(SQLiteBackend.describe(error))")
        }
        return CSVImportSummary(rows: values.count, columns: zip(selected, types).map { .init(name: $0.name, type: $1) },
                                ignoredColumns: ignored)
    }

    /// Opens the database, runs `work` in one write transaction and closes the database again before returning.
    static func write(into databasePath: String, _ work: (Database) throws -> Void) throws {
        let queue = try DatabaseQueue(path: databasePath)
        try queue.write(work)
        try queue.close()
    }

    static func convert(_ field: String, to type: ColumnType) -> DatabaseValue? {
        switch type {
        case .integer:
            if let v = Int64(field) { return v.databaseValue }
            // Whole numbers written with a fraction ("3.0") are accepted; others are not integers.
            if let d = Double(field), d == d.rounded(), abs(d) < 9e15 { return Int64(d).databaseValue }
            return nil
        case .real:
            guard let d = Double(field), d.isFinite else { return nil }
            return d.databaseValue
        case .boolean:
            switch field.lowercased() {
            case "1", "true", "t", "yes": return 1.databaseValue
            case "0", "false", "f", "no": return 0.databaseValue
            default: return nil
            }
        case .text:
            return field.databaseValue
        }
    }
}

/// Iterates over the records of CSV text, remembering the line each starts on.
struct CSVRecords {
    private let scalars: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1

    init(text: String, file: String) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        self.scalars = scalars
        self.file = file
    }

    mutating func next() throws -> (line: Int, fields: [String])? {
        guard index < scalars.count else { return nil }
        let startLine = line
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var quoted = false
        var wasQuoted = false
        while index < scalars.count {
            let c = scalars[index]
            index += 1
            if quoted {
                if c == "\"" {
                    if index < scalars.count, scalars[index] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    if c == "\0" { throw nulCharacter() }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty, !wasQuoted else {
                    throw VeilError(.invalidInput, "\(file):\(line): a quote inside an unquoted field (quote the whole field and double inner quotes)")
                }
                quoted = true
                wasQuoted = true
            case ",":
                fields.append(String(field))
                field = String.UnicodeScalarView()
                wasQuoted = false
            case "\r":
                continue
            case "\n":
                line += 1
                fields.append(String(field))
                return (startLine, fields)
            case "\0":
                throw nulCharacter()
            default:
                if wasQuoted {
                    throw VeilError(.invalidInput, "\(file):\(line): text after a closing quote")
                }
                field.append(c)
            }
        }
        if quoted {
            throw VeilError(.invalidInput, "\(file):\(startLine): a quoted field is not closed before the end of the file")
        }
        fields.append(String(field))
        return (startLine, fields)
    }

    private func nulCharacter() -> VeilError {
        VeilError(.invalidInput, "\(file):\(line): a field contains a NUL character (byte 0), at which SQLite would "
                  + "cut the text; remove it from the file")
    }
}
