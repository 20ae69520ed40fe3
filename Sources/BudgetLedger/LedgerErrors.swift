import Accounting

// MARK: - Error codes of the budget ledger

extension VeilError.Code {
    /// A charge was refused because it would take a budget past its limit.
    public static let budgetExhausted = VeilError.Code("budget_exhausted", category: .budgetRefused)
    /// No budget of that name exists in the ledger.
    public static let unknownScope = VeilError.Code("unknown_scope", category: .badInput)
    /// No reservation of that id exists in the ledger.
    public static let unknownReservation = VeilError.Code("unknown_reservation", category: .badInput)
    /// The operation conflicts with the ledger's state (a budget that already exists, a reservation
    /// that is already committed or refunded).
    public static let ledgerConflict = VeilError.Code("ledger_conflict", category: .badInput)
    /// The ledger file cannot be used: missing, a directory, not an SQLite database, or not a Veil
    /// ledger (bad input: the path names the wrong file).
    public static let ledgerUnavailable = VeilError.Code("ledger_unavailable", category: .badInput)
    /// The ledger file is damaged (truncated, malformed pages or rows), or what it holds contradicts its
    /// own hash chain (a running total edited outside Veil). A fault, not bad input: `veil budget
    /// verify` says what does not match.
    public static let ledgerDamaged = VeilError.Code("ledger_damaged", category: .failure)
    /// A commit was refused because the reservation had been refunded (by an operator, or by another
    /// process) in the meantime: a fault of the run that tried to commit.
    public static let reservationRefunded = VeilError.Code("reservation_refunded", category: .failure)
    /// The database reported an error while reading or writing the ledger (including a file that
    /// cannot be written).
    public static let ledgerStorage = VeilError.Code("ledger_storage", category: .failure)
}
