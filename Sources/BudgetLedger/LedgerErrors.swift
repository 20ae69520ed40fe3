import Accounting

// MARK: - Error codes of the budget ledger

extension VeilError.Code {
    /// A charge was refused because it would take a budget past its limit.
    public static let budgetExhausted = VeilError.Code(rawValue: "budget_exhausted")
    /// No budget of that name exists in the ledger.
    public static let unknownScope = VeilError.Code(rawValue: "unknown_scope")
    /// No reservation of that id exists in the ledger.
    public static let unknownReservation = VeilError.Code(rawValue: "unknown_reservation")
    /// The operation conflicts with the ledger's state (a budget that already exists, a reservation
    /// that is already committed or refunded).
    public static let ledgerConflict = VeilError.Code(rawValue: "ledger_conflict")
    /// The ledger file cannot be used: missing, a directory, not an SQLite database, or not a Veil
    /// ledger (bad input: the path names the wrong file).
    public static let ledgerUnavailable = VeilError.Code(rawValue: "ledger_unavailable")
    /// The ledger file is damaged (truncated, malformed pages or rows), or what it holds contradicts its
    /// own hash chain (a running total edited outside Veil). A fault, not bad input: `veil budget
    /// verify` says what does not match.
    public static let ledgerDamaged = VeilError.Code(rawValue: "ledger_damaged")
    /// A commit was refused because the reservation had been refunded (by an operator, or by another
    /// process) in the meantime: a fault of the run that tried to commit.
    public static let reservationRefunded = VeilError.Code(rawValue: "reservation_refunded")
    /// The database reported an error while reading or writing the ledger (including a file that
    /// cannot be written).
    public static let ledgerStorage = VeilError.Code(rawValue: "ledger_storage")
}
