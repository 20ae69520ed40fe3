import BudgetLedger
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
/// The file is streamed, never held whole: a first pass checks that it is UTF-8, a second reads the header, checks
/// every record's field count and infers the types, a third converts and inserts row by row (``CSVRecords``).
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
        // Checked first, so that an encoding error is reported before any other.
        try CSVRecords.checkUTF8(csv)
        let name = csv.lastPathComponent
        var records = try CSVRecords(reading: csv, file: name)
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

        // First pass: field counts, and the types: declared, or inferred (integer, else real, else text).
        let nulls = options.nullTokens.union([""])
        let declared = selected.map { options.metadata?.column(named: $0.name)?.type }
        var inferred = [ColumnType](repeating: .integer, count: selected.count)
        while let record = try records.next() {
            if record.fields == [""] { continue }   // blank line
            guard record.fields.count == header.fields.count else {
                throw VeilError(.invalidInput, "\(name):\(record.line): \(record.fields.count) fields, but the header "
                                + "has \(header.fields.count)")
            }
            for (position, column) in selected.enumerated() where declared[position] == nil {
                let field = record.fields[column.index]
                if inferred[position] == .text || nulls.contains(field) { continue }
                if inferred[position] == .integer, Int64(field) != nil { continue }
                if let d = Double(field), d.isFinite { inferred[position] = .real } else { inferred[position] = .text }
            }
        }
        let types = selected.indices.map { declared[$0] ?? inferred[$0] }

        let table = SQLiteIdentifier.quoted(options.table)
        let scratch = SQLiteIdentifier.quoted("\(options.table)__veil_import")
        let definitions = zip(selected, types).map { column, type in
            "\(SQLiteIdentifier.quoted(column.name)) \(type == .integer || type == .boolean ? "INTEGER" : type == .real ? "REAL" : "TEXT")"
        }
        let databaseExisted = FileManager.default.fileExists(atPath: databasePath)
        var rows = 0
        do {
            try write(into: databasePath) { db in
                try db.execute(sql: "DROP TABLE IF EXISTS \(scratch)")
                try db.execute(sql: "CREATE TABLE \(scratch) (\(definitions.joined(separator: ", ")))")
                let placeholders = selected.map { _ in "?" }.joined(separator: ", ")
                let insert = try db.makeStatement(sql: "INSERT INTO \(scratch) VALUES (\(placeholders))")
                // Second pass: convert and insert row by row.
                var records = try CSVRecords(reading: csv, file: name)
                _ = try records.next()   // the header
                var converted: [DatabaseValue] = []
                while let record = try records.next() {
                    if record.fields == [""] { continue }   // blank line
                    converted.removeAll(keepingCapacity: true)
                    for (position, column) in selected.enumerated() {
                        let field = record.fields[column.index]
                        if nulls.contains(field) {
                            converted.append(.null)
                            continue
                        }
                        guard let value = convert(field, to: types[position]) else {
                            throw VeilError(.invalidInput, "\(name):\(record.line): column \(column.name): '\(field)' is "
                                            + "not \(types[position] == .integer ? "an" : "a") \(types[position].rawValue)")
                        }
                        converted.append(value)
                    }
                    try insert.execute(arguments: StatementArguments(converted))
                    rows += 1
                }
                if try db.tableExists(options.table) {
                    guard options.replaceExisting else {
                        throw VeilError(.invalidInput, "table \(options.table) already exists in \(databasePath); "
                                        + "pass --replace to overwrite it")
                    }
                }
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
        return CSVImportSummary(rows: rows, columns: zip(selected, types).map { .init(name: $0.name, type: $1) },
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
