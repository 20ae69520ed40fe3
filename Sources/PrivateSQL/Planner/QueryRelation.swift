import BudgetLedger

/// The relation a query reads, flattened for the SQL rewriter: the base tables in join order, each with the way
/// it is joined, and where every column of the relation comes from.
///
/// A query over one table is one source without an alias, and its statements are written exactly as they were
/// before joins existed (`FROM "visits"`, `"year"`). A join gives every table an alias of Veil's own
/// (`veil_t0`, `veil_t1`, …) and every column a name in the relation (``RelationResolver``): the declared name when
/// no other table of the query has a column of that name, else `alias.column`. The planner sees the relation as
/// one table (``RelationResolver/Resolution/table``) with those column names; the rewriter writes each one as its
/// table's column.
struct QueryRelation: Hashable, Sendable {
    /// One base table of the relation.
    struct Source: Hashable, Sendable {
        /// The table's metadata (its declared name, unit, bounds and columns).
        let table: TableMetadata
        /// The alias the statements give it (`veil_t<i>`), `nil` for a query over one table.
        let alias: String?
        /// How it is joined to the sources before it (ignored for the first).
        var kind: JoinKind = .inner
        /// Its join condition over the relation's columns (`nil` for the first; `TRUE` when a later source's
        /// condition holds it, which happens for the first table of a joined subquery).
        var condition: RowFilter?
    }

    /// Where a column of the relation comes from.
    struct Origin: Hashable, Sendable {
        /// The index of its source.
        let source: Int
        /// The column's declared name in that source's table.
        let column: String
    }

    /// The base tables in the order they are joined.
    var sources: [Source]
    /// Every column of the relation (also those a `USING` join hides) by its name in the relation.
    var columns: [String: Origin]

    /// The relation of a query over `table` alone.
    static func single(_ table: TableMetadata) -> QueryRelation {
        QueryRelation(sources: [Source(table: table, alias: nil)],
                      columns: Dictionary(table.columns.map { ($0.name, Origin(source: 0, column: $0.name)) },
                                          uniquingKeysWith: { a, _ in a }))
    }

    /// Whether the relation joins tables (its statements qualify every column).
    var isJoin: Bool { sources.count > 1 || sources[0].alias != nil }

    /// The relation's column `name` as an SQL reference: `"column"`, or `"veil_t<i>"."column"` in a join.
    func reference(_ name: String) -> String {
        guard let origin = columns[name] else { return SQLiteIdentifier.quoted(name) }
        let column = SQLiteIdentifier.quoted(origin.column)
        guard let alias = sources[origin.source].alias else { return column }
        return "\(SQLiteIdentifier.quoted(alias)).\(column)"
    }

    /// The origin (table and declared column) of the relation's column `name`.
    func origin(of name: String) -> (table: String, column: String) {
        guard let origin = columns[name] else { return (sources[0].table.name, name) }
        return (sources[origin.source].table.name, origin.column)
    }

    /// A value that tells the relation's rows apart (for sampling rows per unit): the table's row id, or in a join
    /// the row ids of every source, separated by `:` (a source without a match in a `LEFT JOIN` adds nothing).
    func rowID(_ dialect: SQLDialect) -> String {
        guard isJoin else { return dialect.rowID }
        let parts = sources.map { source in
            "COALESCE((\(dialect.rowID(qualifiedBy: SQLiteIdentifier.quoted(source.alias!))))\(dialect == .sqlite ? "" : "::text"), '')"
        }
        return "(" + parts.joined(separator: " || ':' || ") + ")"
    }

    /// The `FROM` clause: the table, or the tables with their joins, each condition written by `condition` (which
    /// binds the literals as parameters, in the order of the text).
    func fromSQL(condition: (RowFilter) -> String) -> String {
        var sql = ""
        for (i, source) in sources.enumerated() {
            let name = SQLiteIdentifier.quoted(source.table.name)
            guard let alias = source.alias else { return name }
            if i > 0 { sql += "\n  \(source.kind.rawValue) " }
            sql += "\(name) AS \(SQLiteIdentifier.quoted(alias))"
            if i > 0 { sql += " ON \(source.condition.map(condition) ?? "(1 = 1)")" }
        }
        return sql
    }
}
