/// One lexical token of a query.
public struct Token: Hashable, Sendable {
    /// What kind of token this is.
    public enum Kind: Hashable, Sendable {
        /// A bare word: a keyword or an unquoted identifier (compare keywords with ``Token/isKeyword(_:)``).
        case word(String)
        /// A double-quoted (or backtick-quoted) identifier, with its quotes removed and doubled quotes undone.
        case quotedIdentifier(String)
        /// A single-quoted string literal, with doubled quotes undone.
        case string(String)
        /// An integer literal.
        case integer(Int64)
        /// A decimal or exponent literal.
        case real(Double)
        /// An operator or punctuation: `( ) , . ; * + - / % = <> != < <= > >= ||`.
        case symbol(String)
        /// The end of the query.
        case end
    }

    /// The token's kind and value.
    public let kind: Kind
    /// Where the token starts.
    public let location: SourceLocation

    /// Whether this is the bare word `keyword` (case-insensitive).
    public func isKeyword(_ keyword: String) -> Bool {
        if case .word(let word) = kind { return word.asciiUppercased == keyword }
        return false
    }

    /// Whether this is the symbol `symbol`.
    public func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let s) = kind { return s == symbol }
        return false
    }

    /// A short description for error messages: the token as written, quoted.
    var display: String {
        switch kind {
        case .word(let w): "'\(w)'"
        case .quotedIdentifier(let q): "\"\(q)\""
        case .string: "a string literal"
        case .integer(let i): "'\(i)'"
        case .real(let r): "'\(r)'"
        case .symbol(let s): "'\(s)'"
        case .end: "the end of the query"
        }
    }
}
