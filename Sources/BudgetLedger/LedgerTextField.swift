import Mechanisms

/// The free-text fields a caller names in a charge (the analyst, the purpose), checked at the ledger's boundary
/// so that both stores accept and refuse the same text: PostgreSQL's `text` cannot hold the character NUL
/// (U+0000), which SQLite would store, so a name holding it is refused as bad input before any store sees it.
enum LedgerTextField {
    /// `value` without surrounding white space.
    /// - Throws: `invalidParameter` naming `field` when what is left is empty or holds a NUL character.
    static func checked(_ value: String, field: String, allowed: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw VeilError.invalidParameter(field, "\"\"", allowed: allowed)
        }
        guard !trimmed.unicodeScalars.contains("\0") else {
            throw VeilError.invalidParameter(field, "a name holding the character NUL (U+0000)",
                                             allowed: "\(allowed) without the character NUL")
        }
        return trimmed
    }
}
