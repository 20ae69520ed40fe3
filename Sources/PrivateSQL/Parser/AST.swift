// MARK: - Expressions

/// An expression of the query, with the place it starts in the text.
public struct Expression: Hashable, Sendable {
    /// The expression's form.
    public indirect enum Kind: Hashable, Sendable {
        /// A column, optionally qualified by a table name or alias (`visits.year`).
        case column(name: String, qualifier: String?)
        /// An integer literal.
        case integer(Int64)
        /// A real literal.
        case real(Double)
        /// A string literal.
        case string(String)
        /// `TRUE` or `FALSE`.
        case boolean(Bool)
        /// `NULL`.
        case null
        /// A prefix operator: `-`, `+` or `NOT`.
        case unary(UnaryOperator, Expression)
        /// An infix operator.
        case binary(BinaryOperator, Expression, Expression)
        /// A function call such as `COUNT(*)`, `COUNT(DISTINCT person_id)` or `PERCENTILE(income, 0.9)`.
        case function(name: String, arguments: [Expression], distinct: Bool, star: Bool)
        /// `expr IS [NOT] NULL`.
        case isNull(Expression, negated: Bool)
        /// `expr [NOT] IN (a, b, …)`.
        case inList(Expression, [Expression], negated: Bool)
        /// `expr [NOT] BETWEEN low AND high`.
        case between(Expression, low: Expression, high: Expression, negated: Bool)
        /// `expr [NOT] LIKE pattern`.
        case like(Expression, pattern: Expression, negated: Bool)
        /// A parenthesised `SELECT` (parsed only so that it can be refused with a clear message).
        case subquery
    }

    /// The expression's form.
    public let kind: Kind
    /// Where the expression starts.
    public let location: SourceLocation
    /// The number of levels of the expression tree: 1 for a literal or a column, one more than the highest
    /// operand otherwise. The parser keeps it at most ``Parser/maximumDepth``, so that every recursive walk of
    /// the tree (planning, rewriting, printing, releasing it) stays shallow.
    public let height: Int

    /// Creates an expression.
    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
        self.height = 1 + kind.operands.reduce(0) { max($0, $1.height) }
    }
}

extension Expression.Kind {
    /// The expressions directly inside this one.
    public var operands: [Expression] {
        switch self {
        case .column, .integer, .real, .string, .boolean, .null, .subquery: []
        case .unary(_, let e), .isNull(let e, _): [e]
        case .binary(_, let l, let r): [l, r]
        case .function(_, let arguments, _, _): arguments
        case .inList(let e, let list, _): [e] + list
        case .between(let e, let low, let high, _): [e, low, high]
        case .like(let e, let pattern, _): [e, pattern]
        }
    }
}

/// A prefix operator.
public enum UnaryOperator: String, Hashable, Sendable {
    /// `-x`.
    case negate = "-"
    /// `+x`.
    case plus = "+"
    /// `NOT x`.
    case not = "NOT"
}

/// An infix operator.
public enum BinaryOperator: String, Hashable, Sendable {
    case or = "OR"
    case and = "AND"
    case equal = "="
    case notEqual = "<>"
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case modulo = "%"
    case concatenate = "||"

    /// Whether the operator compares two values (and yields a truth value).
    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }

    /// Whether the operator is arithmetic (`+ - * / %`).
    public var isArithmetic: Bool {
        switch self {
        case .add, .subtract, .multiply, .divide, .modulo: true
        default: false
        }
    }
}

// MARK: - Statement

/// One item of the `SELECT` list.
public struct SelectItem: Hashable, Sendable {
    /// The selected expression, or `nil` for `*`.
    public let expression: Expression?
    /// The name given with `AS` (or a bare alias).
    public let alias: String?
    /// Where the item starts.
    public let location: SourceLocation

    /// Creates a select item.
    public init(expression: Expression?, alias: String?, at location: SourceLocation) {
        self.expression = expression
        self.alias = alias
        self.location = location
    }
}

/// The table in `FROM`.
public struct TableReference: Hashable, Sendable {
    /// The table's name as written.
    public let name: String
    /// The alias given with `AS` (or a bare alias).
    public let alias: String?
    /// Where the name starts.
    public let location: SourceLocation

    /// Creates a table reference.
    public init(name: String, alias: String?, at location: SourceLocation) {
        self.name = name
        self.alias = alias
        self.location = location
    }
}

/// How two relations of `FROM` are joined.
public enum JoinKind: String, Hashable, Sendable {
    /// `[INNER] JOIN`: the pairs of rows that satisfy the condition.
    case inner = "JOIN"
    /// `LEFT [OUTER] JOIN`: as `INNER`, plus each row of the left side that has no match, with NULLs on the right.
    case left = "LEFT JOIN"
}

/// The condition of a join.
public enum JoinCondition: Hashable, Sendable {
    /// `ON expr`.
    case on(Expression)
    /// `USING (column, …)`: the named columns of both sides are equal; each appears once in the result.
    case using([String])
}

/// A relation of `FROM`: a table, a parenthesised `SELECT` with an alias, or a join of two relations.
public indirect enum FromItem: Hashable, Sendable {
    /// A table by name.
    case table(TableReference)
    /// `(SELECT …) [AS] alias`: a subquery that only selects and filters columns (the planner checks which).
    case subquery(SelectStatement, alias: String, at: SourceLocation)
    /// `left [INNER | LEFT] JOIN right (ON … | USING (…))`.
    case join(FromItem, JoinKind, FromItem, JoinCondition, at: SourceLocation)

    /// The first table named in the relation, reading left to right (also inside subqueries).
    public var firstTable: TableReference {
        switch self {
        case .table(let table): table
        case .subquery(let statement, _, _): statement.source.firstTable
        case .join(let left, _, _, _, _): left.firstTable
        }
    }

    /// Whether the relation is a single table, without joins or subqueries.
    public var isSingleTable: Bool {
        if case .table = self { return true }
        return false
    }
}

/// One key of `ORDER BY`.
public struct OrderingTerm: Hashable, Sendable {
    /// The expression to sort by (a column, an alias, an aggregate or an output position).
    public let expression: Expression
    /// `DESC` rather than `ASC`.
    public let descending: Bool

    /// Creates an ordering term.
    public init(expression: Expression, descending: Bool) {
        self.expression = expression
        self.descending = descending
    }
}

/// A parsed `SELECT` statement of Veil's SQL subset.
public struct SelectStatement: Hashable, Sendable {
    /// `SELECT DISTINCT`.
    public var distinct: Bool
    /// The select list.
    public var items: [SelectItem]
    /// The relation in `FROM`: one table, or joins and subqueries over tables.
    public var source: FromItem
    /// The first table in `FROM` (the only one of a query without joins or subqueries).
    public var from: TableReference { source.firstTable }
    /// The `WHERE` condition.
    public var whereClause: Expression?
    /// The `GROUP BY` expressions.
    public var groupBy: [Expression]
    /// The `HAVING` condition (applied to noisy results).
    public var having: Expression?
    /// The `ORDER BY` keys (applied to noisy results).
    public var orderBy: [OrderingTerm]
    /// The `LIMIT` row count (applied to noisy results).
    public var limit: Int?
    /// The `OFFSET` (applied to noisy results).
    public var offset: Int?
    /// The full query text, for error messages.
    public var text: String
}
