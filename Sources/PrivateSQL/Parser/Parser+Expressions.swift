/// Expression parsing (the `expr` rule of ``Parser``'s grammar and below), with the nesting limit
/// ``Parser/maximumDepth`` enforced on both the recursion and the tree it builds.
extension Parser {
    /// Parses an expression at the current position.
    public mutating func parseExpression() throws(QueryError) -> Expression {
        try descend(at: current.location)
        defer { depth -= 1 }
        return try parseOr()
    }

    mutating func parseOr() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseAnd() }) { $0.isKeyword("OR") ? .or : nil }
    }

    mutating func parseAnd() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseNot() }) { $0.isKeyword("AND") ? .and : nil }
    }

    /// A left-associative chain `operand (operator operand)*`: `op` names the operator the current token stands
    /// for, or `nil` where the chain ends.
    mutating func parseChain(_ operand: (inout Parser) throws(QueryError) -> Expression,
                                     _ op: (Token) -> BinaryOperator?) throws(QueryError) -> Expression {
        var left = try operand(&self)
        while let binary = op(current) {
            advance()
            let right = try operand(&self)
            left = try node(.binary(binary, left, right), at: left.location)
        }
        return left
    }

    mutating func parseNot() throws(QueryError) -> Expression {
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

    mutating func parsePredicate() throws(QueryError) -> Expression {
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

    mutating func parseAdditive() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseMultiplicative() }) { token in
            token.isSymbol("+") ? .add : token.isSymbol("-") ? .subtract : token.isSymbol("||") ? .concatenate : nil
        }
    }

    mutating func parseMultiplicative() throws(QueryError) -> Expression {
        try parseChain({ (p: inout Parser) throws(QueryError) in try p.parseUnary() }) { token in
            token.isSymbol("*") ? .multiply : token.isSymbol("/") ? .divide : token.isSymbol("%") ? .modulo : nil
        }
    }

    mutating func parseUnary() throws(QueryError) -> Expression {
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

    mutating func parsePrimary() throws(QueryError) -> Expression {
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

    mutating func parseColumnOrCall(name: String, location: SourceLocation,
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
    mutating func descend(at location: SourceLocation) throws(QueryError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            depth -= 1
            throw tooDeep(at: location)
        }
    }

    /// An expression node, refused when it would make the tree higher than ``maximumDepth``.
    func node(_ kind: Expression.Kind, at location: SourceLocation) throws(QueryError) -> Expression {
        let expression = Expression(kind, at: location)
        guard expression.height <= Self.maximumDepth else { throw tooDeep(at: location) }
        return expression
    }

    func tooDeep(at location: SourceLocation) -> QueryError {
        QueryError(.invalidQuery, "the query nests expressions more than \(Self.maximumDepth) levels deep "
                   + "(parentheses, NOT, signs, function arguments and each operator of a chain count one level); "
                   + "simplify it or split it into several queries", at: location, in: query)
    }
}
