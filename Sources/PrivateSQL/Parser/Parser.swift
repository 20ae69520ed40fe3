/// A recursive-descent parser for Veil's SQL subset: one `SELECT` over one table.
///
/// Grammar (keywords case-insensitive):
/// ```
/// query      := SELECT [DISTINCT] item {, item} FROM from (see Parser+From.swift)
///               [WHERE expr] [GROUP BY expr {, expr}] [HAVING expr]
///               [ORDER BY expr [ASC|DESC] {, …}] [LIMIT int [OFFSET int]] [;]
/// item       := * | expr [[AS] alias]
/// expr       := or ;  or := and {OR and} ;  and := not {AND not} ;  not := NOT not | predicate
/// predicate  := additive [comparison additive | IS [NOT] NULL | [NOT] IN (expr, …)
///               | [NOT] BETWEEN additive AND additive | [NOT] LIKE additive]
/// additive   := multiplicative {(+ | - | ||) multiplicative}
/// multiplicative := unary {(* | / | %) unary} ;  unary := (- | +) unary | primary
/// primary    := literal | column | table.column | name ( [DISTINCT] args | * ) | ( expr )
/// ```
/// Statements other than `SELECT`, subqueries in expressions, joins other than `[INNER] JOIN` and `LEFT JOIN`,
/// and several statements are refused here with
/// a ``QueryError`` of code ``VeilError/Code/queryRefused``; syntax errors have code
/// ``VeilError/Code/invalidQuery``. Both point at the offending token.
public struct Parser: Sendable {
    let query: String
    let tokens: [Token]
    var position = 0
    /// How many expressions, `NOT`s and signs enclose the current position.
    var depth = 0
    /// How many tables the `FROM` clauses parsed so far name.
    var tablesRead = 0

    /// The longest query text accepted, in UTF-8 bytes.
    public static let maximumQueryLength = 100_000
    /// The most tokens a query may have (words, literals and symbols).
    public static let maximumTokens = 10_000
    /// The deepest nesting of expressions accepted. Parentheses, `NOT`, signs and function arguments each
    /// nest one level, and so does each operator of a chain (`a + b + c` is two levels of `+`), so both the
    /// parser's own recursion and the height of the tree it returns (``Expression/height``) stay within it.
    public static let maximumDepth = 100

    /// Words that end an expression or cannot be used as bare aliases.
    static let reservedWords: Set<String> = [
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "AND", "OR", "NOT",
        "IN", "IS", "NULL", "BETWEEN", "LIKE", "AS", "ASC", "DESC", "JOIN", "INNER", "LEFT", "RIGHT", "FULL",
        "OUTER", "CROSS", "NATURAL", "ON", "USING", "UNION", "INTERSECT", "EXCEPT", "DISTINCT", "TRUE", "FALSE",
        "CASE", "WHEN", "THEN", "ELSE", "END", "WITH", "ALL",
    ]

    /// Creates a parser over `query`, tokenizing it first.
    /// - Throws: ``QueryError`` for a lexical error, or a text longer than ``maximumQueryLength`` bytes or
    ///   with more than ``maximumTokens`` tokens.
    public init(_ query: String) throws(QueryError) {
        self.query = query
        let length = query.utf8.count
        guard length <= Self.maximumQueryLength else {
            throw QueryError(.invalidQuery, "the query is \(length) bytes long, more than the limit of "
                             + "\(Self.maximumQueryLength); shorten it (long key lists belong in a keys file)",
                             at: nil, in: query)
        }
        self.tokens = try Lexer(query).tokens()
        guard tokens.count - 1 <= Self.maximumTokens else {
            throw QueryError(.invalidQuery, "the query has \(tokens.count - 1) tokens, more than the limit of "
                             + "\(Self.maximumTokens); shorten it (long key lists belong in a keys file)",
                             at: nil, in: query)
        }
    }

    /// Parses a whole query text.
    /// - Parameter query: one `SELECT` statement, optionally followed by `;`.
    /// - Returns: the statement.
    /// - Throws: ``QueryError`` pointing at the problem.
    public static func parse(_ query: String) throws(QueryError) -> SelectStatement {
        var parser = try Parser(query)
        return try parser.parseStatement()
    }

    // MARK: Statement

    /// Parses one statement and checks that nothing but an optional `;` follows it.
    public mutating func parseStatement() throws(QueryError) -> SelectStatement {
        let first = current
        if case .end = first.kind {
            throw refuse("the query is empty: write one SELECT statement", at: first)
        }
        if first.isKeyword("WITH") {
            throw refuse("WITH (common table expressions) is not supported: write one SELECT over one table", at: first)
        }
        guard first.isKeyword("SELECT") else {
            if case .word(let word) = first.kind {
                throw refuse("only SELECT statements are answered; '\(word)' statements are refused "
                             + "(Veil never modifies or inspects the database beyond aggregate queries)", at: first)
            }
            throw syntax("expected SELECT at the start of the query, found \(first.display)", at: first)
        }
        let statement = try parseSelect()
        for word in ["UNION", "INTERSECT", "EXCEPT"] where current.isKeyword(word) {
            throw refuse("\(word) is not supported: run each SELECT as its own query", at: current)
        }
        _ = consumeSymbol(";")
        if case .end = current.kind {} else {
            if tokens[position - 1].isSymbol(";") {
                throw refuse("only one statement per query: remove everything after the ';'", at: current)
            }
            throw syntax("unexpected \(current.display) after the end of the query", at: current)
        }
        return statement
    }

    /// Parses `SELECT … FROM … [WHERE …] …` from the current `SELECT` keyword, up to the end of its clauses.
    mutating func parseSelect() throws(QueryError) -> SelectStatement {
        advance()
        var distinct = false
        if current.isKeyword("DISTINCT") {
            distinct = true
            advance()
        } else if current.isKeyword("ALL") {
            advance()
        }
        var items: [SelectItem] = []
        repeat {
            items.append(try parseSelectItem())
        } while consumeSymbol(",")

        guard current.isKeyword("FROM") else {
            if case .end = current.kind {
                throw syntax("expected FROM and a table name after the select list", at: current)
            }
            throw syntax("expected ',' or FROM after a select item, found \(current.display)", at: current)
        }
        advance()
        let source = try parseFrom()

        var whereClause: Expression?
        if consumeKeyword("WHERE") { whereClause = try parseExpression() }

        var groupBy: [Expression] = []
        if current.isKeyword("GROUP") {
            advance()
            try expectKeyword("BY", after: "GROUP")
            repeat { groupBy.append(try parseExpression()) } while consumeSymbol(",")
        }

        var having: Expression?
        if consumeKeyword("HAVING") { having = try parseExpression() }

        var orderBy: [OrderingTerm] = []
        if current.isKeyword("ORDER") {
            advance()
            try expectKeyword("BY", after: "ORDER")
            repeat {
                let expression = try parseExpression()
                var descending = false
                if consumeKeyword("DESC") { descending = true } else { _ = consumeKeyword("ASC") }
                orderBy.append(OrderingTerm(expression: expression, descending: descending))
            } while consumeSymbol(",")
        }

        var limit: Int?
        var offset: Int?
        if consumeKeyword("LIMIT") {
            limit = try parseCount(what: "LIMIT")
            if consumeKeyword("OFFSET") { offset = try parseCount(what: "OFFSET") }
        }

        return SelectStatement(distinct: distinct, items: items, source: source, whereClause: whereClause,
                               groupBy: groupBy, having: having, orderBy: orderBy, limit: limit,
                               offset: offset, text: query)
    }

    mutating func parseSelectItem() throws(QueryError) -> SelectItem {
        let start = current
        if current.isSymbol("*") {
            advance()
            return SelectItem(expression: nil, alias: nil, at: start.location)
        }
        if case .end = current.kind {
            throw syntax("expected a select item after SELECT", at: current)
        }
        let expression = try parseExpression()
        let alias = try parseOptionalAlias()
        return SelectItem(expression: expression, alias: alias, at: start.location)
    }

    mutating func parseOptionalAlias() throws(QueryError) -> String? {
        if consumeKeyword("AS") { return try parseIdentifier(what: "an alias after AS") }
        switch current.kind {
        case .quotedIdentifier(let name):
            advance()
            return name
        case .word(let word) where !Self.reservedWords.contains(word.asciiUppercased):
            advance()
            return word
        default:
            return nil
        }
    }

    mutating func parseCount(what: String) throws(QueryError) -> Int {
        let token = current
        guard case .integer(let value) = token.kind, value >= 0, value <= Int64(Int32.max) else {
            throw syntax("\(what) needs a non-negative integer, found \(token.display)", at: token)
        }
        advance()
        return Int(value)
    }

    // MARK: Token helpers

    var current: Token { tokens[position] }

    func peekToken(_ ahead: Int) -> Token? {
        position + ahead < tokens.count ? tokens[position + ahead] : nil
    }

    mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    mutating func consumeKeyword(_ keyword: String) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        advance()
        return true
    }

    mutating func consumeSymbol(_ symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    mutating func expectKeyword(_ keyword: String, after: String) throws(QueryError) {
        guard consumeKeyword(keyword) else {
            throw syntax("expected \(keyword) after \(after), found \(current.display)", at: current)
        }
    }

    mutating func expectSymbol(_ symbol: String, context: String) throws(QueryError) {
        guard consumeSymbol(symbol) else {
            throw syntax("expected '\(symbol)' \(context), found \(current.display)", at: current)
        }
    }

    mutating func parseIdentifier(what: String) throws(QueryError) -> String {
        switch current.kind {
        case .quotedIdentifier(let name):
            advance()
            return name
        case .word(let word) where !Self.reservedWords.contains(word.asciiUppercased):
            advance()
            return word
        default:
            throw syntax("expected \(what), found \(current.display)", at: current)
        }
    }

    func syntax(_ reason: String, at token: Token) -> QueryError {
        QueryError(.invalidQuery, reason, at: token.location, in: query)
    }

    func refuse(_ reason: String, at token: Token) -> QueryError {
        QueryError(.queryRefused, reason, at: token.location, in: query)
    }
}
