import BudgetLedger
import Foundation
import GRDB
import Mechanisms

/// Reads the client key of every row of a SQLite table, in `rowid` order (the order in which
/// `PrivateTraining`'s SQLite loader reads the examples), so that row `i`'s key belongs to example `i`.
enum ClientColumnReader {
    /// The values of `column` in `table`, one per row in `rowid` order, as text (`NULL` is refused).
    /// - Throws: `VeilError.invalidInput` when the table or the column does not exist or a key is NULL.
    static func keys(databasePath: String, table: String, column: String) throws -> [String] {
        do {
            let queue = try ReadOnlyDatabase.open(path: databasePath, label: "veil.federated-clients")
            return try queue.read { db in
                let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table])
                guard let name = columns.first(where: { $0.caseInsensitiveCompare(column) == .orderedSame }) else {
                    throw VeilError(.invalidInput, "table \"\(table)\" of \(databasePath) has no client column \"\(column)\"")
                }
                let sql = "SELECT \(SQLiteIdentifier.quoted(name)) FROM \(SQLiteIdentifier.quoted(table)) ORDER BY rowid"
                let cursor = try DatabaseValue.fetchCursor(db, sql: sql)
                var keys: [String] = []
                while let value = try cursor.next() {
                    switch value.storage {
                    case .null:
                        throw VeilError(.invalidInput, "table \"\(table)\" of \(databasePath): a row has no client "
                                        + "(\(column) is NULL)")
                    case .int64(let v): keys.append(String(v))
                    case .double(let v): keys.append(String(v))
                    case .string(let v): keys.append(v)
                    case .blob(let v): keys.append(v.base64EncodedString())
                    }
                }
                return keys
            }
        } catch let error as VeilError {
            throw error
        } catch let error as DatabaseError {
            throw VeilError(.invalidInput, "cannot read \(databasePath): \(error.message ?? "\(error.resultCode)")")
        }
    }
}
