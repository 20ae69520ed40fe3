/// Where a ``Ledger`` keeps its entries: the one seam between the ledger's logic (chain hashing,
/// composition, limits, reports, all written once) and a database.
///
/// Implementations: ``SQLiteLedgerStore`` (one file, the default) and ``PostgresLedgerStore`` (a
/// PostgreSQL server, so processes on several machines can share one budget).
protocol LedgerStore: Sendable {
    /// The file path, or the server's URL without its password: names the ledger in messages.
    var location: String { get }

    /// Runs `body` in one write transaction that no other writer of the ledger runs beside: it sees
    /// every earlier append and appends after them, so two charges can never both pass the same check.
    ///
    /// - Parameter flushImmediately: whether the transaction must be durable before this returns. Pass
    ///   `false` only for entries whose loss in a crash is safe: commits and refunds (their reservation
    ///   then stays open and counts as spent — budget wasted, never overspent).
    func write<T>(flushImmediately: Bool, _ body: (any LedgerTransaction) throws -> T) throws -> T

    /// Runs `body` in a read transaction (one consistent snapshot).
    func read<T>(_ body: (any LedgerTransaction) throws -> T) throws -> T
}
