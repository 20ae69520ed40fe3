import GRDB

/// The ledger's tables in SQLite, created by migrations (``PostgresLedgerSchema`` mirrors them on PostgreSQL).
///
/// - `entry`: the append-only hash chain (see ``LedgerEntry``). Triggers refuse `UPDATE` and
///   `DELETE`, so only someone who edits the file deliberately (dropping the triggers) can change an
///   entry, and `verify` detects that.
/// - `scope_total`: per budget, the fixed-point sum of the units of every reservation that was not
///   refunded. It is a cache; a charge checks it against the total that the scope's last `reserve`
///   or `refund` entry records (format 2, hashed) and refuses on a mismatch; `verify` recomputes it
///   from the entries.
///
/// Format 2 (migration `v2-chain-totals`) adds the columns `total_epsilon_units` and
/// `total_delta_units` to `entry`. Entries written before stay NULL there and hash as before.
///
/// Format 3 (migration `v3-composed-state`) adds the column `state_digest` to `entry` (NULL in every
/// existing entry, which hashes as before) and the table `scope_composition`: per `rdp` or `zcdp`
/// budget, its composed state (``ComposedState``) after the last `reserve` or `refund`, whose
/// SHA-256 that entry records in `state_digest`.
///
/// Migration `v4-analyst-index` adds the index `entry_analyst` over the reservations of each (scope,
/// analyst), so that a charge with a per-analyst limit and ``Ledger/spending(scope:analyst:)`` read that
/// analyst's reservations only, not every reservation of the scope. An index changes no row and no hash.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-entries") { db in
            try db.execute(sql: """
                CREATE TABLE entry (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('budget', 'reserve', 'commit', 'refund')),
                    time_ms INTEGER NOT NULL,
                    scope TEXT NOT NULL,
                    analyst TEXT,
                    purpose TEXT,
                    reservation INTEGER,
                    event TEXT,
                    epsilon REAL,
                    delta REAL,
                    epsilon_units INTEGER,
                    delta_units INTEGER,
                    composition TEXT,
                    digest TEXT,
                    note TEXT,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE INDEX entry_scope ON entry (scope, kind);
                CREATE INDEX entry_reservation ON entry (reservation) WHERE reservation IS NOT NULL;
                CREATE TRIGGER entry_append_only_update BEFORE UPDATE ON entry
                BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
                CREATE TRIGGER entry_append_only_delete BEFORE DELETE ON entry
                BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
                CREATE TABLE scope_total (
                    scope TEXT PRIMARY KEY,
                    epsilon_units INTEGER NOT NULL,
                    delta_units INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-chain-totals") { db in
            // Adding nullable columns changes no stored row, so every existing hash still holds.
            try db.execute(sql: """
                ALTER TABLE entry ADD COLUMN total_epsilon_units INTEGER;
                ALTER TABLE entry ADD COLUMN total_delta_units INTEGER;
                """)
        }
        migrator.registerMigration("v3-composed-state") { db in
            try db.execute(sql: """
                ALTER TABLE entry ADD COLUMN state_digest TEXT;
                CREATE TABLE scope_composition (
                    scope TEXT PRIMARY KEY,
                    state TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-analyst-index") { db in
            try db.execute(sql: """
                CREATE INDEX entry_analyst ON entry (scope, analyst, epsilon_units, delta_units) WHERE kind = 'reserve';
                """)
        }
        return migrator
    }

    /// The columns of `entry` in the order ``Ledger`` reads them.
    static let entryColumns = """
        id, kind, time_ms, scope, analyst, purpose, reservation, event, epsilon, delta, \
        epsilon_units, delta_units, composition, digest, note, total_epsilon_units, total_delta_units, \
        state_digest, prev_hash, hash
        """

    /// The number of ``entryColumns``: a statement may select more columns after them.
    static let entryColumnCount = entryColumns.split(separator: ",").count

    /// Decodes a row selected with ``entryColumns``; throws `ledgerUnavailable` naming the entry if a
    /// column is missing or has the wrong type (which only an edit outside Veil can cause).
    static func entry(from row: LedgerRow) throws -> LedgerEntry {
        func value(_ i: Int) -> LedgerValue { i < row.count ? row[i] : .null }
        guard let id = value(0).int64 else {
            throw LedgerFailure.corrupt("an entry has no integer id")
        }
        func text(_ i: Int, _ name: String) throws -> String? {
            let v = value(i)
            if v.isNull { return nil }
            guard let t = v.string else { throw LedgerFailure.corrupt("entry \(id): column \(name) is malformed") }
            return t
        }
        func integer(_ i: Int, _ name: String) throws -> Int64? {
            let v = value(i)
            if v.isNull { return nil }
            guard let t = v.int64 else { throw LedgerFailure.corrupt("entry \(id): column \(name) is malformed") }
            return t
        }
        func real(_ i: Int, _ name: String) throws -> Double? {
            let v = value(i)
            if v.isNull { return nil }
            guard let t = v.double else { throw LedgerFailure.corrupt("entry \(id): column \(name) is malformed") }
            return t
        }
        func required<T>(_ t: T?, _ name: String) throws -> T {
            guard let t else { throw LedgerFailure.corrupt("entry \(id): column \(name) is missing or malformed") }
            return t
        }
        let kindText = try required(try text(1, "kind"), "kind")
        guard let kind = LedgerEntry.Kind(rawValue: kindText) else {
            throw LedgerFailure.corrupt("entry \(id) has an unknown kind \"\(kindText)\"")
        }
        return LedgerEntry(
            id: id, kind: kind, timeMilliseconds: try required(try integer(2, "time_ms"), "time_ms"),
            scope: try required(try text(3, "scope"), "scope"),
            analyst: try text(4, "analyst"), purpose: try text(5, "purpose"),
            reservation: try integer(6, "reservation"), event: try text(7, "event"),
            epsilon: try real(8, "epsilon"), delta: try real(9, "delta"),
            epsilonUnits: try integer(10, "epsilon_units"), deltaUnits: try integer(11, "delta_units"),
            composition: try text(12, "composition"), digest: try text(13, "digest"),
            note: try text(14, "note"), totalEpsilonUnits: try integer(15, "total_epsilon_units"),
            totalDeltaUnits: try integer(16, "total_delta_units"), stateDigest: try text(17, "state_digest"),
            previousHash: try required(try text(18, "prev_hash"), "prev_hash"),
            hash: try required(try text(19, "hash"), "hash"))
    }

    static func insert(_ e: LedgerEntry, into db: any LedgerTransaction) throws {
        try db.execute(
            "INSERT INTO entry (\(entryColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.integer(e.id), .text(e.kind.rawValue), .integer(e.timeMilliseconds), .text(e.scope), LedgerValue(e.analyst),
             LedgerValue(e.purpose), LedgerValue(e.reservation), LedgerValue(e.event), LedgerValue(e.epsilon),
             LedgerValue(e.delta), LedgerValue(e.epsilonUnits), LedgerValue(e.deltaUnits), LedgerValue(e.composition),
             LedgerValue(e.digest), LedgerValue(e.note), LedgerValue(e.totalEpsilonUnits),
             LedgerValue(e.totalDeltaUnits), LedgerValue(e.stateDigest), .text(e.previousHash), .text(e.hash)])
    }
}
