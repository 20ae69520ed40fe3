import Accounting
import GRDB

/// The errors the ledger raises, built in one place so that their messages stay consistent.
enum LedgerFailure {
    static func corrupt(_ detail: String) -> VeilError {
        VeilError(.ledgerUnavailable, "the ledger is damaged: \(detail)")
    }

    static func unknownScope(_ scope: String) -> VeilError {
        VeilError(.unknownScope, "no budget named \"\(scope)\" in the ledger (create it with `veil budget create`)")
    }

    static func unknownReservation(_ id: Int64) -> VeilError {
        VeilError(.unknownReservation, "no reservation with id \(id) in the ledger")
    }

    /// Runs `body`, turning database errors into `ledgerStorage` errors that name the file.
    static func storage<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            let detail = error.message ?? "\(error.resultCode)"
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                throw VeilError(.ledgerUnavailable, "\(path) is not a usable Veil ledger: \(detail)")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY:
                throw VeilError(.ledgerUnavailable, "cannot open the ledger \(path) for writing: \(detail)")
            default:
                throw VeilError(.ledgerStorage, "ledger \(path): \(detail)")
            }
        }
    }
}
