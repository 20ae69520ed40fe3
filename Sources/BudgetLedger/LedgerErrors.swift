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
    /// The ledger file cannot be used: missing, not an SQLite database, or not a Veil ledger.
    public static let ledgerUnavailable = VeilError.Code(rawValue: "ledger_unavailable")
    /// The database reported an error while reading or writing the ledger.
    public static let ledgerStorage = VeilError.Code(rawValue: "ledger_storage")
}
