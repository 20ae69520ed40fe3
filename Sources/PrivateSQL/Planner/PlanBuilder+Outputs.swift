/// The output side of planning: `SELECT`, `HAVING` and `ORDER BY` expressions over grouping keys, aggregates
/// and literals, and the text form that names unaliased output columns.
extension PlanBuilder {
    mutating func outputExpression(_ expression: Expression, clause: String) throws(QueryError) -> OutputExpression {
        switch expression.kind {
        case .column(let name, let qualifier):
            // An output alias (HAVING and ORDER BY may name one).
            if clause != "SELECT", qualifier == nil,
               let position = statement.items.firstIndex(where: { $0.alias?.caseInsensitiveEquals(name) ?? false }),
               position < outputs.count {
                return outputs[position].expression
            }
            let column = try resolveColumn(name, qualifier: qualifier, at: expression.location)
            if let index = keys.firstIndex(where: { $0.column == column.name }) { return .key(index) }
            if table.isPrivacyUnit(column.name) {
                throw refuse("selecting the privacy unit \(column.name) is refused: it would reveal who is in the "
                             + "data; count units with COUNT(DISTINCT \(column.name)) instead", at: expression.location)
            }
            throw refuse("column \(column.name) is used in \(clause) without an aggregate, which would output raw "
                         + "values; wrap it in an aggregate such as "
                         + (column.type.isNumeric ? "AVG(\(column.name))" : "COUNT(\(column.name))")
                         + " or add it to GROUP BY", at: expression.location)
        case .integer(let v): return .literal(.integer(v))
        case .real(let v): return .literal(.real(v))
        case .string(let v): return .literal(.text(v))
        case .boolean(let v): return .literal(.integer(v ? 1 : 0))
        case .null: return .literal(.null)
        case .unary(let op, let operand):
            let inner = try outputExpression(operand, clause: clause)
            switch op {
            case .negate: return .negate(inner)
            case .plus: return inner
            case .not: return .not(inner)
            }
        case .binary(let op, let l, let r):
            if op == .concatenate {
                throw refuse("'||' is not supported on results", at: expression.location)
            }
            return .binary(op, try outputExpression(l, clause: clause), try outputExpression(r, clause: clause))
        case .function:
            return .aggregate(try aggregate(expression))
        case .isNull(let operand, let negated):
            return .isNull(try outputExpression(operand, clause: clause), negated: negated)
        case .inList(let operand, let list, let negated):
            var items: [OutputExpression] = []
            for item in list { items.append(try outputExpression(item, clause: clause)) }
            return .inList(try outputExpression(operand, clause: clause), items, negated: negated)
        case .between(let operand, let low, let high, let negated):
            return .between(try outputExpression(operand, clause: clause), try outputExpression(low, clause: clause),
                            try outputExpression(high, clause: clause), negated: negated)
        case .like:
            throw refuse("LIKE is supported in WHERE only; filter rows there instead", at: expression.location)
        case .subquery:
            throw refuse("subqueries are not supported yet", at: expression.location)
        }
    }

    mutating func orderingExpression(_ expression: Expression) throws(QueryError) -> OutputExpression {
        if case .integer(let position) = expression.kind {
            guard position >= 1, position <= outputs.count else {
                throw invalid("ORDER BY position \(position) is out of range: the query has \(outputs.count) "
                              + "output column\(outputs.count == 1 ? "" : "s")", at: expression.location)
            }
            return outputs[Int(position) - 1].expression
        }
        return try outputExpression(expression, clause: "ORDER BY")
    }
    /// A normalised text form of an expression, used as the default output column name.
    func render(_ expression: Expression) -> String {
        switch expression.kind {
        case .column(let name, let qualifier):
            let column = table.column(named: name)?.name ?? name
            return qualifier == nil ? column : "\(qualifier!).\(column)"
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .string(let v): return "'\(v.replacingOccurrences(of: "'", with: "''"))'"
        case .boolean(let v): return v ? "TRUE" : "FALSE"
        case .null: return "NULL"
        case .unary(let op, let operand):
            return op == .not ? "NOT \(render(operand))" : "\(op.rawValue)\(render(operand))"
        case .binary(let op, let l, let r): return "\(render(l)) \(op.rawValue) \(render(r))"
        case .function(let name, let arguments, let distinct, let star):
            if star { return "\(name)(*)" }
            return "\(name)(\(distinct ? "DISTINCT " : "")\(arguments.map(render).joined(separator: ", ")))"
        case .isNull(let e, let negated): return "\(render(e)) IS \(negated ? "NOT " : "")NULL"
        case .inList(let e, let list, let negated):
            return "\(render(e)) \(negated ? "NOT " : "")IN (\(list.map(render).joined(separator: ", ")))"
        case .between(let e, let low, let high, let negated):
            return "\(render(e)) \(negated ? "NOT " : "")BETWEEN \(render(low)) AND \(render(high))"
        case .like(let e, let pattern, let negated):
            return "\(render(e)) \(negated ? "NOT " : "")LIKE \(render(pattern))"
        case .subquery: return "(SELECT …)"
        }
    }
}
