/// Checks a query's `FROM` (joins and subqueries) against the privacy metadata and flattens it into one
/// ``QueryRelation``, which the planner then treats as one table.
///
/// **The unit flows through every relation** (as in ZetaSQL's differential privacy): every private table has a
/// `privacy_unit` column; a join of two relations that both carry a unit must equate the two units (a top-level
/// conjunct `a.unit = b.unit` of `ON`, or the unit in `USING`), so that each row of the join belongs to one unit; a
/// subquery over private tables must select the unit; a `LEFT JOIN` keeps its left side, which must carry the unit
/// when any side does. Public tables (`public: true`) carry no unit and may be joined on any condition. Tables
/// with `row_privacy` cannot be joined (a join could repeat one of their rows without bound). A subquery may only
/// select columns (optionally renamed) and filter them; `GROUP BY`, `DISTINCT`, `LIMIT` and the like inside it
/// would aggregate or drop rows across units before each unit's contribution is bounded. Every refusal happens
/// while planning, before any budget is reserved.
///
/// Contribution bounding applies to the joined relation, per unit (one person's m rows in one table and n in the
/// other make m·n joined rows, bounded like any other rows), with the bounds `max_partitions_per_unit`,
/// `max_rows_per_partition` and `max_rows_per_unit` of the table whose unit the relation carries (the first private
/// table, reading left to right). Each column keeps the type, clamping bounds and public values of its own table.
struct RelationResolver {
    /// The resolved relation, as the planner uses it.
    struct Resolution {
        /// The relation as one table: its unit, its bounds, and every column under its name in the relation.
        let table: TableMetadata
        /// How the rewriter writes it.
        let relation: QueryRelation
        /// The names the outer query may use for the relation's columns.
        let scope: Scope
        /// The conditions of the subqueries' `WHERE` clauses, which every row of the relation must meet.
        let filter: RowFilter?
        /// The relation's names of the unit columns of every private table (none may be a grouping key).
        let unitColumns: Set<String>
    }

    /// One name by which the query can refer to a column of the relation.
    struct Entry {
        /// The table name or alias that qualifies it.
        let qualifier: String
        /// The column's name as the query writes it.
        let name: String
        /// The column's name in the relation.
        var column: String
        /// Whether only `qualifier.name` finds it (the right side's column of `LEFT JOIN … USING`).
        var qualifiedOnly = false
    }

    /// The names visible at one level of the query, with the unit that level carries.
    struct Scope {
        var entries: [Entry]
        /// The relation's name of the unit column, `nil` when the level reads public tables only.
        var unit: String?

        /// The relation's name of the column `qualifier.name` (or `name`).
        /// - Throws: ``QueryError`` (`invalid_query`) for an unknown qualifier, an unknown or an ambiguous column.
        func resolve(_ name: String, qualifier: String?, at location: SourceLocation,
                     query: String) throws(QueryError) -> String {
            let qualifiers = entries.map(\.qualifier).reduce(into: [String]()) { list, q in
                if !list.contains(where: { $0.caseInsensitiveEquals(q) }) { list.append(q) }
            }
            if let qualifier, !qualifiers.contains(where: { $0.caseInsensitiveEquals(qualifier) }) {
                throw QueryError(.invalidQuery, "unknown table or alias '\(qualifier)' (the query reads "
                                 + qualifiers.joined(separator: ", ") + ")", at: location, in: query)
            }
            let matches = entries.filter { entry in
                entry.name.caseInsensitiveEquals(name)
                    && (qualifier.map { entry.qualifier.caseInsensitiveEquals($0) } ?? !entry.qualifiedOnly)
            }
            var columns: [String] = []
            for match in matches where !columns.contains(match.column) { columns.append(match.column) }
            guard let column = columns.first else {
                let written = qualifier.map { "\($0).\(name)" } ?? name
                let known = entries.filter { qualifier == nil || $0.qualifier.caseInsensitiveEquals(qualifier!) }
                    .map { "\($0.qualifier).\($0.name)" }
                throw QueryError(.invalidQuery, "unknown column '\(written)' (columns: \(known.joined(separator: ", ")))",
                                 at: location, in: query)
            }
            guard columns.count == 1 else {
                let owners = matches.map(\.qualifier).reduce(into: [String]()) { list, q in
                    if !list.contains(q) { list.append(q) }
                }
                throw QueryError(.invalidQuery, "column '\(name)' is ambiguous: it is a column of "
                                 + owners.joined(separator: " and ") + "; qualify it, e.g. \(owners[0]).\(name)",
                                 at: location, in: query)
            }
            return column
        }
    }

    let metadata: PrivacyMetadata
    let query: String
    /// The base tables in join order with the qualifier the query gives each (pass 1).
    private var tables: [(table: TableMetadata, qualifier: String)] = []
    /// Each base table's columns' names in the relation, in declaration order.
    private var names: [[String]] = []
    private var sources: [QueryRelation.Source] = []
    private var columns: [String: QueryRelation.Origin] = [:]
    private var filter: RowFilter?
    private var unitColumns: Set<String> = []

    /// Resolves `source`, the `FROM` of a query with joins or subqueries.
    /// - Throws: ``QueryError``: `invalid_query` for unknown or ambiguous names, `query_refused` for a shape that
    ///   does not keep the unit.
    static func resolve(_ source: FromItem, metadata: PrivacyMetadata, query: String) throws(QueryError) -> Resolution {
        var resolver = RelationResolver(metadata: metadata, query: query)
        try resolver.collect(source)
        resolver.nameColumns()
        let scope = try resolver.resolve(source, nullable: false)
        guard let unit = scope.unit, let origin = resolver.columns[unit] else {
            throw QueryError(.queryRefused, "the query reads only public tables ("
                             + resolver.tables.map(\.table.name).joined(separator: ", ") + "); Veil answers queries "
                             + "over private tables: join a public table to a table with a privacy unit",
                             at: source.firstTable.location, in: query)
        }
        let unitTable = resolver.tables[origin.source].table
        var tableColumns: [ColumnMetadata] = []
        for (i, entry) in resolver.tables.enumerated() {
            for (j, column) in entry.table.columns.enumerated() {
                tableColumns.append(ColumnMetadata(name: resolver.names[i][j], type: column.type, lower: column.lower,
                                                   upper: column.upper, publicValues: column.publicValues))
            }
        }
        let table = TableMetadata(name: resolver.tables.map(\.table.name).joined(separator: " JOIN "),
                                  privacyUnit: .column(unit), maxPartitionsPerUnit: unitTable.maxPartitionsPerUnit,
                                  maxRowsPerPartition: unitTable.maxRowsPerPartition,
                                  maxRowsPerUnit: unitTable.maxRowsPerUnit, columns: tableColumns)
        return Resolution(table: table, relation: QueryRelation(sources: resolver.sources, columns: resolver.columns),
                          scope: scope, filter: resolver.filter, unitColumns: resolver.unitColumns)
    }

    private func refuse(_ reason: String, at location: SourceLocation) -> QueryError {
        QueryError(.queryRefused, reason, at: location, in: query)
    }

    // MARK: Pass 1: tables and column names

    /// Looks up every table of `item`, left to right (the order ``resolve(_:nullable:)`` meets them in).
    private mutating func collect(_ item: FromItem) throws(QueryError) {
        switch item {
        case .table(let reference):
            guard let table = metadata.table(named: reference.name) else {
                throw QueryError(.invalidQuery, "unknown table '\(reference.name)' (tables in \(metadata.source): "
                                 + metadata.tables.map(\.name).joined(separator: ", ") + ")",
                                 at: reference.location, in: query)
            }
            tables.append((table, reference.alias ?? table.name))
        case .subquery(let statement, _, _):
            try collect(statement.source)
        case .join(let left, _, let right, _, _):
            try collect(left)
            try collect(right)
        }
    }

    /// Names every column of the relation: its declared name when no other table of the query has a column of
    /// that name, else `qualifier.column` (or `veil_t<i>.column` if that is taken too).
    private mutating func nameColumns() {
        var counts: [String: Int] = [:]
        for entry in tables { for column in entry.table.columns { counts[column.name.asciiLowercased, default: 0] += 1 } }
        var taken = Set<String>()
        names = tables.enumerated().map { i, entry in
            entry.table.columns.map { column in
                var name = counts[column.name.asciiLowercased] == 1 ? column.name : "\(entry.qualifier).\(column.name)"
                if taken.contains(name.asciiLowercased) { name = "veil_t\(i).\(column.name)" }
                taken.insert(name.asciiLowercased)
                return name
            }
        }
    }

    // MARK: Pass 2: scopes, joins and the unit

    /// The scope of `item`, appending its tables to the relation. `nullable`: `item` is on the right of a
    /// `LEFT JOIN` (its rows may be missing).
    private mutating func resolve(_ item: FromItem, nullable: Bool) throws(QueryError) -> Scope {
        switch item {
        case .table(let reference):
            let i = sources.count
            let (table, qualifier) = tables[i]
            if table.privacyUnit == .row, !table.isPublic {
                throw refuse("table \(table.name) declares row_privacy: a join could repeat one of its rows without "
                             + "bound; joins need a privacy_unit column on every private table", at: reference.location)
            }
            sources.append(QueryRelation.Source(table: table, alias: "veil_t\(i)"))
            var scope = Scope(entries: [], unit: nil)
            for (j, column) in table.columns.enumerated() {
                columns[names[i][j]] = QueryRelation.Origin(source: i, column: column.name)
                scope.entries.append(Entry(qualifier: qualifier, name: column.name, column: names[i][j]))
                if !table.isPublic, table.isPrivacyUnit(column.name) {
                    scope.unit = names[i][j]
                    unitColumns.insert(names[i][j])
                }
            }
            return scope
        case .subquery(let statement, let alias, let location):
            return try resolveSubquery(statement, alias: alias, at: location, nullable: nullable)
        case .join(let left, let kind, let right, let condition, let location):
            return try resolveJoin(left, kind, right, condition, at: location, nullable: nullable)
        }
    }

    private mutating func resolveSubquery(_ statement: SelectStatement, alias: String, at location: SourceLocation,
                                          nullable: Bool) throws(QueryError) -> Scope {
        let clauses = [statement.distinct ? "DISTINCT" : nil, statement.groupBy.isEmpty ? nil : "GROUP BY",
                       statement.having == nil ? nil : "HAVING", statement.orderBy.isEmpty ? nil : "ORDER BY",
                       statement.limit == nil ? nil : "LIMIT"].compactMap { $0 }
        if let clause = clauses.first {
            throw refuse("a subquery in FROM may only select and filter columns: \(clause) inside it would combine or "
                         + "drop rows of several units before each unit's contribution is bounded", at: location)
        }
        if nullable, statement.whereClause != nil || !statement.source.isSingleTable {
            throw refuse("a subquery on the right of a LEFT JOIN may not filter or join (its WHERE would drop rows of the "
                         + "left side); move the condition into ON, or use an inner JOIN", at: location)
        }
        let inner = try resolve(statement.source, nullable: nullable)
        if let condition = statement.whereClause {
            let resolved = try RowFilter.make(condition, query: query) { name, qualifier, at throws(QueryError) in
                try inner.resolve(name, qualifier: qualifier, at: at, query: query)
            }
            filter = RowFilter.both(filter, resolved)
        }
        var scope = Scope(entries: [], unit: inner.unit)
        for item in statement.items {
            guard let expression = item.expression else {
                for entry in inner.entries where !entry.qualifiedOnly {
                    scope.entries.append(Entry(qualifier: alias, name: entry.name, column: entry.column))
                }
                continue
            }
            guard case .column(let name, let qualifier) = expression.kind else {
                throw refuse("a subquery in FROM may only select columns, optionally renamed "
                             + "(SELECT person_id, income AS earnings FROM …): aggregates and expressions belong in "
                             + "the outer query", at: expression.location)
            }
            let column = try inner.resolve(name, qualifier: qualifier, at: expression.location, query: query)
            scope.entries.append(Entry(qualifier: alias, name: item.alias ?? name, column: column))
        }
        if let unit = inner.unit, !scope.entries.contains(where: { $0.column == unit }) {
            let (table, column) = QueryRelation(sources: sources, columns: columns).origin(of: unit)
            throw refuse("the subquery \(alias) does not select the privacy unit \(column) of table \(table): the unit "
                         + "must flow through every relation of the query; add \(column) to its select list", at: location)
        }
        return scope
    }

    private mutating func resolveJoin(_ left: FromItem, _ kind: JoinKind, _ right: FromItem, _ condition: JoinCondition,
                                      at location: SourceLocation, nullable: Bool) throws(QueryError) -> Scope {
        let leftScope = try resolve(left, nullable: nullable)
        let firstRight = sources.count
        var rightScope = try resolve(right, nullable: nullable || kind == .left)
        for entry in rightScope.entries
        where leftScope.entries.contains(where: { $0.qualifier.caseInsensitiveEquals(entry.qualifier) }) {
            throw QueryError(.invalidQuery, "'\(entry.qualifier)' names two relations of the join; give each its own "
                             + "alias (FROM visits a JOIN visits b …)", at: location, in: query)
        }
        let resolved: RowFilter
        switch condition {
        case .on(let expression):
            let both = Scope(entries: leftScope.entries + rightScope.entries, unit: nil)
            resolved = try RowFilter.make(expression, query: query) { name, qualifier, at throws(QueryError) in
                try both.resolve(name, qualifier: qualifier, at: at, query: query)
            }
        case .using(let names):
            var equalities: [RowFilter] = []
            for name in names {
                let l = try leftScope.resolve(name, qualifier: nil, at: location, query: query)
                let r = try rightScope.resolve(name, qualifier: nil, at: location, query: query)
                equalities.append(.binary(.equal, .column(l), .column(r)))
                // The column appears once: unqualified, it is the left side's (which a LEFT JOIN keeps).
                for index in rightScope.entries.indices where rightScope.entries[index].column == r {
                    if kind == .inner { rightScope.entries[index].column = l } else { rightScope.entries[index].qualifiedOnly = true }
                }
            }
            resolved = equalities.dropFirst().reduce(equalities[0]) { .binary(.and, $0, $1) }
        }
        // A column the condition equates with a unit column holds that unit on every joined row (a public table's
        // person_id joined USING (person_id), say): grouping by it, or listing public values for it, would
        // describe single units, so it counts as a unit column too.
        for conjunct in resolved.conjuncts {
            guard case .binary(.equal, .column(let a), .column(let b)) = conjunct else { continue }
            if unitColumns.contains(a) { unitColumns.insert(b) }
            if unitColumns.contains(b) { unitColumns.insert(a) }
        }
        if let leftUnit = leftScope.unit, let rightUnit = rightScope.unit {
            let equated = resolved.conjuncts.contains { conjunct in
                conjunct == .binary(.equal, .column(leftUnit), .column(rightUnit))
                    || conjunct == .binary(.equal, .column(rightUnit), .column(leftUnit))
            }
            let relation = QueryRelation(sources: sources, columns: columns)
            guard equated else {
                let (lt, lc) = relation.origin(of: leftUnit)
                let (rt, rc) = relation.origin(of: rightUnit)
                throw refuse("the join does not keep the privacy unit: \(lt).\(lc) and \(rt).\(rc) must be equal in its "
                             + "condition (ON … \(lc) = … \(rc), or USING (\(lc)) when the names agree), so that every "
                             + "joined row belongs to one unit; a join on other columns would pair different units' rows",
                             at: location)
            }
            if kind == .inner {
                // Equal on every joined row: the right side's unit column names the relation's unit.
                for index in rightScope.entries.indices where rightScope.entries[index].column == rightUnit {
                    rightScope.entries[index].column = leftUnit
                }
            }
        } else if leftScope.unit == nil, rightScope.unit != nil, kind == .left {
            throw refuse("LEFT JOIN keeps every row of its left side, which here reads public tables only (rows "
                         + "without a privacy unit); put the table with the unit on the left", at: location)
        }
        if sources.count - firstRight == 1 {
            sources[firstRight].kind = kind
            sources[firstRight].condition = resolved
        } else {
            // A joined subquery of inner joins: its tables join among themselves as written, and this condition
            // holds for the rows of the whole relation (for inner joins ON and WHERE are the same).
            filter = RowFilter.both(filter, resolved)
        }
        return Scope(entries: leftScope.entries + rightScope.entries, unit: leftScope.unit ?? rightScope.unit)
    }
}
