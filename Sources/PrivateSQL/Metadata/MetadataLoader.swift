import Foundation
import CheckedYAML
import Mechanisms
import Yams

// MARK: - Loading and validation

extension PrivacyMetadata {
    /// Reads and validates a `privacy.yaml` file.
    /// - Parameter url: the file.
    /// - Returns: the validated metadata, with ``source`` set to the file's path.
    /// - Throws: ``VeilError`` with code ``VeilError/Code/invalidMetadata`` naming the file, the line, the
    ///   table, the column and what is wrong; ``VeilError/Code/invalidInput`` if the file cannot be read.
    public static func load(contentsOf url: URL) throws -> PrivacyMetadata {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw VeilError(.invalidInput, "cannot read privacy metadata \(url.path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, source: url.path)
    }

    /// Parses and validates privacy metadata from YAML text.
    ///
    /// The format (every key is checked; unknown keys are errors so that a typo cannot silently drop a bound):
    /// ```yaml
    /// scope: health_panel                # ledger budget name
    /// tables:
    ///   visits:
    ///     privacy_unit: person_id        # or `row_privacy: true`
    ///     max_partitions_per_unit: 5     # groups one unit may touch
    ///     max_rows_per_partition: 1      # rows one unit may contribute to one group
    ///     max_rows_per_unit: 5           # optional: rows one unit may contribute in all (alone, or with k and m;
    ///                                    # k and m default to it and are capped by it)
    ///     columns:
    ///       person_id: {type: integer}
    ///       year: {type: integer, public_values: [1984, 1985]}
    ///       income: {type: real, lower: 0, upper: 15}
    /// ```
    /// - Parameters:
    ///   - yaml: the document.
    ///   - source: the file name (or a label) used in error messages.
    /// - Throws: ``VeilError`` with code ``VeilError/Code/invalidMetadata``.
    public static func parse(yaml: String, source: String) throws -> PrivacyMetadata {
        let size = yaml.utf8.count
        guard size <= maximumFileSize else {
            throw VeilError(.invalidMetadata, "\(source): the file is \(size) bytes, more than the limit of "
                            + "\(maximumFileSize); long key lists belong in a keys file (veil query --keys)")
        }
        let root: Node?
        do {
            root = try CheckedYAML.compose(yaml, limits: YAMLLimits(nesting: maximumNesting, expandedNodes: maximumValues))
        } catch let error as YAMLShapeError {
            let place = error.line.map { "\(source):\($0)" } ?? source
            let hint = error.kind == .tooDeep
                ? "; privacy metadata needs about 6 (tables, a table, its columns, a column, its values)" : ""
            throw VeilError(.invalidMetadata, "\(place): \(error.problem)\(hint)")
        } catch {
            throw VeilError(.invalidMetadata, "\(source): not valid YAML: \(String(describing: error).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return try MetadataReader(source: source).read(root)
    }
}

extension PrivacyMetadata {
    /// The largest metadata file read, in bytes (16 MiB).
    public static let maximumFileSize = 16 << 20
    /// The deepest YAML nesting accepted in a metadata file; the format itself needs 6 levels.
    public static let maximumNesting = 32
    /// The most YAML values (names, numbers, lists, mappings) in a metadata file once its aliases are expanded:
    /// 2^23, about what a 16 MiB file of short public values holds.
    public static let maximumValues = 1 << 23
    /// The largest `max_partitions_per_unit` and `max_rows_per_partition` accepted: beyond it the noise of
    /// every count would exceed a billion divided by ε.
    public static let maximumContributionBound = 1_000_000_000
}

/// Walks the YAML node tree and builds validated metadata, with precise error messages.
private struct MetadataReader {
    let source: String

    func fail(_ node: Node?, _ context: String, _ problem: String) -> VeilError {
        var place = source
        if let line = node?.mark?.line { place += ":\(line)" }
        let what = context.isEmpty ? problem : "\(context): \(problem)"
        return VeilError(.invalidMetadata, "\(place): \(what)")
    }

    func mapping(_ node: Node, _ context: String, _ what: String) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard case .mapping(let map) = node else {
            throw fail(node, context, "\(what) must be a mapping of keys to values")
        }
        var seen = Set<String>()
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in map {
            guard case .scalar(let scalar) = keyNode, !scalar.string.isEmpty else {
                throw fail(keyNode, context, "keys of \(what) must be non-empty names")
            }
            try checkName(scalar.string, keyNode, context)
            // SQLite folds ASCII letters only; canonically equivalent spellings are refused as well.
            guard seen.insert(scalar.string.asciiLowercased).inserted else {
                throw fail(keyNode, context, "'\(scalar.string)' appears twice in \(what)")
            }
            pairs.append((scalar.string, keyNode, value))
        }
        return pairs
    }

    func checkKeys(_ pairs: [(key: String, keyNode: Node, value: Node)], allowed: [String], _ context: String) throws {
        for pair in pairs where !allowed.contains(pair.key) {
            throw fail(pair.keyNode, context,
                       "unknown key '\(pair.key)' (allowed: \(allowed.joined(separator: ", ")))")
        }
    }

    func string(_ node: Node, _ context: String, _ key: String) throws -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw fail(node, context, "\(key) must be a non-empty name")
        }
        try checkName(scalar.string, node, context)
        return scalar.string
    }

    /// Refuses a name with a NUL character, at which SQLite would cut the statement that quotes it.
    func checkName(_ name: String, _ node: Node, _ context: String) throws {
        guard !name.utf8.contains(0) else {
            throw fail(node, context, "the name '\(name.replacingOccurrences(of: "\0", with: "\\0"))' contains a NUL "
                       + "character, which SQLite cannot take in a name")
        }
    }

    /// A contribution bound: an integer in 1…``PrivacyMetadata/maximumContributionBound``.
    func contributionBound(_ node: Node, _ context: String, _ key: String) throws -> Int {
        let limit = PrivacyMetadata.maximumContributionBound
        guard case .scalar = node, let value = node.int, value >= 1, value <= limit else {
            throw fail(node, context, "\(key) must be an integer in 1…\(limit), got '\(node.string ?? "a collection")'")
        }
        return value
    }

    func number(_ node: Node, _ context: String, _ key: String) throws -> Double {
        guard case .scalar = node, let value = node.float, value.isFinite else {
            throw fail(node, context, "\(key) must be a finite number, got '\(node.string ?? "a collection")'")
        }
        return value
    }

    func read(_ root: Node?) throws -> PrivacyMetadata {
        guard let root else { throw fail(nil, "", "the file is empty; it needs `scope:` and `tables:`") }
        let top = try mapping(root, "", "the document")
        try checkKeys(top, allowed: ["scope", "tables"], "")
        guard let scopeNode = top.first(where: { $0.key == "scope" })?.value else {
            throw fail(root, "", "missing `scope:` (the name of the ledger budget these tables are charged to)")
        }
        let scope = try string(scopeNode, "", "scope")
        guard let tablesNode = top.first(where: { $0.key == "tables" })?.value else {
            throw fail(root, "", "missing `tables:` (one entry per table with its privacy unit and columns)")
        }
        let tablePairs = try mapping(tablesNode, "", "tables")
        guard !tablePairs.isEmpty else { throw fail(tablesNode, "", "`tables:` declares no table") }
        let tables = try tablePairs.map { try readTable(name: $0.key, node: $0.value) }
        return PrivacyMetadata(scope: scope, tables: tables, source: source)
    }

    func readTable(name: String, node: Node) throws -> TableMetadata {
        let context = "table \(name)"
        let pairs = try mapping(node, context, "the table entry")
        try checkKeys(pairs, allowed: ["privacy_unit", "row_privacy", "public", "max_partitions_per_unit",
                                       "max_rows_per_partition", "max_rows_per_unit", "columns"], context)
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        let isPublic = try value("public").map { node -> Bool in
            guard case .scalar = node, let flag = node.bool else {
                throw fail(node, context, "public must be true or false")
            }
            return flag
        } ?? false
        if isPublic, let other = pairs.first(where: { $0.key != "public" && $0.key != "columns" }) {
            throw fail(other.keyNode, context, "a public table has no privacy unit and no contribution bounds: remove "
                       + "\(other.key) or `public: true`")
        }

        guard let columnsNode = value("columns") else {
            throw fail(node, context, "missing `columns:` (each column's type and bounds)")
        }
        let columnPairs = try mapping(columnsNode, context, "columns")
        guard !columnPairs.isEmpty else { throw fail(columnsNode, context, "`columns:` declares no column") }
        guard columnPairs.count <= TableMetadata.maximumColumns else {
            throw fail(columnsNode, context, "`columns:` declares \(columnPairs.count) columns, more than SQLite's limit "
                       + "of \(TableMetadata.maximumColumns) for a table")
        }
        let columns = try columnPairs.map { try readColumn(table: name, name: $0.key, node: $0.value) }

        if isPublic {
            // A public column aggregated over a join sums over private rows: its bounds clamp it like any other.
            return TableMetadata(name: name, privacyUnit: .row, maxPartitionsPerUnit: 1, maxRowsPerPartition: 1,
                                 columns: columns, isPublic: true)
        }
        let unit: PrivacyUnit
        let rowPrivacy = try value("row_privacy").map { node -> Bool in
            guard case .scalar = node, let flag = node.bool else {
                throw fail(node, context, "row_privacy must be true or false")
            }
            return flag
        } ?? false
        let maxPartitions = try value("max_partitions_per_unit").map { try contributionBound($0, context, "max_partitions_per_unit") }
        let maxRows = try value("max_rows_per_partition").map { try contributionBound($0, context, "max_rows_per_partition") }
        let maxUnitRows = try value("max_rows_per_unit").map { try contributionBound($0, context, "max_rows_per_unit") }

        switch (value("privacy_unit"), rowPrivacy) {
        case (let unitNode?, false):
            let unitName = try string(unitNode, context, "privacy_unit")
            guard let unitColumn = columns.first(where: { $0.name.caseInsensitiveEquals(unitName) }) else {
                throw fail(unitNode, context, "privacy_unit '\(unitName)' is not a declared column (declared: "
                           + columns.map(\.name).joined(separator: ", ") + ")")
            }
            if unitColumn.lower != nil || unitColumn.upper != nil || unitColumn.publicValues != nil {
                throw fail(unitNode, "\(context), column \(unitColumn.name)",
                           "the privacy unit column cannot have bounds or public_values: it is never aggregated or released")
            }
            // `max_rows_per_unit` alone bounds everything: R rows touch at most R groups with at most R rows each.
            guard maxPartitions != nil || maxUnitRows != nil else {
                throw fail(node, context, "missing `max_partitions_per_unit:` (how many groups one \(unitName) may "
                           + "contribute to) or `max_rows_per_unit:` (how many rows in all)")
            }
            guard maxRows != nil || maxUnitRows != nil else {
                throw fail(node, context, "missing `max_rows_per_partition:` (how many rows one \(unitName) may "
                           + "contribute to one group) or `max_rows_per_unit:` (how many rows in all)")
            }
            unit = .column(unitColumn.name)
        case (nil, true):
            if let maxPartitions, maxPartitions != 1 {
                throw fail(value("max_partitions_per_unit"), context,
                           "with row_privacy each row is one unit and touches one group: max_partitions_per_unit must be 1 or absent")
            }
            if let maxRows, maxRows != 1 {
                throw fail(value("max_rows_per_partition"), context,
                           "with row_privacy each row is one unit: max_rows_per_partition must be 1 or absent")
            }
            if let maxUnitRows, maxUnitRows != 1 {
                throw fail(value("max_rows_per_unit"), context,
                           "with row_privacy each row is one unit: max_rows_per_unit must be 1 or absent")
            }
            unit = .row
        case (_?, true):
            throw fail(node, context, "declare either privacy_unit or row_privacy: true, not both")
        case (nil, false):
            throw fail(node, context, "missing privacy unit: add `privacy_unit: <column>` (the person or entity "
                       + "to protect), `row_privacy: true` (each row is independent) or `public: true` (a public lookup table)")
        }
        // Under row privacy a row is its own unit and the total-rows bound is implied (1).
        let totalRows = unit == .row ? nil : maxUnitRows
        return TableMetadata(name: name, privacyUnit: unit,
                             maxPartitionsPerUnit: min(maxPartitions ?? totalRows ?? 1, totalRows ?? .max),
                             maxRowsPerPartition: min(maxRows ?? totalRows ?? 1, totalRows ?? .max),
                             maxRowsPerUnit: totalRows, columns: columns)
    }

    func readColumn(table: String, name: String, node: Node) throws -> ColumnMetadata {
        let context = "table \(table), column \(name)"
        let pairs = try mapping(node, context, "the column entry")
        try checkKeys(pairs, allowed: ["type", "lower", "upper", "public_values"], context)
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }

        guard let typeNode = value("type") else {
            throw fail(node, context, "missing `type:` (integer, real, text or boolean)")
        }
        guard case .scalar(let typeScalar) = typeNode, let type = ColumnType(rawValue: typeScalar.string.asciiLowercased) else {
            throw fail(typeNode, context, "unknown type '\(typeNode.string ?? "")' (allowed: integer, real, text, boolean)")
        }
        let lower = try value("lower").map { try number($0, context, "lower") }
        let upper = try value("upper").map { try number($0, context, "upper") }
        if lower != nil || upper != nil {
            guard type == .integer || type == .real else {
                throw fail(value("lower") ?? value("upper"), context,
                           "lower/upper apply to integer and real columns only; this column is \(type.rawValue)")
            }
            guard let lower, let upper else {
                throw fail(node, context, "declare both `lower:` and `upper:` (only \(lower == nil ? "upper" : "lower") is given)")
            }
            guard lower <= upper else {
                throw fail(value("lower"), context, "lower (\(lower.compactDescription)) is greater than upper (\(upper.compactDescription))")
            }
        }
        var publicValues: [SQLValue]?
        if let valuesNode = value("public_values") {
            guard case .sequence(let sequence) = valuesNode else {
                throw fail(valuesNode, context, "public_values must be a list, e.g. [1984, 1985]")
            }
            guard !sequence.isEmpty else { throw fail(valuesNode, context, "public_values is empty") }
            var values: [SQLValue] = []
            var seen = Set<SQLValue>()
            for item in sequence {
                let v = try publicValue(item, type: type, context: context)
                guard seen.insert(v).inserted else {
                    throw fail(item, context, "public value \(v) is listed twice")
                }
                values.append(v)
            }
            publicValues = values
        }
        return ColumnMetadata(name: name, type: type, lower: lower, upper: upper, publicValues: publicValues)
    }

    func publicValue(_ node: Node, type: ColumnType, context: String) throws -> SQLValue {
        guard case .scalar(let scalar) = node else {
            throw fail(node, context, "public_values must be plain values")
        }
        switch type {
        case .integer:
            if let v = node.int { return .integer(Int64(v)) }
        case .real:
            if let v = node.float, v.isFinite { return .real(v) }
        case .boolean:
            if let v = node.bool { return .integer(v ? 1 : 0) }
            if let v = node.int, v == 0 || v == 1 { return .integer(Int64(v)) }
        case .text:
            return .text(scalar.string)
        }
        throw fail(node, context, "public value '\(scalar.string)' is not of the column's type \(type.rawValue)")
    }
}

extension Double {
    /// `30` rather than `30.0` for whole numbers; the shortest round-tripping form otherwise.
    var compactDescription: String {
        if self == rounded(), abs(self) < 1e15 { return String(Int64(self)) }
        return String(self)
    }
}
