import GRDB

/// The ledger's tables, created by migrations.
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

    /// Decodes a row selected with ``entryColumns``; throws `ledgerUnavailable` naming the entry if a
    /// column is missing or has the wrong type (which only an edit outside Veil can cause).
    static func entry(from row: Row) throws -> LedgerEntry {
        func value(_ i: Int) -> DatabaseValue { row[i] }
        guard let id = Int64.fromDatabaseValue(value(0)) else {
            throw LedgerFailure.corrupt("an entry has no integer id")
        }
        func required<T: DatabaseValueConvertible>(_ i: Int, _ name: String) throws -> T {
            guard let v = T.fromDatabaseValue(value(i)) else {
                throw LedgerFailure.corrupt("entry \(id): column \(name) is missing or malformed")
            }
            return v
        }
        func optional<T: DatabaseValueConvertible>(_ i: Int, _ name: String) throws -> T? {
            let v = value(i)
            if v.isNull { return nil }
            guard let t = T.fromDatabaseValue(v) else {
                throw LedgerFailure.corrupt("entry \(id): column \(name) is malformed")
            }
            return t
        }
        let kindText: String = try required(1, "kind")
        guard let kind = LedgerEntry.Kind(rawValue: kindText) else {
            throw LedgerFailure.corrupt("entry \(id) has an unknown kind \"\(kindText)\"")
        }
        return LedgerEntry(
            id: id, kind: kind, timeMilliseconds: try required(2, "time_ms"), scope: try required(3, "scope"),
            analyst: try optional(4, "analyst"), purpose: try optional(5, "purpose"),
            reservation: try optional(6, "reservation"), event: try optional(7, "event"),
            epsilon: try optional(8, "epsilon"), delta: try optional(9, "delta"),
            epsilonUnits: try optional(10, "epsilon_units"), deltaUnits: try optional(11, "delta_units"),
            composition: try optional(12, "composition"), digest: try optional(13, "digest"),
            note: try optional(14, "note"), totalEpsilonUnits: try optional(15, "total_epsilon_units"),
            totalDeltaUnits: try optional(16, "total_delta_units"), stateDigest: try optional(17, "state_digest"),
            previousHash: try required(18, "prev_hash"), hash: try required(19, "hash"))
    }

    static func insert(_ e: LedgerEntry, into db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO entry (\(entryColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [e.id, e.kind.rawValue, e.timeMilliseconds, e.scope, e.analyst, e.purpose, e.reservation,
                        e.event, e.epsilon, e.delta, e.epsilonUnits, e.deltaUnits, e.composition, e.digest,
                        e.note, e.totalEpsilonUnits, e.totalDeltaUnits, e.stateDigest, e.previousHash, e.hash])
    }
}
