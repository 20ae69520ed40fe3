import Accounting
import GRDB

/// The errors the ledger raises, built in one place so that their messages stay consistent.
enum LedgerFailure {
    static func corrupt(_ detail: String) -> VeilError {
        VeilError(.ledgerDamaged, "the ledger is damaged: \(detail)")
    }

    /// The running total a charge would add to disagrees with what the hash chain records.
    static func totalMismatch(_ scope: String, _ detail: String) -> VeilError {
        VeilError(.ledgerDamaged, """
            refused: the running total of \(scope) does not match the ledger's hash chain (\(detail)); \
            the file was edited outside Veil — run `veil budget verify`
            """)
    }

    /// The stored composed state of an `rdp` or `zcdp` scope disagrees with the digest the hash chain records.
    static func stateMismatch(_ scope: String, _ detail: String) -> VeilError {
        VeilError(.ledgerDamaged, """
            refused: the composed state of \(scope) does not match the ledger's hash chain (\(detail)); \
            the file was edited outside Veil — run `veil budget verify`
            """)
    }

    static func unknownScope(_ scope: String) -> VeilError {
        VeilError(.unknownScope, "no budget named \"\(scope)\" in the ledger (create it with `veil budget create`)")
    }

    static func unknownReservation(_ id: Int64) -> VeilError {
        VeilError(.unknownReservation, "no reservation with id \(id) in the ledger")
    }

    /// Runs `body`, turning database errors into ledger errors that name the file: a damaged file
    /// (`ledgerDamaged`), a file that cannot be opened (`ledgerUnavailable`), a file that cannot be
    /// written (`ledgerStorage`), anything else (`ledgerStorage`).
    static func storage<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw veilError(error, path: path)
        }
    }

    /// The ledger error for a database error on the file at `path`.
    static func veilError(_ error: DatabaseError, path: String) -> VeilError {
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            // The header was checked before opening, so this is a damaged (e.g. truncated) ledger.
            return VeilError(.ledgerDamaged, "the ledger \(path) is damaged: \(detail)", cause: error)
        case .SQLITE_CANTOPEN:
            return VeilError(.ledgerUnavailable, "cannot open the ledger \(path): \(detail)", cause: error)
        case .SQLITE_PERM, .SQLITE_READONLY:
            return VeilError(.ledgerStorage, "cannot write the ledger \(path): \(detail)", cause: error)
        default:
            return VeilError(.ledgerStorage, "ledger \(path): \(detail)", cause: error)
        }
    }
}
