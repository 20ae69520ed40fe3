/// The ledger's tables on PostgreSQL, in their own schema `veil_ledger` (so a database may hold a
/// ledger beside other data): the same tables and columns as the SQLite ledger (see ``LedgerSchema``),
/// with PostgreSQL's types, plus `ledger_format`, one row holding the format number.
///
/// That row is also the ledger's write lock: every write transaction starts with
/// `SELECT … FROM ledger_format FOR UPDATE` (see ``PostgresLedgerStore``).
enum PostgresLedgerSchema {
    /// The schema that holds the tables.
    static let schema = "veil_ledger"
    /// The format this version of Veil writes and reads.
    static let format: Int64 = 1

    /// The statements that create format 1, one at a time (the extended protocol runs one per call).
    static let statements: [String] = [
        "CREATE SCHEMA IF NOT EXISTS \(schema)",
        """
        CREATE TABLE \(schema).entry (
            id BIGINT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('budget', 'reserve', 'commit', 'refund')),
            time_ms BIGINT NOT NULL,
            scope TEXT NOT NULL,
            analyst TEXT,
            purpose TEXT,
            reservation BIGINT,
            event TEXT,
            epsilon DOUBLE PRECISION,
            delta DOUBLE PRECISION,
            epsilon_units BIGINT,
            delta_units BIGINT,
            composition TEXT,
            digest TEXT,
            note TEXT,
            total_epsilon_units BIGINT,
            total_delta_units BIGINT,
            state_digest TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """,
        "CREATE INDEX entry_scope ON \(schema).entry (scope, kind, id)",
        "CREATE INDEX entry_reservation ON \(schema).entry (reservation) WHERE reservation IS NOT NULL",
        // One analyst's reservations in a scope, as the SQLite ledger's migration v4-analyst-index adds.
        "CREATE INDEX entry_analyst ON \(schema).entry (scope, analyst, epsilon_units, delta_units) WHERE kind = 'reserve'",
        """
        CREATE FUNCTION \(schema).entry_append_only() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END $$
        """,
        """
        CREATE TRIGGER entry_append_only BEFORE UPDATE OR DELETE ON \(schema).entry
        FOR EACH ROW EXECUTE FUNCTION \(schema).entry_append_only()
        """,
        """
        CREATE TRIGGER entry_no_truncate BEFORE TRUNCATE ON \(schema).entry
        FOR EACH STATEMENT EXECUTE FUNCTION \(schema).entry_append_only()
        """,
        """
        CREATE TABLE \(schema).scope_total (
            scope TEXT PRIMARY KEY, epsilon_units BIGINT NOT NULL, delta_units BIGINT NOT NULL
        )
        """,
        "CREATE TABLE \(schema).scope_composition (scope TEXT PRIMARY KEY, state TEXT NOT NULL)",
        // Created last: its presence says the schema is complete.
        "CREATE TABLE \(schema).ledger_format (format BIGINT NOT NULL)",
        "INSERT INTO \(schema).ledger_format (format) VALUES (\(format))",
    ]
}
