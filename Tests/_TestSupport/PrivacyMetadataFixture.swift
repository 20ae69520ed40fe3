/// Privacy metadata (the YAML `veil query` and `veil import` read) for one table, built from its parts so that a
/// test states only what it varies. `yaml` lays it out as the documentation does: scope, table, unit, bounds,
/// then one line per column in the given order (error messages with line numbers depend on that layout).
public struct PrivacyMetadataFixture: Sendable {
    public var scope: String
    public var table: String
    public var unit: String
    public var maxPartitionsPerUnit: Int?
    public var maxRowsPerPartition: Int?
    public var maxRowsPerUnit: Int?
    /// Column names with their flow-style specification, e.g. `("x", "{type: integer, lower: 0, upper: 10}")`.
    public var columns: [(name: String, specification: String)]

    public init(scope: String = "s", table: String = "t", unit: String = "uid",
                maxPartitionsPerUnit: Int? = 1, maxRowsPerPartition: Int? = 1, maxRowsPerUnit: Int? = nil,
                columns: [(name: String, specification: String)]) {
        self.scope = scope
        self.table = table
        self.unit = unit
        self.maxPartitionsPerUnit = maxPartitionsPerUnit
        self.maxRowsPerPartition = maxRowsPerPartition
        self.maxRowsPerUnit = maxRowsPerUnit
        self.columns = columns
    }

    /// The health panel's `visits` table as the SQL tests build it (`makeVisits`), with the shipped bounds.
    public static func visits(scope: String = "health_panel", maxPartitionsPerUnit: Int? = 5,
                              maxRowsPerPartition: Int? = 1, maxRowsPerUnit: Int? = nil,
                              year: String = "{type: integer, public_values: [1984, 1985, 1986, 1987, 1988]}",
                              doctorVisits: String = "{type: integer, lower: 0, upper: 30}") -> PrivacyMetadataFixture {
        PrivacyMetadataFixture(
            scope: scope, table: "visits", unit: "person_id", maxPartitionsPerUnit: maxPartitionsPerUnit,
            maxRowsPerPartition: maxRowsPerPartition, maxRowsPerUnit: maxRowsPerUnit,
            columns: [("person_id", "{type: integer}"), ("year", year), ("doctor_visits", doctorVisits),
                      ("income", "{type: real, lower: 0, upper: 15}"), ("female", "{type: boolean}"),
                      ("region", "{type: text}"), ("age", "{type: integer}")])
    }

    /// The metadata as YAML text.
    public var yaml: String {
        var lines = ["scope: \(scope)", "tables:", "  \(table):", "    privacy_unit: \(unit)"]
        if let maxPartitionsPerUnit { lines.append("    max_partitions_per_unit: \(maxPartitionsPerUnit)") }
        if let maxRowsPerPartition { lines.append("    max_rows_per_partition: \(maxRowsPerPartition)") }
        if let maxRowsPerUnit { lines.append("    max_rows_per_unit: \(maxRowsPerUnit)") }
        lines.append("    columns:")
        for column in columns { lines.append("      \(column.name): \(column.specification)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
