/// The privacy description of a database: for each table, who the privacy unit is, how much one unit
/// may contribute, and each column's type and bounds. Loaded from `privacy.yaml` by
/// ``PrivacyMetadata/load(contentsOf:)`` or ``PrivacyMetadata/parse(yaml:source:)``.
///
/// Sensitivities of queries follow from these declarations only, never from the data
/// (docs/design.md §2 rule 6).
public struct PrivacyMetadata: Hashable, Sendable {
    /// The ledger budget that queries on these tables are charged to.
    public let scope: String
    /// The tables, in file order.
    public let tables: [TableMetadata]
    /// Where the metadata came from (a file path, or a label), used in error messages.
    public let source: String

    /// Creates metadata from already validated parts. Prefer ``parse(yaml:source:)``, which validates.
    public init(scope: String, tables: [TableMetadata], source: String) {
        self.scope = scope
        self.tables = tables
        self.source = source
    }

    /// The table named `name` (ASCII case-insensitive, as SQLite compares identifiers).
    public func table(named name: String) -> TableMetadata? {
        tables.first { $0.name.caseInsensitiveEquals(name) }
    }
}

/// How a table's rows relate to the people (or other entities) the privacy guarantee protects.
public enum PrivacyUnit: Hashable, Sendable {
    /// Each value of this column is one unit; a unit may own many rows.
    case column(String)
    /// Each row is its own unit (`row_privacy: true`).
    case row
}

/// The privacy metadata of one table.
public struct TableMetadata: Hashable, Sendable {
    /// The table's name as declared.
    public let name: String
    /// The privacy unit.
    public let privacyUnit: PrivacyUnit
    /// How many groups (partitions) one unit may contribute to; more are dropped at random.
    public let maxPartitionsPerUnit: Int
    /// How many rows one unit may contribute to one group.
    public let maxRowsPerPartition: Int
    /// How many rows one unit may contribute in total (`max_rows_per_unit`), chosen uniformly at random among its
    /// rows; `nil` when only k and m bound the unit.
    public let maxRowsPerUnit: Int?
    /// The columns, in file order.
    public let columns: [ColumnMetadata]
    /// Whether the table is public (`public: true`): its contents are known to everyone, it protects no one, and
    /// it may only be joined to a private table (a lookup table of regions, codes, prices). Its privacy unit is
    /// ``PrivacyUnit/row`` and its contribution bounds 1, which no query of it alone uses: such a query is refused.
    public let isPublic: Bool

    /// The most columns a table may have: SQLite's default limit `SQLITE_MAX_COLUMN`.
    public static let maximumColumns = 2000

    /// Creates table metadata. Prefer ``PrivacyMetadata/parse(yaml:source:)``, which validates.
    public init(name: String, privacyUnit: PrivacyUnit, maxPartitionsPerUnit: Int, maxRowsPerPartition: Int,
                maxRowsPerUnit: Int? = nil, columns: [ColumnMetadata], isPublic: Bool = false) {
        self.name = name
        self.privacyUnit = privacyUnit
        self.maxPartitionsPerUnit = maxPartitionsPerUnit
        self.maxRowsPerPartition = maxRowsPerPartition
        self.maxRowsPerUnit = maxRowsPerUnit
        self.columns = columns
        self.isPublic = isPublic
    }

    /// The column named `name` (ASCII case-insensitive, as SQLite compares identifiers).
    public func column(named name: String) -> ColumnMetadata? {
        columns.first { $0.name.caseInsensitiveEquals(name) }
    }

    /// Whether `name` is the privacy-unit column.
    public func isPrivacyUnit(_ name: String) -> Bool {
        if case .column(let unit) = privacyUnit { return unit.caseInsensitiveEquals(name) }
        return false
    }
}

/// The declared type of a column.
public enum ColumnType: String, Hashable, Sendable, CaseIterable, Codable {
    /// Whole numbers.
    case integer
    /// Real numbers.
    case real
    /// Text (can be grouped by and counted, never summed).
    case text
    /// 0/1 values (sums count the ones; bounds are implicitly [0, 1]).
    case boolean

    /// Whether values can be summed and averaged (booleans count as 0/1).
    public var isNumeric: Bool { self != .text }
}

/// The privacy metadata of one column.
public struct ColumnMetadata: Hashable, Sendable {
    /// The column's name as declared.
    public let name: String
    /// Its type.
    public let type: ColumnType
    /// Clamping lower bound; values below are raised to it before aggregation.
    public let lower: Double?
    /// Clamping upper bound; values above are lowered to it before aggregation.
    public let upper: Double?
    /// The values this column may take that are public knowledge (e.g. the years of a survey); when every
    /// grouping column has them, every key is released, even empty ones, and no partition selection is needed.
    public let publicValues: [SQLValue]?

    /// Creates column metadata. Prefer ``PrivacyMetadata/parse(yaml:source:)``, which validates.
    public init(name: String, type: ColumnType, lower: Double? = nil, upper: Double? = nil,
                publicValues: [SQLValue]? = nil) {
        self.name = name
        self.type = type
        self.lower = lower
        self.upper = upper
        self.publicValues = publicValues
    }

    /// The clamping interval, when both bounds are declared; booleans are implicitly `[0, 1]`.
    public var bounds: ClosedRange<Double>? {
        if let lower, let upper { return lower...upper }
        if type == .boolean { return 0...1 }
        return nil
    }
}
