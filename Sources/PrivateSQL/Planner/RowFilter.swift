/// A query's `WHERE` condition after validation: declared columns, literal values and the operators of Veil's
/// SQL subset. The planner builds it (``PlanBuilder/rowFilter(_:)``); the SQL rewriter renders it in its
/// dialect, binding every literal as a parameter (``SQLRewriter/sql(_:parameters:)``).
indirect enum RowFilter: Hashable, Sendable {
    /// A declared column, by its declared spelling.
    case column(String)
    /// A literal of the query (bound as a parameter, never written into the SQL text).
    case value(SQLValue)
    /// `NULL`.
    case null
    case negate(RowFilter)
    case not(RowFilter)
    case binary(BinaryOperator, RowFilter, RowFilter)
    case isNull(RowFilter, negated: Bool)
    case inList(RowFilter, [RowFilter], negated: Bool)
    case between(RowFilter, RowFilter, RowFilter, negated: Bool)
    case like(RowFilter, RowFilter, negated: Bool)
}

extension PlanBuilder {
    /// The `WHERE` condition over declared columns; aggregates, other functions and subqueries are refused.
    func rowFilter(_ expression: Expression) throws(QueryError) -> RowFilter {
        switch expression.kind {
        case .column(let name, let qualifier):
            return .column(try resolveColumn(name, qualifier: qualifier, at: expression.location).name)
        case .integer(let v): return .value(.integer(v))
        case .real(let v): return .value(.real(v))
        case .string(let v): return .value(.text(v))
        case .boolean(let v): return .value(.integer(v ? 1 : 0))
        case .null: return .null
        case .unary(let op, let operand):
            let inner = try rowFilter(operand)
            switch op {
            case .negate: return .negate(inner)
            case .plus: return inner
            case .not: return .not(inner)
            }
        case .binary(let op, let l, let r):
            let left = try rowFilter(l)
            return .binary(op, left, try rowFilter(r))
        case .function(let name, _, _, _):
            throw refuse(AggregateKind(name: name) != nil
                         ? "aggregates are not allowed in WHERE (it filters rows); use HAVING to filter groups"
                         : "function \(name) is not supported in WHERE; compare columns with literals",
                         at: expression.location)
        case .isNull(let operand, let negated):
            return .isNull(try rowFilter(operand), negated: negated)
        case .inList(let operand, let list, let negated):
            let left = try rowFilter(operand)
            var items: [RowFilter] = []
            for item in list { items.append(try rowFilter(item)) }
            return .inList(left, items, negated: negated)
        case .between(let operand, let low, let high, let negated):
            let value = try rowFilter(operand)
            let lowFilter = try rowFilter(low)
            return .between(value, lowFilter, try rowFilter(high), negated: negated)
        case .like(let operand, let pattern, let negated):
            let value = try rowFilter(operand)
            return .like(value, try rowFilter(pattern), negated: negated)
        case .subquery:
            throw refuse("subqueries are not supported yet", at: expression.location)
        }
    }
}
