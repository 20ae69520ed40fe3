/// A recursive-descent parser for Veil's SQL subset: one `SELECT` over one table.
///
/// Grammar (keywords case-insensitive):
/// ```
/// query      := SELECT [DISTINCT] item {, item} FROM table [[AS] alias]
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
/// Statements other than `SELECT`, joins, subqueries and several statements are refused here with
/// a ``QueryError`` of code ``VeilError/Code/queryRefused``; syntax errors have code
/// ``VeilError/Code/invalidQuery``. Both point at the offending token.
public struct Parser: Sendable {
    private let query: String
    private let tokens: [Token]
    private var position = 0
    /// How many expressions, `NOT`s and signs enclose the current position.
    private var depth = 0

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
        if current.isSymbol("(") {
            throw refuse("subqueries in FROM are not supported yet: query the table directly", at: current)
        }
        let tableToken = current
        let tableName = try parseIdentifier(what: "a table name after FROM")
        if current.isSymbol(".") {
            throw refuse("schema-qualified table names are not supported: name the table alone", at: current)
        }
        let tableAlias = try parseOptionalAlias()
        let from = TableReference(name: tableName, alias: tableAlias, at: tableToken.location)

        if current.isSymbol(",") || ["JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "OUTER"]
            .contains(where: { current.isKeyword($0) }) {
            throw refuse("joins are not supported yet: a private query reads one table", at: current)
        }

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
        return SelectStatement(distinct: distinct, items: items, from: from, whereClause: whereClause,
                               groupBy: groupBy, having: having, orderBy: orderBy, limit: limit,
                               offset: offset, text: query)
    }

    private mutating func parseSelectItem() throws(QueryError) -> SelectItem {
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

    private mutating func parseOptionalAlias() throws(QueryError) -> String? {
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

    private mutating func parseCount(what: String) throws(QueryError) -> Int {
        let token = current
        guard case .integer(let value) = token.kind, value >= 0, value <= Int64(Int32.max) else {
            throw syntax("\(what) needs a non-negative integer, found \(token.display)", at: token)
        }
        advance()
        return Int(value)
    }

    // MARK: Expressions

    /// Parses an expression at the current position.
    public mutating func parseExpression() throws(QueryError) -> Expression {
        try descend(at: current.location)
        defer { depth -= 1 }
        return try parseOr()
    }

    private mutating func parseOr() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseAnd() }) { $0.isKeyword("OR") ? .or : nil }
    }

    private mutating func parseAnd() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseNot() }) { $0.isKeyword("AND") ? .and : nil }
    }

    /// A left-associative chain `operand (operator operand)*`: `op` names the operator the current token stands
    /// for, or `nil` where the chain ends.
    private mutating func parseChain(_ operand: (inout Parser) throws(QueryError) -> Expression,
                                     _ op: (Token) -> BinaryOperator?) throws(QueryError) -> Expression {
        var left = try operand(&self)
        while let binary = op(current) {
            advance()
            let right = try operand(&self)
            left = try node(.binary(binary, left, right), at: left.location)
        }
        return left
    }

    private mutating func parseNot() throws(QueryError) -> Expression {
        if current.isKeyword("NOT") {
            let start = current.location
            advance()
            try descend(at: start)
            defer { depth -= 1 }
            let operand = try parseNot()
            return try node(.unary(.not, operand), at: start)
        }
        return try parsePredicate()
    }

    private mutating func parsePredicate() throws(QueryError) -> Expression {
        let left = try parseAdditive()
        if case .symbol(let s) = current.kind,
           let op = ["=": BinaryOperator.equal, "<>": .notEqual, "!=": .notEqual, "<": .less,
                     "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual][s] {
            advance()
            let right = try parseAdditive()
            return try node(.binary(op, left, right), at: left.location)
        }
        if current.isKeyword("IS") {
            advance()
            let negated = consumeKeyword("NOT")
            guard consumeKeyword("NULL") else {
                throw syntax("expected NULL after IS\(negated ? " NOT" : ""), found \(current.display)", at: current)
            }
            return try node(.isNull(left, negated: negated), at: left.location)
        }
        var negated = false
        if current.isKeyword("NOT"), let next = peekToken(1),
           next.isKeyword("IN") || next.isKeyword("BETWEEN") || next.isKeyword("LIKE") {
            negated = true
            advance()
        }
        if consumeKeyword("IN") {
            guard current.isSymbol("(") else {
                throw syntax("expected '(' and a list of values after IN", at: current)
            }
            advance()
            if current.isKeyword("SELECT") {
                throw refuse("subqueries are not supported yet: list the values, e.g. IN (1, 2, 3)", at: current)
            }
            var values: [Expression] = []
            repeat { values.append(try parseExpression()) } while consumeSymbol(",")
            try expectSymbol(")", context: "to close the IN list")
            return try node(.inList(left, values, negated: negated), at: left.location)
        }
        if consumeKeyword("BETWEEN") {
            let low = try parseAdditive()
            try expectKeyword("AND", after: "BETWEEN … (the lower bound)")
            let high = try parseAdditive()
            return try node(.between(left, low: low, high: high, negated: negated), at: left.location)
        }
        if consumeKeyword("LIKE") {
            let pattern = try parseAdditive()
            return try node(.like(left, pattern: pattern, negated: negated), at: left.location)
        }
        return left
    }

    private mutating func parseAdditive() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseMultiplicative() }) { token in
            token.isSymbol("+") ? .add : token.isSymbol("-") ? .subtract : token.isSymbol("||") ? .concatenate : nil
        }
    }

    private mutating func parseMultiplicative() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseUnary() }) { token in
            token.isSymbol("*") ? .multiply : token.isSymbol("/") ? .divide : token.isSymbol("%") ? .modulo : nil
        }
    }

    private mutating func parseUnary() throws(QueryError) -> Expression {
        let start = current
        if start.isSymbol("-") || start.isSymbol("+") {
            advance()
            try descend(at: start.location)
            defer { depth -= 1 }
            let operand = try parseUnary()
            if start.isSymbol("-") {
                // Fold negative literals so that `-5` is a literal.
                switch operand.kind {
                case .integer(let v) where v != Int64.min: return try node(.integer(-v), at: start.location)
                case .real(let v): return try node(.real(-v), at: start.location)
                default: return try node(.unary(.negate, operand), at: start.location)
                }
            }
            return try node(.unary(.plus, operand), at: start.location)
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(QueryError) -> Expression {
        let token = current
        let location = token.location
        switch token.kind {
        case .integer(let v):
            advance()
            return try node(.integer(v), at: location)
        case .real(let v):
            advance()
            return try node(.real(v), at: location)
        case .string(let s):
            advance()
            return try node(.string(s), at: location)
        case .symbol("("):
            advance()
            if current.isKeyword("SELECT") {
                throw refuse("subqueries are not supported yet: a private query reads one table directly", at: current)
            }
            let inner = try parseExpression()
            try expectSymbol(")", context: "to close the parenthesis opened at \(location)")
            return inner
        case .symbol("*"):
            throw refuse("'*' is only allowed inside COUNT(*); SELECT * would output raw rows", at: token)
        case .quotedIdentifier(let name):
            advance()
            return try parseColumnOrCall(name: name, location: location, quoted: true)
        case .word(let word):
            let upper = word.asciiUppercased
            switch upper {
            case "NULL":
                advance()
                return try node(.null, at: location)
            case "TRUE", "FALSE":
                advance()
                return try node(.boolean(upper == "TRUE"), at: location)
            case "CASE":
                throw refuse("CASE expressions are not supported: filter with WHERE or group by a column instead",
                             at: token)
            case "EXISTS":
                throw refuse("subqueries (EXISTS) are not supported yet", at: token)
            default:
                if Self.reservedWords.contains(upper), peekToken(1)?.isSymbol("(") != true {
                    throw syntax("expected an expression, found the keyword '\(word)'", at: token)
                }
                advance()
                return try parseColumnOrCall(name: word, location: location, quoted: false)
            }
        case .end:
            throw syntax("the query ends where an expression was expected", at: token)
        default:
            throw syntax("expected an expression, found \(token.display)", at: token)
        }
    }

    private mutating func parseColumnOrCall(name: String, location: SourceLocation,
                                            quoted: Bool) throws(QueryError) -> Expression {
        if !quoted, current.isSymbol("(") {
            advance()
            if current.isSymbol("*") {
                advance()
                try expectSymbol(")", context: "after '*' in \(name.asciiUppercased)(*)")
                return try node(.function(name: name.asciiUppercased, arguments: [], distinct: false, star: true),
                                  at: location)
            }
            let distinct = consumeKeyword("DISTINCT")
            var arguments: [Expression] = []
            if !current.isSymbol(")") {
                if current.isKeyword("SELECT") {
                    throw refuse("subqueries are not supported yet", at: current)
                }
                repeat { arguments.append(try parseExpression()) } while consumeSymbol(",")
            }
            try expectSymbol(")", context: "to close the arguments of \(name.asciiUppercased)")
            return try node(.function(name: name.asciiUppercased, arguments: arguments, distinct: distinct, star: false),
                              at: location)
        }
        if current.isSymbol(".") {
            advance()
            let column = try parseIdentifier(what: "a column name after '\(name).'")
            return try node(.column(name: column, qualifier: name), at: location)
        }
        return try node(.column(name: name, qualifier: nil), at: location)
    }

    // MARK: Nesting

    /// Enters one level of nesting, refusing the query beyond ``maximumDepth``.
    private mutating func descend(at location: SourceLocation) throws(QueryError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            depth -= 1
            throw tooDeep(at: location)
        }
    }

    /// An expression node, refused when it would make the tree higher than ``maximumDepth``.
    private func node(_ kind: Expression.Kind, at location: SourceLocation) throws(QueryError) -> Expression {
        let expression = Expression(kind, at: location)
        guard expression.height <= Self.maximumDepth else { throw tooDeep(at: location) }
        return expression
    }

    private func tooDeep(at location: SourceLocation) -> QueryError {
        QueryError(.invalidQuery, "the query nests expressions more than \(Self.maximumDepth) levels deep "
                   + "(parentheses, NOT, signs, function arguments and each operator of a chain count one level); "
                   + "simplify it or split it into several queries", at: location, in: query)
    }

    // MARK: Token helpers

    private var current: Token { tokens[position] }

    private func peekToken(_ ahead: Int) -> Token? {
        position + ahead < tokens.count ? tokens[position + ahead] : nil
    }

    private mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    private mutating func consumeKeyword(_ keyword: String) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        advance()
        return true
    }

    private mutating func consumeSymbol(_ symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    private mutating func expectKeyword(_ keyword: String, after: String) throws(QueryError) {
        guard consumeKeyword(keyword) else {
            throw syntax("expected \(keyword) after \(after), found \(current.display)", at: current)
        }
    }

    private mutating func expectSymbol(_ symbol: String, context: String) throws(QueryError) {
        guard consumeSymbol(symbol) else {
            throw syntax("expected '\(symbol)' \(context), found \(current.display)", at: current)
        }
    }

    private mutating func parseIdentifier(what: String) throws(QueryError) -> String {
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

    private func syntax(_ reason: String, at token: Token) -> QueryError {
        QueryError(.invalidQuery, reason, at: token.location, in: query)
    }

    private func refuse(_ reason: String, at token: Token) -> QueryError {
        QueryError(.queryRefused, reason, at: token.location, in: query)
    }
}
