import GRDB

/// Read-only connections to SQLite files Veil reads but never writes (the database of private queries,
/// training data).
public enum ReadOnlyDatabase {
    /// A read-only connection to the database file at `path`.
    ///
    /// Nothing is checked here beyond what opening does: callers check that the file exists first (SQLite would
    /// otherwise report a missing file only as "unable to open") and say what a failure means for them.
    /// - Parameters:
    ///   - path: the database file.
    ///   - label: the connection's label (it names the connection in SQLite's and GRDB's diagnostics).
    ///   - prepare: run on the connection as it opens, e.g. to register functions or set pragmas.
    /// - Throws: GRDB's `DatabaseError` when SQLite cannot open the file.
    public static func open(path: String, label: String,
                            prepare: (@Sendable (Database) throws -> Void)? = nil) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = label
        if let prepare { configuration.prepareDatabase(prepare) }
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}
