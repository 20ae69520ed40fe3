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
        try RowFilter.make(expression, query: statement.text) { name, qualifier, location throws(QueryError) in
            try resolveColumn(name, qualifier: qualifier, at: location).name
        }
    }
}

extension RowFilter {
    /// `expression` of the query text `query` as a row filter, naming each column by what `column` resolves it to
    /// (its name in the relation); aggregates, other functions and subqueries are refused.
    static func make(_ expression: Expression, query: String,
                     column: (String, String?, SourceLocation) throws(QueryError) -> String) throws(QueryError) -> RowFilter {
        func refuse(_ reason: String, at location: SourceLocation) -> QueryError {
            QueryError(.queryRefused, reason, at: location, in: query)
        }
        func convert(_ expression: Expression) throws(QueryError) -> RowFilter {
            switch expression.kind {
            case .column(let name, let qualifier):
                return .column(try column(name, qualifier, expression.location))
            case .integer(let v): return .value(.integer(v))
            case .real(let v): return .value(.real(v))
            case .string(let v): return .value(.text(v))
            case .boolean(let v): return .value(.integer(v ? 1 : 0))
            case .null: return .null
            case .unary(let op, let operand):
                let inner = try convert(operand)
                switch op {
                case .negate: return .negate(inner)
                case .plus: return inner
                case .not: return .not(inner)
                }
            case .binary(let op, let l, let r):
                let left = try convert(l)
                return .binary(op, left, try convert(r))
            case .function(let name, _, _, _):
                throw refuse(AggregateKind(name: name) != nil
                             ? "aggregates are not allowed in WHERE or ON (they filter rows); use HAVING to filter groups"
                             : "function \(name) is not supported in WHERE or ON; compare columns with literals",
                             at: expression.location)
            case .isNull(let operand, let negated):
                return .isNull(try convert(operand), negated: negated)
            case .inList(let operand, let list, let negated):
                let left = try convert(operand)
                var items: [RowFilter] = []
                for item in list { items.append(try convert(item)) }
                return .inList(left, items, negated: negated)
            case .between(let operand, let low, let high, let negated):
                let value = try convert(operand)
                let lowFilter = try convert(low)
                return .between(value, lowFilter, try convert(high), negated: negated)
            case .like(let operand, let pattern, let negated):
                let value = try convert(operand)
                return .like(value, try convert(pattern), negated: negated)
            case .subquery:
                throw refuse("subqueries are not supported yet", at: expression.location)
            }
        }
        return try convert(expression)
    }

    /// The conditions that all hold when this one does: the operands of top-level `AND`s.
    var conjuncts: [RowFilter] {
        if case .binary(.and, let l, let r) = self { return l.conjuncts + r.conjuncts }
        return [self]
    }

    /// `a AND b`, or whichever is present.
    static func both(_ a: RowFilter?, _ b: RowFilter?) -> RowFilter? {
        guard let a else { return b }
        guard let b else { return a }
        return .binary(.and, a, b)
    }
}

extension RowFilter {
    /// The filter with every operand that stands as a truth value (the whole condition, the operands of `AND`, `OR`
    /// and `NOT`) written as a comparison: a bare column or number `x` becomes `x <> 0`. SQLite reads a number as
    /// true when it is not zero and PostgreSQL refuses a number in `WHERE`; written out, both engines answer
    /// `WHERE female` alike (NULL stays unknown in both).
    /// - Parameter type: the declared type of a column of the relation.
    /// - Throws: ``QueryError`` (`query_refused`) for a text column used as a truth value, which SQLite would read
    ///   by converting its text to a number and PostgreSQL cannot.
    func asCondition(query: String, type: (String) -> ColumnType?) throws(QueryError) -> RowFilter {
        switch self {
        case .binary(let op, let l, let r) where op == .and || op == .or:
            return .binary(op, try l.asCondition(query: query, type: type), try r.asCondition(query: query, type: type))
        case .not(let operand):
            return .not(try operand.asCondition(query: query, type: type))
        case .column(let name) where type(name) == .text:
            throw QueryError(.queryRefused, "the text column \(name) is not a condition: compare it, e.g. "
                             + "\(name) = 'value' or \(name) IS NOT NULL", at: nil, in: query)
        case .column, .value, .negate:
            return .binary(.notEqual, self, .value(.integer(0)))
        case .binary(let op, _, _) where op.isArithmetic:
            return .binary(.notEqual, self, .value(.integer(0)))
        default:
            return self
        }
    }
}
