import BudgetLedger
import Foundation
import GRDB
import Mechanisms
import PostgresClient

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
    /// Where the rows went: the SQLite file, or the PostgreSQL URL without its password.
    public let destination: String
}

/// Loads a CSV file (RFC 4180: comma-separated, `"`-quoted fields with `""` escapes, quoted newlines) into a
/// SQLite table, or into a PostgreSQL table with `COPY` (the same column selection, types and messages; integers
/// are `int8`, reals `float8`, booleans `boolean`, text `text`).
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
    /// Imports `csv` into the database at `databasePath` (a SQLite file, created if missing, or a `postgres://` URL).
    /// - Parameters:
    ///   - csv: the CSV file; its first record is the header.
    ///   - databasePath: the SQLite file, or the PostgreSQL URL.
    ///   - options: table name, metadata, renames, skipped columns, NULL tokens.
    /// - Returns: what was written.
    /// - Throws: ``VeilError`` (`invalid_input`) naming the file and line of a malformed row, a missing
    ///   column, a value that does not fit its type, a NUL character, more than ``TableMetadata/maximumColumns``
    ///   columns, or an existing table without `replaceExisting`.
    public static func importCSV(at csv: URL, into databasePath: String,
                                 options: CSVImportOptions) throws -> CSVImportSummary {
        let layout = try CSVLayout(csv: csv, options: options)
        let rows: Int
        let destination: String
        if PostgresURL.isPostgresURL(databasePath) {
            let url = try PostgresURL(databasePath)
            rows = try copy(layout, csv: csv, into: url, options: options)
            destination = url.redacted
        } else {
            rows = try insert(layout, csv: csv, into: databasePath, options: options)
            destination = databasePath
        }
        return CSVImportSummary(rows: rows, columns: zip(layout.selected, layout.types).map { .init(name: $0.name, type: $1) },
                                ignoredColumns: layout.ignored, destination: destination)
    }
}

/// What a CSV import reads: the selected columns, their types, the ignored ones (read in two streaming passes:
/// UTF-8, then header, field counts and inferred types).
struct CSVLayout {
    /// The file's name, for messages.
    let name: String
    let selected: [(index: Int, name: String)]
    let types: [ColumnType]
    let ignored: [String]
    let nulls: Set<String>

    init(csv: URL, options: CSVImportOptions) throws {
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
        self.name = name
        self.selected = selected
        types = selected.indices.map { declared[$0] ?? inferred[$0] }
        self.ignored = ignored
        self.nulls = nulls
    }

    /// The selected fields of each data record, checked against their types, in order (blank lines skipped).
    /// - Throws: ``VeilError`` (`invalid_input`) naming the line and column of a value that does not fit its type.
    func forEachRecord(_ csv: URL, _ body: ([String?]) throws -> Void) throws {
        var records = try CSVRecords(reading: csv, file: name)
        _ = try records.next()   // the header
        while let record = try records.next() {
            if let fields = try fields(of: record) { try body(fields) }
        }
    }

    /// The selected fields of `record` (`nil` for NULL), or `nil` for a blank line.
    /// - Throws: ``VeilError`` (`invalid_input`) naming the line and column of a value that does not fit its type.
    func fields(of record: (line: Int, fields: [String])) throws -> [String?]? {
        if record.fields == [""] { return nil }   // blank line
        var fields: [String?] = []
        fields.reserveCapacity(selected.count)
        for (position, column) in selected.enumerated() {
            let field = record.fields[column.index]
            if nulls.contains(field) {
                fields.append(nil)
                continue
            }
            guard CSVImporter.convert(field, to: types[position]) != nil else {
                // The file and line say where; the value itself is private data and is not repeated (DESIGN §2, rule 7).
                throw VeilError(.invalidInput, "\(name):\(record.line): column \(column.name): the value is "
                                + "not \(types[position] == .integer ? "an" : "a") \(types[position].rawValue)")
            }
            fields.append(field)
        }
        return fields
    }
}

/// The data records of a CSV file as blocks of `COPY` text (``PostgresCopyText``), for
/// ``PostgresSession/copyIn(table:columns:produce:)``: values converted as SQLite's import converts them.
final class CSVCopyBlocks {
    private let layout: CSVLayout
    private var records: CSVRecords?
    private let csv: URL
    /// Rows produced so far.
    private(set) var rows = 0

    init(layout: CSVLayout, csv: URL) {
        self.layout = layout
        self.csv = csv
    }

    /// The next block of up to 4096 rows, `nil` at the end.
    func next() throws -> [UInt8]? {
        if records == nil {
            records = try CSVRecords(reading: csv, file: layout.name)
            _ = try records!.next()   // the header
        }
        var block = ""
        var count = 0
        while count < 4096, let record = try records!.next() {
            guard let fields = try layout.fields(of: record) else { continue }
            block += PostgresCopyText.row(zip(fields, layout.types).map { field, type in
                field.map { Self.copyText($0, type) }
            })
            count += 1
        }
        rows += count
        return count == 0 ? nil : Array(block.utf8)
    }

    /// A checked field as PostgreSQL reads it: integers and reals in their canonical form, booleans as t or f.
    private static func copyText(_ field: String, _ type: ColumnType) -> String {
        switch CSVImporter.convert(field, to: type)?.storage {
        case .int64(let v): type == .boolean ? (v == 1 ? "t" : "f") : String(v)
        case .double(let d): String(d)
        default: field
        }
    }
}

extension CSVImporter {
    /// Writes the rows into a SQLite file, through a scratch table renamed at the end; returns the row count.
    static func insert(_ layout: CSVLayout, csv: URL, into databasePath: String, options: CSVImportOptions) throws -> Int {
        let (selected, types) = (layout.selected, layout.types)
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
                var converted: [DatabaseValue] = []
                try layout.forEachRecord(csv) { fields in
                    converted.removeAll(keepingCapacity: true)
                    for (position, field) in fields.enumerated() {
                        converted.append(field.flatMap { convert($0, to: types[position]) } ?? .null)
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
        return rows
    }

    /// Writes the rows into a PostgreSQL table with `COPY`, in one transaction through a scratch table renamed at the
    /// end (a failure leaves the database as it was); returns the row count.
    static func copy(_ layout: CSVLayout, csv: URL, into url: PostgresURL, options: CSVImportOptions) throws -> Int {
        let session = try PostgresSession(url: url, applicationName: "veil import")
        defer { session.close() }
        let scratchName = "\(options.table)__veil_import"
        let scratch = PostgresIdentifier.quote(scratchName)
        let definitions = zip(layout.selected, layout.types).map { column, type in
            let sqlType = switch type {
            case .integer: "int8"
            case .real: "float8"
            case .boolean: "boolean"
            case .text: "text"
            }
            return "\(PostgresIdentifier.quote(column.name)) \(sqlType)"
        }
        var rows = 0
        do {
            try session.transaction(isolation: .readCommitted, attempts: 1) { session in
                try session.execute("DROP TABLE IF EXISTS \(scratch)")
                try session.execute("CREATE TABLE \(scratch) (\(definitions.joined(separator: ", ")))")
                // The file is read on the COPY's own task, a block of rows at a time.
                let blocks = CSVCopyBlocks(layout: layout, csv: csv)
                try session.copyIn(table: scratchName, columns: layout.selected.map(\.name)) { try blocks.next() }
                rows = blocks.rows
                let exists = try session.query("SELECT to_regclass($1) IS NOT NULL",
                                               [.text(PostgresIdentifier.quote(options.table))])
                if exists.first?.first == .boolean(true) {
                    guard options.replaceExisting else {
                        throw VeilError(.invalidInput, "table \(options.table) already exists in \(url.redacted); "
                                        + "pass --replace to overwrite it")
                    }
                    try session.execute("DROP TABLE \(PostgresIdentifier.quote(options.table))")
                }
                try session.execute("ALTER TABLE \(scratch) RENAME TO \(PostgresIdentifier.quote(options.table))")
            }
        } catch {
            if let error = error as? VeilError, error.code == .invalidInput { throw error }
            throw VeilError(.databaseError, "cannot write \(url.redacted): \(PostgresSession.describe(error))", cause: error)
        }
        return rows
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
