/// Splits a query into ``Token``s: words, quoted identifiers, string and number literals, symbols.
///
/// Comments (`-- …` to the end of the line and `/* … */`) and white space are skipped. Keywords are
/// not distinguished from identifiers here; the parser compares words case-insensitively.
public struct Lexer: Sendable {
    private let query: String
    private let characters: [Character]

    /// Creates a lexer over `query`.
    public init(_ query: String) {
        self.query = query
        self.characters = Array(query)
    }

    /// All tokens of the query, ending with a token of kind ``Token/Kind/end``.
    /// - Throws: ``QueryError`` (code `invalid_query`) for an unterminated string, quoted identifier or
    ///   comment, a malformed number, or a character that cannot start a token.
    public func tokens() throws(QueryError) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        var line = 1
        var lineStart = 0

        func location(_ offset: Int) -> SourceLocation {
            SourceLocation(line: line, column: offset - lineStart + 1, offset: offset)
        }
        func fail(_ reason: String, at offset: Int) -> QueryError {
            QueryError(.invalidQuery, reason, at: location(offset), in: query)
        }
        func peek(_ ahead: Int = 0) -> Character? {
            index + ahead < characters.count ? characters[index + ahead] : nil
        }
        /// Advances one character, keeping the line count.
        func advance() {
            if characters[index].isNewline {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }

        while index < characters.count {
            let c = characters[index]
            if c.isWhitespace || c.isNewline {
                advance()
                continue
            }
            let start = index
            let startLocation = location(start)
            // Comments.
            if c == "-", peek(1) == "-" {
                while index < characters.count, !characters[index].isNewline { index += 1 }
                continue
            }
            if c == "/", peek(1) == "*" {
                index += 2
                var closed = false
                while index < characters.count {
                    if characters[index] == "*", peek(1) == "/" {
                        index += 2
                        closed = true
                        break
                    }
                    advance()
                }
                if !closed {
                    throw QueryError(.invalidQuery, "unterminated comment: '/*' has no matching '*/'",
                                     at: startLocation, in: query)
                }
                continue
            }
            // Words.
            if c.isLetter || c == "_" {
                while let d = peek(), d.isLetter || d.isNumber || d == "_" { index += 1 }
                tokens.append(Token(kind: .word(String(characters[start..<index])), location: startLocation))
                continue
            }
            // Quoted identifiers and strings.
            if c == "\"" || c == "`" || c == "'" {
                let quote = c
                index += 1
                var text = ""
                var closed = false
                while index < characters.count {
                    let d = characters[index]
                    if d == quote {
                        if peek(1) == quote {
                            text.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        closed = true
                        break
                    }
                    text.append(d)
                    advance()
                }
                guard closed else {
                    let what = quote == "'" ? "string literal" : "quoted identifier"
                    throw QueryError(.invalidQuery, "unterminated \(what): the closing \(quote) is missing",
                                     at: startLocation, in: query)
                }
                if quote == "'" {
                    tokens.append(Token(kind: .string(text), location: startLocation))
                } else {
                    guard !text.isEmpty else { throw fail("empty quoted identifier", at: start) }
                    tokens.append(Token(kind: .quotedIdentifier(text), location: startLocation))
                }
                continue
            }
            // Numbers: digits [. digits] [e [+-] digits], or . digits.
            if c.isASCIIDigit || (c == "." && (peek(1)?.isASCIIDigit ?? false)) {
                var isReal = false
                while let d = peek(), d.isASCIIDigit { index += 1 }
                if peek() == ".", !(peek(1) == ".") {
                    isReal = true
                    index += 1
                    while let d = peek(), d.isASCIIDigit { index += 1 }
                }
                if let e = peek(), e == "e" || e == "E" {
                    var ahead = 1
                    if let sign = peek(1), sign == "+" || sign == "-" { ahead = 2 }
                    if peek(ahead)?.isASCIIDigit ?? false {
                        isReal = true
                        index += ahead
                        while let d = peek(), d.isASCIIDigit { index += 1 }
                    } else {
                        throw fail("malformed number: the exponent after 'e' needs digits", at: start)
                    }
                }
                if let d = peek(), d.isLetter || d == "_" {
                    throw fail("malformed number: a letter follows the digits", at: start)
                }
                let text = String(characters[start..<index])
                if !isReal, let value = Int64(text) {
                    tokens.append(Token(kind: .integer(value), location: startLocation))
                } else if let value = Double(text), value.isFinite {
                    tokens.append(Token(kind: .real(value), location: startLocation))
                } else {
                    throw fail("number out of range: \(text)", at: start)
                }
                continue
            }
            // Symbols, longest first.
            let two = peek(1).map { String([c, $0]) } ?? ""
            if ["<>", "!=", "<=", ">=", "||", "=="].contains(two) {
                index += 2
                tokens.append(Token(kind: .symbol(two == "==" ? "=" : two), location: startLocation))
                continue
            }
            if "(),.;*+-/%=<>".contains(c) {
                index += 1
                tokens.append(Token(kind: .symbol(String(c)), location: startLocation))
                continue
            }
            if c == "?" || c == ":" || c == "@" || c == "$" {
                throw fail("parameters ('\(c)') are not supported: write the value as a literal", at: start)
            }
            throw fail("unexpected character '\(c)'", at: start)
        }
        tokens.append(Token(kind: .end, location: location(characters.count)))
        return tokens
    }
}

extension Character {
    /// Whether this is one of the ASCII digits 0–9.
    var isASCIIDigit: Bool { isASCII && isNumber }
}
