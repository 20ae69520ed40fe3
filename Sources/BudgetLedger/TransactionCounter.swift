import Foundation

/// A thread-safe count of transactions, kept by a ``Ledger`` for its read transactions.
final class TransactionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// Adds one.
    func increment() {
        lock.lock()
        defer { lock.unlock() }
        count += 1
    }

    /// The count so far.
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
