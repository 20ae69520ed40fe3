import Accounting
import Foundation

// MARK: - Composed state of rdp and zcdp scopes

extension Ledger {
    /// The composition of every reservation on `scope` that was not refunded, as the chain binds it.
    ///
    /// `last` is the scope's last `reserve` or `refund` entry, already checked by
    /// ``verifiedRunningTotal(_:scope:)`` (its hash, and the next entry's link to it). When it records
    /// a `state_digest` (format 3), the stored state in `scope_composition` must hash to it, and is
    /// used as it is: O(1) in the scope's history. When it records none (no charge yet, or the entry
    /// predates format 3), or the state was written with other Rényi orders, the events are
    /// recomposed once; the entry the charge appends records the state from then on.
    ///
    /// - Throws: `ledgerDamaged` ("… run `veil budget verify`") when the stored state is missing or
    ///   does not match the digest: the file was edited outside Veil.
    static func verifiedComposition(_ db: any LedgerTransaction, scope: String, rule: CompositionRule,
                                    last: LedgerEntry?) throws -> RenyiComposition {
        if let last, let digest = last.stateDigest {
            guard let text = try storedComposition(db, scope: scope) else {
                throw LedgerFailure.stateMismatch(scope, "the stored state is missing; entry \(last.id) records one")
            }
            guard ChainHash.hex(of: text) == digest else {
                throw LedgerFailure.stateMismatch(scope, "the stored state does not match the digest entry \(last.id) records")
            }
            if let composition = ComposedState.composition(from: text, rule: rule) { return composition }
        }
        return try composedEvents(db, scope: scope, rule: rule, excluding: nil)
    }

    /// The events of every reservation on `scope` that was not refunded (and is not `excluding`),
    /// composed in the order of their reservations: exactly what a full recomposition gives.
    static func composedEvents(_ db: any LedgerTransaction, scope: String, rule: CompositionRule,
                               excluding reservation: Int64?) throws -> RenyiComposition {
        // Entry ids start at 1, so excluding 0 excludes nothing.
        let rows = try db.rows("""
            SELECT r.event FROM entry r
            WHERE r.scope = ? AND r.kind = 'reserve' AND r.id <> ?
              AND NOT EXISTS (SELECT 1 FROM entry x WHERE x.reservation = r.id AND x.kind = 'refund')
            ORDER BY r.id
            """, [.text(scope), .integer(reservation ?? 0)])
        let texts = try rows.map { row in
            guard let text = row[0].string else { throw LedgerFailure.corrupt("a reservation of \(scope) has no event") }
            return text
        }
        let decoder = JSONDecoder()
        var composition = RenyiComposition(rule: rule)
        for text in texts { try composition.add(try decoder.decode(DPEvent.self, from: Data(text.utf8))) }
        return composition
    }

    /// The stored state text of `scope` (`scope_composition`), not yet checked against the chain.
    static func storedComposition(_ db: any LedgerTransaction, scope: String) throws -> String? {
        try db.value("SELECT state FROM scope_composition WHERE scope = ?", [.text(scope)])?.string
    }

    /// Stores `composition` as the state of `scope`; returns the digest the new entry must record.
    static func storeComposition(_ db: any LedgerTransaction, scope: String, _ composition: RenyiComposition) throws -> String {
        let text = ComposedState.text(of: composition)
        try db.execute("""
            INSERT INTO scope_composition (scope, state) VALUES (?, ?)
            ON CONFLICT (scope) DO UPDATE SET state = excluded.state
            """, [.text(scope), .text(text)])
        return ChainHash.hex(of: text)
    }
}
