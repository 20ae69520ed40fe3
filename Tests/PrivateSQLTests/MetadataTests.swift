import Mechanisms
import Testing
@testable import PrivateSQL

@Suite("Privacy metadata")
struct MetadataTests {
    @Test("the contract example loads with its units, bounds and public values")
    func contract() throws {
        let metadata = try healthMetadata()
        #expect(metadata.scope == "health_panel")
        let visits = try #require(metadata.table(named: "VISITS"))
        #expect(visits.privacyUnit == .column("person_id"))
        #expect(visits.maxPartitionsPerUnit == 5)
        #expect(visits.maxRowsPerPartition == 1)
        #expect(visits.column(named: "income")?.bounds == 0...15)
        #expect(visits.column(named: "female")?.bounds == 0...1)
        #expect(visits.column(named: "year")?.publicValues?.count == 5)
        #expect(visits.column(named: "region")?.bounds == nil)
    }

    @Test("row privacy needs no unit bounds")
    func rowPrivacy() throws {
        let metadata = try PrivacyMetadata.parse(yaml: """
            scope: s
            tables:
              t:
                row_privacy: true
                columns: {x: {type: real, lower: -1, upper: 1}}
            """, source: "m.yaml")
        #expect(metadata.tables[0].privacyUnit == .row)
        #expect(metadata.tables[0].maxPartitionsPerUnit == 1)
    }

    static let base = """
        scope: s
        tables:
          visits:
            privacy_unit: person_id
            max_partitions_per_unit: 2
            max_rows_per_partition: 1
            columns:
              person_id: {type: integer}

        """

    @Test("errors name the file, line, table, column and problem", arguments: [
        (base + "      income: {type: real, lower: 20, upper: 15}",
         "privacy.yaml:9: table visits, column income: lower (20) is greater than upper (15)"),
        (base + "      income: {type: real, lowr: 0, upper: 15}",
         "privacy.yaml:9: table visits, column income: unknown key 'lowr' (allowed: type, lower, upper, public_values)"),
        (base + "      income: {type: money}",
         "privacy.yaml:9: table visits, column income: unknown type 'money' (allowed: integer, real, text, boolean)"),
        (base + "      income: {type: real, upper: 15}",
         "privacy.yaml:9: table visits, column income: declare both `lower:` and `upper:` (only upper is given)"),
        (base + "      name: {type: text, lower: 0, upper: 1}",
         "table visits, column name: lower/upper apply to integer and real columns only; this column is text"),
        (base + "      year: {type: integer, public_values: [1984, x]}",
         "table visits, column year: public value 'x' is not of the column's type integer"),
        (base + "      year: {type: integer, public_values: [1984, 1984]}",
         "table visits, column year: public value 1984 is listed twice"),
        (base + "      income: {type: real, lower: 0, upper: .inf}",
         "table visits, column income: upper must be a finite number"),
        ("scope: s\ntables:\n  visits:\n    privacy_unit: pid\n    max_partitions_per_unit: 1\n    max_rows_per_partition: 1\n    columns: {person_id: {type: integer}}",
         "privacy.yaml:4: table visits: privacy_unit 'pid' is not a declared column (declared: person_id)"),
        ("scope: s\ntables:\n  visits:\n    privacy_unit: person_id\n    max_rows_per_partition: 1\n    columns: {person_id: {type: integer}}",
         "table visits: missing `max_partitions_per_unit:`"),
        ("scope: s\ntables:\n  visits:\n    privacy_unit: person_id\n    max_partitions_per_unit: 0\n    max_rows_per_partition: 1\n    columns: {person_id: {type: integer}}",
         "privacy.yaml:5: table visits: max_partitions_per_unit must be an integer in 1…1000000000, got '0'"),
        ("scope: s\ntables:\n  visits:\n    columns: {person_id: {type: integer}}",
         "table visits: missing privacy unit"),
        ("scope: s\ntables:\n  visits:\n    row_privacy: true\n    privacy_unit: person_id\n    columns: {person_id: {type: integer}}",
         "declare either privacy_unit or row_privacy: true, not both"),
        ("scope: s\nbudget: 3\ntables: {}", "privacy.yaml:2: unknown key 'budget' (allowed: scope, tables)"),
        ("tables:\n  t: {row_privacy: true, columns: {x: {type: real}}}", "missing `scope:`"),
        ("scope: [", "privacy.yaml: not valid YAML"),
    ])
    func errors(yaml: String, message: String) {
        do {
            _ = try PrivacyMetadata.parse(yaml: yaml, source: "privacy.yaml")
            Issue.record("expected an error containing \(message)")
        } catch let error as VeilError {
            #expect(error.code == .invalidMetadata)
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
