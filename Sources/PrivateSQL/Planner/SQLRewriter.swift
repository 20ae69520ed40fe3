/// Writes the SQL that computes a plan's true per-group quantities with contribution bounding pushed down
/// to the database.
///
/// User-level privacy (a `privacy_unit` column), in four steps of one statement:
/// 1. `veil_rows`: the `WHERE` filter (rows without a unit, and rows whose key is not a declared public
///    value, are dropped), the unit, the keys and each aggregated column clamped to its bounds.
/// 2. `veil_units`: `GROUP BY unit, keys`: one row per (unit, group) with the unit's bounded contribution to
///    each quantity (see ``NoisyQuantity``): counts capped at m rows, sums clamped, means scaled to at most
///    m rows, all rounded to the quantity's grid.
/// 3. `veil_kept`: each unit keeps at most k of its groups, those with the smallest keyed hash
///    `veil_priority(key, unit, keys…)` (SipHash-2-4 under a per-query secret key). The choice for a unit
///    depends only on that unit's own groups, so adding or removing a unit changes no other unit's choice,
///    which is all the sensitivity bound needs; the hash makes the choice uniform and unpredictable without
///    the key. The step is skipped when a unit cannot touch more than k groups (no `GROUP BY`, or fewer
///    public key combinations than k).
/// 4. `veil_groups`: `GROUP BY keys`, summing contributions; with public keys the declared key combinations
///    are left-joined so that empty groups appear with zeros.
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
    let whereSQL: String?
    let whereParameters: [SQLValue]
    let effectivePartitions: Int
    let publicKeys: Bool
    let samplingKey: PartitionSamplingKey

    /// `name` as a double-quoted SQL identifier.
    static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A number as an SQL literal: integers without a fraction, reals in round-trip form.
    static func number(_ value: Double, forceReal: Bool = false) -> String {
        if !forceReal, value == value.rounded(), abs(value) < 1e15 { return "(\(Int64(value)))" }
        var text = String(value)
        if !text.contains(".") && !text.contains("e") { text += ".0" }
        return "(\(text))"
    }

    func build() -> (sql: String, parameters: [SQLValue]) {
        var parameters: [SQLValue] = []
        let m = table.maxRowsPerPartition
        let keyAliases = keys.indices.map { "veil_k\($0)" }

        // Columns read by quantities: one clamped value (and bin index for histograms) per column.
        var valueColumns: [String] = []
        var histogramColumns: [String: (bins: Int, lower: Double, upper: Double)] = [:]
        for q in quantities {
            switch q.kind {
            case .nonNullCount(let c), .sum(let c), .centeredSum(let c, _), .centeredSumOfSquares(let c, _):
                if !valueColumns.contains(c) { valueColumns.append(c) }
            case .histogram(let c, let bins, let lower, let upper):
                if !valueColumns.contains(c) { valueColumns.append(c) }
                histogramColumns[c] = (bins, lower, upper)
            case .rowCount, .unitCount: break
            }
        }
        func valueAlias(_ c: String) -> String { "veil_c\(valueColumns.firstIndex(of: c)!)" }
        func binAlias(_ c: String) -> String { "veil_b\(valueColumns.firstIndex(of: c)!)" }

        // Step 1: rows.
        var rowSelect: [String] = []
        let rowLevel = table.privacyUnit == .row
        if case .column(let unit) = table.privacyUnit { rowSelect.append("\(Self.quote(unit)) AS veil_unit") }
        for (i, key) in keys.enumerated() { rowSelect.append("\(Self.quote(key.column)) AS \(keyAliases[i])") }
        for c in valueColumns {
            let column = table.column(named: c)!
            let quoted = Self.quote(column.name)
            var clamped = quoted
            if let b = column.bounds {
                clamped = "MAX(\(Self.number(b.lowerBound)), MIN(\(Self.number(b.upperBound)), \(quoted)))"
            }
            rowSelect.append("\(clamped) AS \(valueAlias(c))")
            if let h = histogramColumns[c] {
                let width = h.upper - h.lower
                let perUnit = width > 0 ? Double(h.bins) / width : 0
                rowSelect.append("CAST(MIN(\(h.bins - 1), MAX(0, (\(clamped) - \(Self.number(h.lower))) * "
                                 + "\(Self.number(perUnit, forceReal: true)))) AS INTEGER) AS \(binAlias(c))")
            }
        }
        if rowSelect.isEmpty { rowSelect.append("1 AS veil_row") }
        var conditions: [String] = []
        if let whereSQL {
            conditions.append(whereSQL)
            parameters += whereParameters
        }
        if case .column(let unit) = table.privacyUnit { conditions.append("\(Self.quote(unit)) IS NOT NULL") }
        for key in keys {
            if let values = key.publicValues {
                conditions.append("\(Self.quote(key.column)) IN (\(values.map { _ in "?" }.joined(separator: ", ")))")
                parameters += values
            }
        }
        var sql = "WITH veil_rows AS (\n  SELECT \(rowSelect.joined(separator: ", "))\n  FROM \(Self.quote(table.name))"
        if !conditions.isEmpty { sql += "\n  WHERE \(conditions.joined(separator: "\n    AND "))" }
        sql += "\n)"

        // Quantity columns.
        var groupColumns: [String] = []
        let grouped = keyAliases.isEmpty ? "" : "\n  GROUP BY \(keyAliases.joined(separator: ", "))"
        let source: String
        if rowLevel {
            for q in quantities {
                groupColumns += rowLevelColumns(q, value: { valueAlias($0) }, bin: { binAlias($0) })
            }
            source = "veil_rows"
        } else {
            var unitColumns: [String] = []
            for q in quantities {
                let columns = unitLevelColumns(q, m: m, value: { valueAlias($0) }, bin: { binAlias($0) })
                unitColumns += columns
                if case .unitCount = q.kind {
                    groupColumns.append("COUNT(*) AS veil_q\(q.index)")
                } else {
                    for (j, _) in columns.enumerated() {
                        let name = q.dimension == 1 ? "veil_q\(q.index)" : "veil_q\(q.index)_\(j)"
                        groupColumns.append("COALESCE(SUM(\(name)), 0) AS \(name)")
                    }
                }
            }
            let unitKeys = (["veil_unit"] + keyAliases).joined(separator: ", ")
            let unitSelect = ([unitKeys] + unitColumns).joined(separator: ",\n    ")
            sql += ",\nveil_units AS (\n  SELECT \(unitSelect)\n  FROM veil_rows\n  GROUP BY \(unitKeys)\n)"
            let needsSampling = !keys.isEmpty && !(publicKeys && publicCombinations <= table.maxPartitionsPerUnit)
            if needsSampling {
                sql += ",\nveil_kept AS (\n  SELECT * FROM (\n    SELECT *, ROW_NUMBER() OVER (PARTITION BY veil_unit "
                    + "ORDER BY veil_priority(?, ?, \(unitKeys))) AS veil_rank\n    FROM veil_units\n  )\n"
                    + "  WHERE veil_rank <= \(table.maxPartitionsPerUnit)\n)"
                parameters.append(.integer(Int64(bitPattern: samplingKey.k0)))
                parameters.append(.integer(Int64(bitPattern: samplingKey.k1)))
                source = "veil_kept"
            } else {
                source = "veil_units"
            }
        }
        let groupSelect = (keyAliases + groupColumns).joined(separator: ",\n    ")
        sql += ",\nveil_groups AS (\n  SELECT \(groupSelect)\n  FROM \(source)\(grouped)\n)"

        // Final rows.
        let quantityNames = quantities.flatMap { q in
            q.dimension == 1 ? ["veil_q\(q.index)"] : (0..<q.dimension).map { "veil_q\(q.index)_\($0)" }
        }
        if publicKeys {
            for (i, key) in keys.enumerated() {
                let values = key.publicValues!
                sql += ",\nveil_pk\(i)(v) AS (VALUES \(values.map { _ in "(?)" }.joined(separator: ", ")))"
                parameters += values
            }
            let keySelect = keys.indices.map { "veil_pk\($0).v AS veil_k\($0)" }.joined(separator: ", ")
            let keySources = keys.indices.map { "veil_pk\($0)" }.joined(separator: ", ")
            sql += ",\nveil_keys AS (SELECT \(keySelect) FROM \(keySources))"
            let join = keyAliases.map { "veil_groups.\($0) IS veil_keys.\($0)" }.joined(separator: " AND ")
            let select = keyAliases.map { "veil_keys.\($0)" } + quantityNames.map { "COALESCE(veil_groups.\($0), 0)" }
            sql += "\nSELECT \(select.joined(separator: ", "))\nFROM veil_keys LEFT JOIN veil_groups ON \(join)"
            sql += "\nORDER BY \(keyAliases.map { "veil_keys.\($0)" }.joined(separator: ", "))"
        } else {
            sql += "\nSELECT \((keyAliases + quantityNames).joined(separator: ", "))\nFROM veil_groups"
            if !keyAliases.isEmpty { sql += "\nORDER BY \(keyAliases.joined(separator: ", "))" }
        }
        return (sql, parameters)
    }

    var publicCombinations: Int { keys.reduce(1) { $0 * ($1.publicValues?.count ?? 1) } }

    /// `ROUND(x / g)` as an integer.
    func grid(_ expression: String, _ q: NoisyQuantity) -> String {
        q.granularity == 1 ? "CAST(ROUND(\(expression)) AS INTEGER)"
            : "CAST(ROUND((\(expression)) * \(Self.number(1 / q.granularity, forceReal: true))) AS INTEGER)"
    }

    /// Per-(unit, group) contributions of one quantity (in `veil_units`), named `veil_q<i>[_<bin>]`.
    func unitLevelColumns(_ q: NoisyQuantity, m: Int, value: (String) -> String, bin: (String) -> String) -> [String] {
        let name = "veil_q\(q.index)"
        switch q.kind {
        case .rowCount:
            return ["MIN(COUNT(*), \(m)) AS \(name)"]
        case .nonNullCount(let c):
            return ["MIN(COUNT(\(value(c))), \(m)) AS \(name)"]
        case .unitCount:
            return []
        case .sum(let c):
            let b = table.column(named: c)!.bounds!
            let low = Double(m) * min(b.lowerBound, 0)
            let high = Double(m) * max(b.upperBound, 0)
            return [grid("MAX(\(Self.number(low)), MIN(\(Self.number(high)), TOTAL(\(value(c)))))", q) + " AS \(name)"]
        case .centeredSum(let c, let center):
            let mid = Self.number(center, forceReal: true)
            return [grid("MIN(COUNT(\(value(c))), \(m)) * (COALESCE(AVG(\(value(c))), \(mid)) - \(mid))", q) + " AS \(name)"]
        case .centeredSumOfSquares(let c, let center):
            let mid = Self.number(center, forceReal: true)
            let v = value(c)
            return [grid("MIN(COUNT(\(v)), \(m)) * COALESCE(AVG((\(v) - \(mid)) * (\(v) - \(mid))), 0.0)", q) + " AS \(name)"]
        case .histogram(let c, let bins, _, _):
            let v = value(c)
            return (0..<bins).map { j in
                "COALESCE(SUM(\(bin(c)) = \(j)), 0) * MIN(COUNT(\(v)), \(m)) / MAX(COUNT(\(v)), 1) AS \(name)_\(j)"
            }
        }
    }

    /// Per-group aggregates of one quantity under row-level privacy (each row is its own unit).
    func rowLevelColumns(_ q: NoisyQuantity, value: (String) -> String, bin: (String) -> String) -> [String] {
        let name = "veil_q\(q.index)"
        switch q.kind {
        case .rowCount, .unitCount:
            return ["COUNT(*) AS \(name)"]
        case .nonNullCount(let c):
            return ["COUNT(\(value(c))) AS \(name)"]
        case .sum(let c):
            return ["COALESCE(SUM(\(grid(value(c), q))), 0) AS \(name)"]
        case .centeredSum(let c, let center):
            return ["COALESCE(SUM(\(grid("\(value(c)) - \(Self.number(center, forceReal: true))", q))), 0) AS \(name)"]
        case .centeredSumOfSquares(let c, let center):
            let mid = Self.number(center, forceReal: true)
            return ["COALESCE(SUM(\(grid("(\(value(c)) - \(mid)) * (\(value(c)) - \(mid))", q))), 0) AS \(name)"]
        case .histogram(let c, let bins, _, _):
            return (0..<bins).map { j in "COALESCE(SUM(\(bin(c)) = \(j)), 0) AS \(name)_\(j)" }
        }
    }
}
