/// SQLite identifiers (table and column names) in SQL text.
///
/// Shared by every module that writes SQL over names it did not choose (private SQL, the CSV importer, the
/// training-data loader); it sits with the ledger, the one module they all depend on that uses SQLite.
public enum SQLiteIdentifier {
    /// `name` as a SQL identifier: in double quotes, embedded double quotes doubled (SQLite, "SQLite Keywords").
    public static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
