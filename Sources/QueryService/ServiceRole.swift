/// What an account of the query service may do.
public enum ServiceRole: String, Sendable, Codable, CaseIterable {
    /// Reads the descriptions of the datasets given to it, asks dry-runs and queries within its limits, reads its
    /// own budget and past queries.
    case analyst
    /// Reads the live budget report and the ledger's chain head; runs no query.
    case auditor
    /// The data owner: everything an auditor may, and the descriptions of every dataset; runs no query (the owner
    /// configures datasets and limits in the configuration file, not through the API).
    case owner
}
