import BudgetLedger
import Foundation
import GRDB
import LinearAlgebra
import Mechanisms

/// Loads tabular classification data from a table of a SQLite database: numeric feature columns
/// (`INTEGER` or `REAL` values) and an integer label column with values in `0 ..< classCount`.
///
/// The database is opened read-only. Table and column names given by the caller are checked against
/// the database's own schema (`sqlite_master`, `pragma_table_info`) before any query names them, and
/// are then quoted as SQL identifiers; no caller text is ever spliced into SQL unchecked. Rows are
/// read in `rowid` order with one cursor, straight into one contiguous `Float` buffer.
public enum SQLiteLoader {
    /// The rows of `table` as a ``Dataset`` (features as stored, not standardised).
    ///
    /// The fingerprint (``Dataset/sha256``, recorded in the ledger reservation) covers exactly the values used:
    /// SHA-256 of the feature matrix as read (rows in `rowid` order, row-major, `Float32` little-endian)
    /// followed by the labels (`Int32` little-endian). Other tables, other columns and the file's page
    /// layout do not change it.
    /// - Parameters:
    ///   - databasePath: the SQLite database file.
    ///   - table: the table to read (a table with a `rowid`, not a view).
    ///   - labelColumn: the label column.
    ///   - featureColumns: the feature columns; `nil` takes every other column in table order.
    ///   - classCount: number of classes (declared, not inferred from the data).
    ///   - boundedColumns: feature columns with declared bounds (see ``TabularDatasetBuilder``).
    /// - Throws: `VeilError.invalidInput` when the file is missing or not a SQLite database, the table or a
    ///   column does not exist, the table is empty, a feature value is `NULL`, text, a blob or not finite
    ///   (naming the row's `rowid` and the column), or a label is not an integer in `0 ..< classCount`.
    public static func load(databasePath: String, table: String, labelColumn: String, featureColumns: [String]?,
                            classCount: Int, boundedColumns: Set<String> = []) throws -> Dataset {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw VeilError(.invalidInput, "database file not found: \(databasePath)")
        }
        do {
            let queue = try ReadOnlyDatabase.open(path: databasePath, label: "veil.training-data")
            return try queue.read { db in
                try read(db, path: databasePath, table: table, labelColumn: labelColumn, featureColumns: featureColumns,
                         classCount: classCount, boundedColumns: boundedColumns)
            }
        } catch let error as VeilError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw VeilError(.invalidInput, "\(databasePath) is not a SQLite database")
        } catch let error as DatabaseError {
            throw VeilError(.invalidInput, "cannot read \(databasePath): \(error.message ?? "\(error.resultCode)")")
        }
    }

    private static func read(_ db: Database, path: String, table: String, labelColumn: String,
                             featureColumns: [String]?, classCount: Int, boundedColumns: Set<String>) throws -> Dataset {
        let source = "table \"\(table)\" of \(path)"
        // The table name is only ever bound as a value here; it reaches SQL text once it is known to exist.
        let kind = try String.fetchOne(
            db, sql: "SELECT type FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
            arguments: [table])
        guard kind == "table" else {
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name
                """)
            let known = tables.isEmpty ? "it has no tables" : "tables: \(tables.joined(separator: ", "))"
            throw VeilError(.invalidInput, kind == nil
                ? "\(path) has no table \"\(table)\" (\(known))"
                : "\"\(table)\" in \(path) is a \(kind!), not a table (\(known))")
        }
        let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
        var builder = try TabularDatasetBuilder(columns: columns, labelColumn: labelColumn, featureColumns: featureColumns,
                                                classCount: classCount, source: source, boundedColumns: boundedColumns)
        let from = SQLiteIdentifier.quoted(table)
        let selected = ([builder.labelIndex] + builder.featureIndices).map { SQLiteIdentifier.quoted(columns[$0]) }
        let rows = try Row.fetchCursor(db, sql: "SELECT rowid, \(selected.joined(separator: ", ")) FROM \(from) ORDER BY rowid")
        while let row = try rows.next() {
            let rowid: Int64 = row[0]
            for (j, column) in builder.featureNames.enumerated() {
                let value: DatabaseValue = row[j + 2]
                let number: Float
                switch value.storage {
                case .int64(let v): number = Float(v)
                case .double(let v): number = Float(v)
                case .null: throw badFeature(source, rowid, column, "is NULL")
                case .string: throw badFeature(source, rowid, column, "a text value is not a number")
                case .blob: throw badFeature(source, rowid, column, "a blob is not a number")
                }
                guard number.isFinite else { throw badFeature(source, rowid, column, "the value is not a finite Float") }
                try builder.appendFeature(number, at: "\(source), rowid \(rowid)")
            }
            let label: DatabaseValue = row[1]
            let integer: Int64? = if case .int64(let v) = label.storage { v } else { nil }
            try builder.appendLabel(integer, describing: label.isNull ? "NULL" : "\(label)",
                                    at: "\(source), rowid \(rowid)")
        }
        return try builder.dataset(sha256: builder.contentSHA256)
    }

    private static func badFeature(_ source: String, _ rowid: Int64, _ column: String, _ problem: String) -> VeilError {
        VeilError(.invalidInput, "\(source), rowid \(rowid), column \"\(column)\": \(problem)")
    }
}
