/// The `FROM` clause of ``Parser``'s grammar: tables, joins and subqueries.
///
/// ```
/// from       := relation {join}
/// join       := [INNER | LEFT [OUTER]] JOIN relation (ON expr | USING ( column {, column} ))
/// relation   := table [[AS] alias] | ( SELECT … ) [AS] alias
/// ```
/// Comma, `CROSS`, `NATURAL`, `RIGHT` and `FULL` joins and parenthesised joins are refused here; whether a join
/// keeps the privacy unit is the planner's question (``RelationResolver``).
extension Parser {
    /// The most tables one query may read, counting those inside subqueries.
    public static let maximumTables = 16

    /// Parses the relation after `FROM`, with its joins.
    mutating func parseFrom() throws(QueryError) -> FromItem {
        var source = try parseRelation()
        while true {
            let start = current
            let qualified = current.isKeyword("LEFT") || current.isKeyword("INNER")
            if current.isSymbol(",") {
                throw refuse("comma joins are refused: they pair every row with every row; write "
                             + "JOIN … USING (unit column) or JOIN … ON a.unit = b.unit", at: current)
            }
            for word in ["RIGHT", "FULL"] where current.isKeyword(word) {
                throw refuse("\(word) JOIN is not supported: rows of the right side without a match would have no "
                             + "privacy unit; put the table with the unit on the left of a LEFT JOIN", at: current)
            }
            if current.isKeyword("CROSS") {
                throw refuse("CROSS JOIN is refused: it pairs every row with every row; join on the privacy unit "
                             + "with JOIN … USING (unit column)", at: current)
            }
            if current.isKeyword("NATURAL") {
                throw refuse("NATURAL JOIN is refused: it joins on every column that happens to share a name; name "
                             + "the columns with JOIN … USING (…)", at: current)
            }
            let kind: JoinKind
            if consumeKeyword("LEFT") {
                _ = consumeKeyword("OUTER")
                kind = .left
            } else {
                _ = consumeKeyword("INNER")
                kind = .inner
            }
            guard current.isKeyword("JOIN") else {
                if qualified {
                    throw syntax("expected JOIN after \(kind == .left ? "LEFT" : "INNER"), found \(current.display)",
                                 at: current)
                }
                return source
            }
            advance()
            let right = try parseRelation()
            let condition: JoinCondition
            if consumeKeyword("ON") {
                condition = .on(try parseExpression())
            } else if consumeKeyword("USING") {
                try expectSymbol("(", context: "after USING")
                var columns: [String] = []
                repeat {
                    columns.append(try parseIdentifier(what: "a column name in USING (…)"))
                } while consumeSymbol(",")
                try expectSymbol(")", context: "to close USING (…)")
                condition = .using(columns)
            } else {
                throw syntax("expected ON or USING after the joined table, found \(current.display)", at: current)
            }
            source = .join(source, kind, right, condition, at: start.location)
        }
    }

    /// Parses one table (with its alias) or one parenthesised `SELECT` with its alias.
    mutating func parseRelation() throws(QueryError) -> FromItem {
        let start = current
        if current.isSymbol("(") {
            guard peekToken(1)?.isKeyword("SELECT") == true else {
                throw refuse("parenthesised joins are not supported: write the joins left to right", at: current)
            }
            advance()
            try descend(at: start.location)
            defer { depth -= 1 }
            let statement = try parseSelect()
            try expectSymbol(")", context: "to close the subquery in FROM")
            guard let alias = try parseOptionalAlias() else {
                throw syntax("a subquery in FROM needs an alias: (SELECT …) AS name", at: current)
            }
            return .subquery(statement, alias: alias, at: start.location)
        }
        let name = try parseIdentifier(what: "a table name after FROM or JOIN")
        if current.isSymbol(".") {
            throw refuse("schema-qualified table names are not supported: name the table alone", at: current)
        }
        tablesRead += 1
        guard tablesRead <= Self.maximumTables else {
            throw refuse("the query reads more than \(Self.maximumTables) tables; join fewer", at: start)
        }
        return .table(TableReference(name: name, alias: try parseOptionalAlias(), at: start.location))
    }
}
