import Foundation

/// One append-only entry of the ledger. Entries are never updated or deleted; every entry carries
/// the SHA-256 of the previous one (``previousHash``) and its own (``hash``), forming a hash chain.
///
/// Which fields are present depends on ``kind``:
/// - `budget`: `scope`, `composition`, `epsilon`, `delta` (the limits) and their units.
/// - `reserve`: `scope`, `analyst`, `purpose`, `event` (DP event JSON, as produced), the declared
///   `epsilon`/`delta` and their units.
/// - `commit`: `scope`, `reservation` (the reserve entry's id), `digest` (of the released result),
///   and `note` when an operator resolved the reservation.
/// - `refund`: `scope`, `reservation`, `note` (the reason).
///
/// Since ledger format 2, `reserve` and `refund` entries also carry `total_epsilon_units` and
/// `total_delta_units`: the scope's running total (units of every reservation not refunded) after
/// the entry. They are hashed with the rest, so a charge can check the total it adds to against the
/// chain's own record. Entries written by format 1 lack them and hash as before.
///
/// Since ledger format 3, `reserve` and `refund` entries on `rdp` and `zcdp` budgets also carry
/// `state_digest`: the SHA-256 of the scope's composed state after the entry (see
/// ``ComposedState``), so that a charge can trust the stored state as far as it trusts the chain.
public struct LedgerEntry: Sendable, Codable, Hashable {
    /// The kind of entry.
    public enum Kind: String, Sendable, Codable, Hashable, CaseIterable {
        /// A budget was created.
        case budget
        /// Budget was reserved for a release.
        case reserve
        /// The reserved release was made.
        case commit
        /// The reservation was given back: nothing was released.
        case refund
    }

    /// Position in the chain: 1, 2, 3, … without gaps.
    public let id: Int64
    /// What the entry records.
    public let kind: Kind
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let timeMilliseconds: Int64
    /// The budget the entry belongs to.
    public let scope: String
    /// For `reserve`: who asked for the release.
    public let analyst: String?
    /// For `reserve`: why.
    public let purpose: String?
    /// For `commit` and `refund`: the id of the reserve entry.
    public let reservation: Int64?
    /// For `reserve`: the ``DPEvent`` as JSON text, exactly as produced.
    public let event: String?
    /// Declared ε of a charge, or the total ε of a budget.
    public let epsilon: Double?
    /// Declared δ of a charge, or the total δ of a budget.
    public let delta: Double?
    /// `epsilon` in units of 10⁻¹² (rounded up for charges, down for budgets).
    public let epsilonUnits: Int64?
    /// `delta` in units of 10⁻¹⁸ (rounded up for charges, down for budgets).
    public let deltaUnits: Int64?
    /// For `budget`: the composition rule.
    public let composition: String?
    /// For `commit`: the digest of the released result.
    public let digest: String?
    /// For `refund` the reason; for an operator's resolution its note.
    public let note: String?
    /// For `reserve` and `refund` (format 2): the scope's running ε total after this entry, in units.
    public let totalEpsilonUnits: Int64?
    /// For `reserve` and `refund` (format 2): the scope's running δ total after this entry, in units.
    public let totalDeltaUnits: Int64?
    /// For `reserve` and `refund` on `rdp` and `zcdp` budgets (format 3): SHA-256 (lowercase hex) of
    /// the scope's composed state after this entry.
    public let stateDigest: String?
    /// The hash of the previous entry (64 zeros for the first).
    public let previousHash: String
    /// SHA-256 (lowercase hex) of this entry's ``canonicalJSON``.
    public let hash: String

    /// The entry's time as a `Date`.
    public var time: Date { Date(timeIntervalSince1970: Double(timeMilliseconds) / 1000) }

    /// The hash that precedes the first entry.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The canonical JSON form that is hashed: an object with the keys `id`, `kind`, `time_ms`,
    /// `scope`, `prev` and each present optional field (`analyst`, `purpose`, `reservation`,
    /// `event`, `epsilon`, `delta`, `epsilon_units`, `delta_units`, `composition`, `digest`, `note`),
    /// keys sorted, no whitespace, absent fields omitted, numbers in their shortest round-trip form,
    /// `event` as a JSON string, (format 2) `total_delta_units` and `total_epsilon_units`, and
    /// (format 3) `state_digest`. A
    /// negative zero is written as `0.0`. Python reproduces it with
    /// `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
    public var canonicalJSON: String {
        CanonicalJSON.entry(id: id, kind: kind, timeMilliseconds: timeMilliseconds, scope: scope,
                            analyst: analyst, purpose: purpose, reservation: reservation, event: event,
                            epsilon: epsilon, delta: delta, epsilonUnits: epsilonUnits, deltaUnits: deltaUnits,
                            composition: composition, digest: digest, note: note, totalEpsilonUnits: totalEpsilonUnits,
                            totalDeltaUnits: totalDeltaUnits, stateDigest: stateDigest, previousHash: previousHash)
    }

    /// Whether ``hash`` is the SHA-256 of ``canonicalJSON``.
    public var hashMatchesContent: Bool { ChainHash.hex(of: canonicalJSON) == hash }

    /// An entry; its ``hash`` is computed from the other fields.
    init(id: Int64, kind: Kind, timeMilliseconds: Int64, scope: String, analyst: String? = nil,
         purpose: String? = nil, reservation: Int64? = nil, event: String? = nil, epsilon: Double? = nil,
         delta: Double? = nil, epsilonUnits: Int64? = nil, deltaUnits: Int64? = nil,
         composition: String? = nil, digest: String? = nil, note: String? = nil, totalEpsilonUnits: Int64? = nil,
         totalDeltaUnits: Int64? = nil, stateDigest: String? = nil, previousHash: String) {
        self.init(id: id, kind: kind, timeMilliseconds: timeMilliseconds, scope: scope, analyst: analyst,
                  purpose: purpose, reservation: reservation, event: event, epsilon: epsilon, delta: delta,
                  epsilonUnits: epsilonUnits, deltaUnits: deltaUnits, composition: composition, digest: digest,
                  note: note, totalEpsilonUnits: totalEpsilonUnits, totalDeltaUnits: totalDeltaUnits,
                  stateDigest: stateDigest, previousHash: previousHash, hash: "")
    }

    /// An entry with a stored hash, as read from the database (the hash is not recomputed).
    init(id: Int64, kind: Kind, timeMilliseconds: Int64, scope: String, analyst: String?,
         purpose: String?, reservation: Int64?, event: String?, epsilon: Double?,
         delta: Double?, epsilonUnits: Int64?, deltaUnits: Int64?,
         composition: String?, digest: String?, note: String?, totalEpsilonUnits: Int64?, totalDeltaUnits: Int64?,
         stateDigest: String?, previousHash: String, hash: String) {
        // −0 and +0 are one amount; only +0 is ever hashed or stored (SQLite reads −0.0 back as 0.0).
        let epsilon = epsilon.map { $0 == 0 ? 0 : $0 }
        let delta = delta.map { $0 == 0 ? 0 : $0 }
        self.id = id
        self.kind = kind
        self.timeMilliseconds = timeMilliseconds
        self.scope = scope
        self.analyst = analyst
        self.purpose = purpose
        self.reservation = reservation
        self.event = event
        self.epsilon = epsilon
        self.delta = delta
        self.epsilonUnits = epsilonUnits
        self.deltaUnits = deltaUnits
        self.composition = composition
        self.digest = digest
        self.note = note
        self.totalEpsilonUnits = totalEpsilonUnits
        self.totalDeltaUnits = totalDeltaUnits
        self.stateDigest = stateDigest
        self.previousHash = previousHash
        self.hash = hash.isEmpty
            ? ChainHash.hex(of: CanonicalJSON.entry(
                id: id, kind: kind, timeMilliseconds: timeMilliseconds, scope: scope, analyst: analyst,
                purpose: purpose, reservation: reservation, event: event, epsilon: epsilon, delta: delta,
                epsilonUnits: epsilonUnits, deltaUnits: deltaUnits, composition: composition, digest: digest,
                note: note, totalEpsilonUnits: totalEpsilonUnits, totalDeltaUnits: totalDeltaUnits,
                stateDigest: stateDigest, previousHash: previousHash))
            : hash
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, scope, analyst, purpose, reservation, event, epsilon, delta, composition, digest, note, hash
        case timeMilliseconds = "time_ms"
        case epsilonUnits = "epsilon_units"
        case deltaUnits = "delta_units"
        case previousHash = "prev"
        case totalEpsilonUnits = "total_epsilon_units"
        case totalDeltaUnits = "total_delta_units"
        case stateDigest = "state_digest"
    }
}
