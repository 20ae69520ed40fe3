import BudgetLedger

/// Writes the SQL that computes a plan's true per-group quantities with contribution bounding pushed down
/// to the database.
///
/// User-level privacy (a `privacy_unit` column), in four steps of one statement:
/// 1. `veil_rows`: the `WHERE` filter (rows without a unit, and rows whose key is not a declared public
///    value, are dropped), the unit, the keys and each aggregated column clamped to its bounds.
///    With `max_rows_per_unit` R, `veil_rows` first keeps each unit's R rows of smallest priority (`RANDOM()`,
///    or `veil_priority(key, unit, _rowid_)`): a uniformly random subset of R rows (all of them when it has
///    fewer), the same rows ``BoundedAggregator`` keeps under the keyed hash.
/// 2. `veil_units`: `GROUP BY unit, keys`: one row per (unit, group) with the unit's bounded contribution to
///    each quantity (see ``NoisyQuantity``): counts capped at m rows, sums clamped, means scaled to at most
///    m rows, all rounded to the quantity's grid.
/// 3. `veil_kept`: each unit keeps at most k of its groups, those with the smallest keyed hash
///    `veil_priority(key, unit, keys…)` (``KeyedPriority``: SHA-256 under a per-query secret key). The choice for a unit
///    depends only on that unit's own groups, so adding or removing a unit changes no other unit's choice,
///    which is all the sensitivity bound needs; the hash makes the choice uniform and unpredictable without
///    the key. The step is skipped when a unit cannot touch more than k groups (no `GROUP BY`, or fewer
///    public key combinations than k), and a unit with at most k groups keeps them all without computing their
///    priorities.
/// 4. `veil_groups`: `GROUP BY keys`, summing contributions with `veil_sum` (``SaturatingSum``: exact, clamped
///    to the range of `Int64`, never failing on the data); with public keys the declared key combinations are
///    left-joined so that empty groups appear with zeros (`veil_groups` is materialised once for the join).
///
/// Histograms (for `MEDIAN` and `PERCENTILE`) get a statement of their own in long form, one row per
/// (group, bin), counting min(n, m) rows sampled per (unit, group) (see ``histogramStatement(_:)``): computing
/// 64 bins as 64 columns of the per-unit step is several times slower on SQLite.
///
/// Row-level privacy (`row_privacy: true`) needs no per-unit step: rows are clamped, rounded and aggregated
/// per group directly.
///
/// Identifiers come from the metadata and are double-quoted; every literal of the query is a `?`
/// parameter. Numbers written into the text come from the metadata and the planner, never from the query.
struct SQLRewriter {
    let table: TableMetadata
    let keys: [GroupingKey]
    let quantities: [NoisyQuantity]
    let filter: RowFilter?
    let publicKeys: Bool
    let sampling: PartitionSampling
    /// The tables the statements read: ``table`` alone, or the joined tables it stands for.
    let relation: QueryRelation
    /// The engine the statements are written for.
    var dialect: SQLDialect = .sqlite

    /// `name` as a double-quoted SQL identifier (``SQLiteIdentifier/quoted(_:)``).
    static func quote(_ name: String) -> String { SQLiteIdentifier.quoted(name) }

    /// The relation's column `name` as the statements read it (``SQLDialect/column(_:reference:)``).
    func columnSQL(_ name: String) -> String { dialect.column(name, reference: relation.reference(name)) }

    /// The relation's column `name` as an aggregated number (``SQLDialect/number(_:reference:)``).
    func numberSQL(_ name: String) -> String { dialect.number(name, reference: relation.reference(name)) }

    /// The `FROM` clause, with the literals of join conditions appended to `parameters`.
    func fromSQL(_ parameters: inout [SQLValue]) -> String {
        relation.fromSQL { sql($0, parameters: &parameters) }
    }

    /// This rewriter writing for `dialect`.
    func writing(for dialect: SQLDialect) -> SQLRewriter {
        var copy = self
        copy.dialect = dialect
        return copy
    }

    /// A number as an SQL literal: integers without a fraction, reals in round-trip form.
    static func number(_ value: Double, forceReal: Bool = false) -> String {
        if !forceReal, value == value.rounded(), abs(value) < 1e15 { return "(\(Int64(value)))" }
        var text = String(value)
        if !text.contains(".") && !text.contains("e") { text += ".0" }
        return "(\(text))"
    }

    /// `filter` as SQL over quoted, declared identifiers, with every literal bound as a parameter (appended to
    /// `parameters` in the order of the text).
    func sql(_ filter: RowFilter, parameters: inout [SQLValue]) -> String {
        switch filter {
        case .column(let name):
            return columnSQL(name)
        case .value(let value):
            parameters.append(value)
            return "?"
        case .null:
            return "NULL"
        case .negate(let operand):
            return "(-\(sql(operand, parameters: &parameters)))"
        case .not(let operand):
            return "(NOT \(sql(operand, parameters: &parameters)))"
        case .binary(let op, let l, let r):
            let left = sql(l, parameters: &parameters)
            let right = sql(r, parameters: &parameters)
            return "(\(left) \(op.rawValue) \(right))"
        case .isNull(let operand, let negated):
            return "(\(sql(operand, parameters: &parameters)) IS \(negated ? "NOT " : "")NULL)"
        case .inList(let operand, let list, let negated):
            let left = sql(operand, parameters: &parameters)
            let items = list.map { sql($0, parameters: &parameters) }
            return "(\(left) \(negated ? "NOT " : "")IN (\(items.joined(separator: ", "))))"
        case .between(let operand, let low, let high, let negated):
            let value = sql(operand, parameters: &parameters)
            let lowSQL = sql(low, parameters: &parameters)
            let highSQL = sql(high, parameters: &parameters)
            return "(\(value) \(negated ? "NOT " : "")BETWEEN \(lowSQL) AND \(highSQL))"
        case .like(let operand, let pattern, let negated):
            let value = sql(operand, parameters: &parameters)
            let patternSQL = sql(pattern, parameters: &parameters)
            return "(\(value) \(negated ? "NOT " : "")\(dialect.like) \(patternSQL))"
        }
    }

    /// Whether units must drop groups beyond k (they can touch more groups than k).
    var needsSampling: Bool {
        table.privacyUnit != .row && !keys.isEmpty && !(publicKeys && publicCombinations <= table.maxPartitionsPerUnit)
    }

    /// The `veil_rows` step: filter, unit, keys and the given columns clamped (plus bin indices for histograms).
    func rowsCTE(columns valueColumns: [ValueColumn], histogram: (column: String, bins: Int, lower: Double, upper: Double)?,
                 parameters: inout [SQLValue]) -> String {
        var rowSelect: [String] = []
        if case .column(let unit) = table.privacyUnit { rowSelect.append("\(columnSQL(unit)) AS veil_unit") }
        for (i, key) in keys.enumerated() { rowSelect.append("\(columnSQL(key.column)) AS veil_k\(i)") }
        var conditions: [String] = []
        for (j, column) in valueColumns.enumerated() {
            var clamped = numberSQL(column.name)
            if let b = column.bounds {
                clamped = dialect.clamp(clamped, low: Self.number(b.lowerBound), high: Self.number(b.upperBound))
            }
            if let h = histogram, h.column == column.name {
                let width = h.upper - h.lower
                let perUnit = width > 0 ? Double(h.bins) / width : 0
                let bin = "(\(clamped) - \(Self.number(h.lower))) * \(Self.number(perUnit, forceReal: true))"
                rowSelect.append(dialect.truncatedInteger(dialect.least("\(h.bins - 1)",
                                                                        dialect.greatest("0", bin)))
                                 + " AS veil_bin")
                conditions.append("\(numberSQL(column.name)) IS NOT NULL")
            } else {
                rowSelect.append("\(clamped) AS veil_c\(j)")
            }
        }
        if rowSelect.isEmpty { rowSelect.append("1 AS veil_row") }
        let from = fromSQL(&parameters)
        conditions = filterConditions(&parameters) + conditions
        let sampledRows = totalRowsBound
        if sampledRows != nil { rowSelect.append("\(relation.rowID(dialect)) AS veil_rowid") }
        var sql = "\(sampledRows == nil ? "veil_rows" : "veil_all_rows") AS (\n  SELECT \(rowSelect.joined(separator: ", "))"
            + "\n  FROM \(from)"
        if !conditions.isEmpty { sql += "\n  WHERE \(conditions.joined(separator: "\n    AND "))" }
        sql += "\n)"
        if let sampledRows {
            sql += ",\nveil_rows AS (\n  SELECT * FROM (\n    SELECT *, ROW_NUMBER() OVER (PARTITION BY veil_unit ORDER BY "
                + "\(priority(&parameters, unitKeys: "veil_unit, veil_rowid"))) AS veil_unit_rank\n    FROM veil_all_rows\n  ) AS veil_numbered\n"
                + "  WHERE veil_unit_rank <= \(sampledRows)\n)"
        }
        return sql
    }

    /// R when units keep at most R rows in all and some unit could have more (user-level privacy only).
    var totalRowsBound: Int? {
        guard table.privacyUnit != .row else { return nil }
        return table.maxRowsPerUnit
    }

    /// The rows every form aggregates: the query's `WHERE`, rows with a unit, rows whose keys are declared
    /// public values (when they are). Appends the conditions' parameters.
    func filterConditions(_ parameters: inout [SQLValue]) -> [String] {
        var conditions: [String] = []
        if let filter { conditions.append(sql(filter, parameters: &parameters)) }
        if case .column(let unit) = table.privacyUnit { conditions.append("\(relation.reference(unit)) IS NOT NULL") }
        for key in keys {
            if let values = key.publicValues {
                conditions.append("\(columnSQL(key.column)) IN (\(values.map { _ in "?" }.joined(separator: ", ")))")
                parameters += values
            }
        }
        return conditions
    }

    /// A column `veil_rows` selects, clamped to its bounds when it has them.
    typealias ValueColumn = (name: String, bounds: ClosedRange<Double>?)

    /// The columns the main statement aggregates (those of its scalar quantities), in first-use order. A column
    /// that is only counted is clamped too when it declares bounds (clamping never makes a value `NULL`).
    var aggregatedColumns: [ValueColumn] {
        var columns: [ValueColumn] = []
        for q in quantities where q.dimension == 1 {
            let column: ValueColumn
            switch q.kind {
            case .nonNullCount(let c): column = (c, table.column(named: c)?.bounds)
            case .sum(let c), .centeredSum(let c, _), .centeredSumOfSquares(let c, _): column = (c.name, c.bounds)
            default: continue
            }
            if !columns.contains(where: { $0.name == column.name }) { columns.append(column) }
        }
        return columns
    }

    /// The single-pass form of the main statement under user-level privacy: the filtered rows' unit, keys and
    /// aggregated columns (unclamped; ``BoundedAggregator`` clamps them) passed to `veil_bound`. `nil` under
    /// row-level privacy, whose SQL form already aggregates in a single `GROUP BY`.
    func boundedScan() -> BoundedScan? {
        guard case .column(let unit) = table.privacyUnit else { return nil }
        var parameters: [SQLValue] = []
        let columns = aggregatedColumns.map(\.name)
        var arguments = ([unit] + keys.map(\.column) + columns).map(relation.reference)
        if totalRowsBound != nil { arguments.append(relation.rowID(.sqlite)) }
        var sql = "SELECT veil_bound(\(arguments.joined(separator: ", ")))\nFROM \(fromSQL(&parameters))"
        let conditions = filterConditions(&parameters)
        if !conditions.isEmpty { sql += "\nWHERE \(conditions.joined(separator: "\n  AND "))" }
        var combinations: [[SQLValue]]?
        if publicKeys {
            combinations = keys.reduce([[]]) { partial, key in
                partial.flatMap { prefix in key.publicValues!.map { prefix + [$0] } }
            }.sorted { $0.lexicographicallyPrecedes($1) }
        }
        var scan = BoundedScan(sql: sql, parameters: parameters, keyCount: keys.count, columns: columns,
                               maxGroupsPerUnit: needsSampling ? table.maxPartitionsPerUnit : nil,
                               publicKeyCombinations: combinations)
        scan.maxRowsPerUnit = totalRowsBound
        return scan
    }

    /// The sort key of a unit's groups: `RANDOM()`, or `veil_priority(?, ?, unit, keys…)` with the key's two
    /// words appended to `parameters`.
    func priority(_ parameters: inout [SQLValue], unitKeys: String) -> String {
        switch sampling {
        case .random:
            return dialect.random
        case .keyedHash(let key):
            let values = unitKeys.split(separator: ", ").map { alias in (String(alias), kind(ofAlias: String(alias))) }
            return dialect.priority(key: key, values: values, parameters: &parameters)
        }
    }

    /// The kind of the value a `veil_rows` column holds (used by PostgreSQL's keyed hash and key order).
    func kind(ofAlias alias: String) -> PostgresColumnKinds.Kind {
        guard case .postgres(let kinds) = dialect else { return .otherText }
        if alias == "veil_unit", case .column(let unit) = table.privacyUnit { return kinds.kind(of: unit) }
        if alias == "veil_bin" { return .integer }
        if alias == "veil_rowid" { return .text }
        if alias.hasPrefix("veil_k"), let i = Int(alias.dropFirst(6)), keys.indices.contains(i) {
            return kinds.kind(of: keys[i].column)
        }
        return .otherText
    }

    /// The main statement: one row per group with the keys and every quantity except histograms.
    func build() -> (sql: String, parameters: [SQLValue]) {
        var parameters: [SQLValue] = []
        let m = table.maxRowsPerPartition
        let keyAliases = keys.indices.map { "veil_k\($0)" }
        let scalarQuantities = quantities.filter { $0.dimension == 1 }

        let valueColumns = aggregatedColumns
        let valueNames = valueColumns.map(\.name)
        func valueAlias(_ c: String) -> String { "veil_c\(valueNames.firstIndex(of: c)!)" }

        var sql = "WITH " + rowsCTE(columns: valueColumns, histogram: nil, parameters: &parameters)
        var groupColumns: [String] = []
        let grouped = keyAliases.isEmpty ? "" : "\n  GROUP BY \(keyAliases.joined(separator: ", "))"
        let source: String
        if table.privacyUnit == .row {
            for q in scalarQuantities { groupColumns += rowLevelColumns(q, value: valueAlias) }
            source = "veil_rows"
        } else {
            var unitColumns: [String] = []
            for q in scalarQuantities {
                if case .unitCount = q.kind {
                    groupColumns.append("COUNT(*) AS veil_q\(q.index)")
                } else {
                    unitColumns += unitLevelColumns(q, m: m, value: valueAlias)
                    groupColumns.append("\(dialect.exactSum("veil_q\(q.index)")) AS veil_q\(q.index)")
                }
            }
            let unitKeys = (["veil_unit"] + keyAliases).joined(separator: ", ")
            let unitSelect = ([unitKeys] + unitColumns).joined(separator: ",\n    ")
            sql += ",\nveil_units AS (\n  SELECT \(unitSelect)\n  FROM veil_rows\n  GROUP BY \(unitKeys)\n)"
            if needsSampling {
                // A unit with at most k groups keeps them all, whatever their order: its priorities (a SHA-256 each in
                // PostgreSQL) are computed only when it has more. NULL takes the priority's type (an integer, or
                // PostgreSQL's uuid without a key); a unit's rows are either all NULL or all ranked.
                let k = table.maxPartitionsPerUnit
                sql += ",\nveil_kept AS (\n  SELECT * FROM (\n    SELECT *, ROW_NUMBER() OVER (PARTITION BY veil_unit "
                    + "ORDER BY CASE WHEN veil_unit_groups <= \(k) THEN NULL "
                    + "ELSE \(priority(&parameters, unitKeys: unitKeys)) END) AS veil_rank\n"
                    + "    FROM (SELECT *, COUNT(*) OVER (PARTITION BY veil_unit) AS veil_unit_groups FROM veil_units) "
                    + "AS veil_counted\n  )\n  AS veil_ranked\n  WHERE veil_rank <= \(k)\n)"
                source = "veil_kept"
            } else {
                source = "veil_units"
            }
        }
        if groupColumns.isEmpty { groupColumns.append("MIN(0) AS veil_none") }
        let groupSelect = (keyAliases + groupColumns).joined(separator: ",\n    ")
        sql += ",\nveil_groups AS \(publicKeys ? "MATERIALIZED " : "")(\n  SELECT \(groupSelect)\n  FROM \(source)\(grouped)\n)"

        let quantityNames = scalarQuantities.isEmpty ? ["veil_none"] : scalarQuantities.map { "veil_q\($0.index)" }
        if publicKeys {
            for (i, key) in keys.enumerated() {
                let values = key.publicValues!
                sql += ",\nveil_pk\(i)(v) AS (VALUES \(values.map { _ in "(?)" }.joined(separator: ", ")))"
                parameters += values
            }
            let keySelect = keys.indices.map { "veil_pk\($0).v AS veil_k\($0)" }.joined(separator: ", ")
            let keySources = keys.indices.map { "veil_pk\($0)" }.joined(separator: ", ")
            sql += ",\nveil_keys AS (SELECT \(keySelect) FROM \(keySources))"
            let join = keyAliases.map { dialect.same("veil_groups.\($0)", "veil_keys.\($0)") }.joined(separator: " AND ")
            let select = keyAliases.map { "veil_keys.\($0)" } + quantityNames.map { "COALESCE(veil_groups.\($0), 0)" }
            sql += "\nSELECT \(select.joined(separator: ", "))\nFROM veil_keys LEFT JOIN veil_groups ON \(join)"
            sql += "\nORDER BY \(keyAliases.map { dialect.ascending("veil_keys.\($0)", kind: kind(ofAlias: $0)) }.joined(separator: ", "))"
        } else {
            sql += "\nSELECT \((keyAliases + quantityNames).joined(separator: ", "))\nFROM veil_groups"
            if !keyAliases.isEmpty {
                sql += "\nORDER BY \(keyAliases.map { dialect.ascending($0, kind: kind(ofAlias: $0)) }.joined(separator: ", "))"
            }
        }
        return (dialect.finish(sql), parameters)
    }

    /// The statement of one histogram quantity, in long form: one row per (group, bin) with the keys, the bin
    /// index and the bounded count. Each unit keeps min(n, m) of its n rows in a group, drawn uniformly at random
    /// without replacement (`RANDOM()`; under ``PartitionSampling/keyedHash(_:)`` the smallest
    /// `veil_priority(key, unit, keys…, bin)`, uniform over the unit's distinct bins), so its bins total at most m
    /// and every unit with a value counts; and each unit keeps at most k groups, chosen as in the main statement.
    func histogramStatement(_ q: NoisyQuantity) -> (sql: String, parameters: [SQLValue]) {
        guard case .histogram(let column, let bins, let lower, let upper) = q.kind else {
            preconditionFailure("histogramStatement(_:) needs a histogram quantity")
        }
        var parameters: [SQLValue] = []
        let m = table.maxRowsPerPartition
        let keyAliases = keys.indices.map { "veil_k\($0)" }
        var sql = "WITH " + rowsCTE(columns: [(column.name, column.bounds)],
                                      histogram: (column.name, bins, lower, upper), parameters: &parameters)
        let outputKeys = (keyAliases + ["veil_bin"]).joined(separator: ", ")
        if table.privacyUnit == .row {
            sql += "\nSELECT \(outputKeys), COUNT(*)\nFROM veil_rows\nGROUP BY \(outputKeys)"
            return (dialect.finish(sql), parameters)
        }
        let unitKeys = (["veil_unit"] + keyAliases).joined(separator: ", ")
        let rowOrder = priority(&parameters, unitKeys: unitKeys + ", veil_bin")
        sql += ",\nveil_sampled AS (\n  SELECT \(unitKeys), veil_bin,\n    ROW_NUMBER() OVER (PARTITION BY \(unitKeys) "
            + "ORDER BY \(rowOrder)) AS veil_row_rank\n  FROM veil_rows\n)"
        var source = "veil_sampled"
        var keep = "\nWHERE veil_sampled.veil_row_rank <= \(m)"
        if needsSampling {
            let groupOrder = priority(&parameters, unitKeys: unitKeys)
            sql += ",\nveil_chosen AS (\n  SELECT \(unitKeys),\n    ROW_NUMBER() OVER (PARTITION BY veil_unit ORDER BY "
                + "\(groupOrder)) AS veil_rank\n  FROM (SELECT DISTINCT \(unitKeys) FROM veil_rows) AS veil_distinct\n)"
            let join = (["veil_chosen.veil_unit = veil_sampled.veil_unit"]
                        + keyAliases.map { dialect.same("veil_chosen.\($0)", "veil_sampled.\($0)") }).joined(separator: " AND ")
            source += " JOIN veil_chosen ON \(join)"
            keep += " AND veil_chosen.veil_rank <= \(table.maxPartitionsPerUnit)"
        }
        let selectKeys = (keyAliases + ["veil_bin"]).map { "veil_sampled.\($0)" }.joined(separator: ", ")
        sql += "\nSELECT \(selectKeys), COUNT(*)\nFROM \(source)\(keep)\nGROUP BY \(selectKeys)"
        return (dialect.finish(sql), parameters)
    }

    var publicCombinations: Int { keys.reduce(1) { $0 * ($1.publicValues?.count ?? 1) } }

    /// `ROUND(x / g)` as an integer.
    func grid(_ expression: String, _ q: NoisyQuantity) -> String {
        q.granularity == 1 ? dialect.roundedInteger(expression)
            : dialect.roundedInteger("(\(expression)) * \(Self.number(1 / q.granularity, forceReal: true))")
    }

    /// Per-(unit, group) contributions of one quantity (in `veil_units`), named `veil_q<i>[_<bin>]`.
    func unitLevelColumns(_ q: NoisyQuantity, m: Int, value: (String) -> String) -> [String] {
        let name = "veil_q\(q.index)"
        switch q.kind {
        case .rowCount:
            return ["\(dialect.least("COUNT(*)", "\(m)")) AS \(name)"]
        case .nonNullCount(let c):
            return ["\(dialect.least("COUNT(\(value(c)))", "\(m)")) AS \(name)"]
        case .unitCount:
            return []
        case .sum(let c):
            let b = c.bounds
            let low = Double(m) * min(b.lowerBound, 0)
            let high = Double(m) * max(b.upperBound, 0)
            return [grid(dialect.clamp(dialect.total(value(c.name)), low: Self.number(low), high: Self.number(high)), q)
                    + " AS \(name)"]
        case .centeredSum(let c, let center):
            let mid = Self.number(center, forceReal: true)
            return [grid("\(dialect.least("COUNT(\(value(c.name)))", "\(m)")) * (COALESCE(AVG(\(value(c.name))), \(mid)) - \(mid))", q)
                    + " AS \(name)"]
        case .centeredSumOfSquares(let c, let center):
            let mid = Self.number(center, forceReal: true)
            let v = value(c.name)
            return [grid("\(dialect.least("COUNT(\(v))", "\(m)")) * COALESCE(AVG((\(v) - \(mid)) * (\(v) - \(mid))), 0.0)", q) + " AS \(name)"]
        case .histogram:
            return []   // computed by its own statement (histogramStatement)
        }
    }

    /// Per-group aggregates of one quantity under row-level privacy (each row is its own unit).
    func rowLevelColumns(_ q: NoisyQuantity, value: (String) -> String) -> [String] {
        let name = "veil_q\(q.index)"
        switch q.kind {
        case .rowCount, .unitCount:
            return ["COUNT(*) AS \(name)"]
        case .nonNullCount(let c):
            return ["COUNT(\(value(c))) AS \(name)"]
        case .sum(let c):
            return ["\(dialect.exactSum(grid(value(c.name), q))) AS \(name)"]
        case .centeredSum(let c, let center):
            return ["\(dialect.exactSum(grid("\(value(c.name)) - \(Self.number(center, forceReal: true))", q))) AS \(name)"]
        case .centeredSumOfSquares(let c, let center):
            let mid = Self.number(center, forceReal: true)
            return ["\(dialect.exactSum(grid("(\(value(c.name)) - \(mid)) * (\(value(c.name)) - \(mid))", q))) AS \(name)"]
        case .histogram:
            return []   // computed by its own statement (histogramStatement)
        }
    }
}
