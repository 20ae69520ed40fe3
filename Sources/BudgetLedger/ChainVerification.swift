/// The result of recomputing a ledger's hash chain.
public struct ChainVerification: Sendable, Codable, Hashable {
    /// True when every entry's hash, link and content are consistent.
    public let isValid: Bool
    /// Number of entries read.
    public let entryCount: Int
    /// The hash of the last entry read (the genesis hash for an empty ledger).
    public let headHash: String
    /// The first entry that does not match, when the chain is broken at an entry.
    public let firstInvalidEntry: Int64?
    /// What does not match, when ``isValid`` is false.
    public let problem: String?
}

/// The last entry of the chain: keep its hash elsewhere and compare later to detect a deleted tail.
public struct ChainHead: Sendable, Codable, Hashable {
    /// The id of the last entry (0 for an empty ledger).
    public let id: Int64
    /// Its hash (the genesis hash for an empty ledger).
    public let hash: String
}
