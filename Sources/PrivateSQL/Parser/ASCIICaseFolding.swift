// MARK: - SQLite's case folding of identifiers and keywords

extension String {
    /// The text with the ASCII letters `a`–`z` raised to `A`–`Z` and every other character kept, as SQLite folds
    /// keywords. Unicode upper-casing would make words SQLite does not know keywords (`ſelect` → `SELECT`).
    var asciiUppercased: String { String(decoding: utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self) }

    /// The text with the ASCII letters `A`–`Z` lowered to `a`–`z` and every other character kept, as SQLite folds
    /// identifiers (`É` and `é` are different columns to SQLite, and so to Veil).
    var asciiLowercased: String { String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self) }

    /// Whether two identifiers name the same thing to SQLite: equal bytes after folding ASCII letters only
    /// (SQLite's `sqlite3StrICmp`). Unicode case mappings, such as `K` (Kelvin sign) to `k`, and canonical
    /// equivalence are not applied.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let (a, b) = (utf8, other.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A) }
    }
}
