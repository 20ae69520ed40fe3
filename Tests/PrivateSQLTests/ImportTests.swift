import _TestSupport
import Accounting
import Foundation
import GRDB
import Mechanisms
import Testing
@testable import PrivateSQL

@Suite("CSV import")
struct ImportTests {
    func write(_ text: String) throws -> URL {
        let url = TemporaryDirectory.file("import", extension: "csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("types are inferred; quoted fields with commas, quotes and newlines survive")
    func inferred() throws {
        let db = try TemporaryDatabase()
        let csv = try write("id,score,name\n1,2.5,\"Smith, \"\"J\"\"\"\n2,3,\"two\nlines\"\n3,,x\n")
        let summary = try CSVImporter.importCSV(at: csv, into: db.url.path, options: CSVImportOptions(table: "t"))
        #expect(summary.rows == 3)
        #expect(summary.columns.map(\.type) == [.integer, .real, .text])
        let rows = try db.queue.read { try Row.fetchAll($0, sql: "SELECT id, score, name FROM t ORDER BY id") }
        #expect(rows[0]["name"] == "Smith, \"J\"")
        #expect(rows[1]["name"] == "two\nlines")
        #expect((rows[2]["score"] as DatabaseValue).isNull)
    }

    @Test("with metadata: declared columns and types, renames, others ignored")
    func withMetadata() throws {
        let db = try TemporaryDatabase()
        let csv = try write("\"\",id,docvis,hhninc,year,female,extra\n\"1\",1,3,2.5,1984,1,z\n\"2\",1,0,NA,1985,0,z\n")
        var fixture = PrivacyMetadataFixture.visits(scope: "s", year: "{type: integer}")
        fixture.columns.removeLast(2)   // no region, no age: the CSV's extra column is ignored
        let yaml = fixture.yaml
        let table = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml").tables[0]
        let summary = try CSVImporter.importCSV(
            at: csv, into: db.url.path,
            options: CSVImportOptions(table: "visits", metadata: table,
                                      renames: ["id": "person_id", "docvis": "doctor_visits", "hhninc": "income"],
                                      skippedColumns: [""], nullTokens: ["NA"]))
        #expect(summary.columns.map(\.name) == ["person_id", "year", "doctor_visits", "income", "female"])
        #expect(summary.ignoredColumns == ["", "extra"])
        let incomes = try db.queue.read { try Double?.fetchAll($0, sql: "SELECT income FROM visits ORDER BY year") }
        #expect(incomes == [2.5, nil])
    }

    @Test("a malformed row is reported with its line and nothing is written", arguments: [
        ("a,b\n1,2\n3\n", "line.csv:3: 1 fields, but the header has 2"),
        ("a,b\n1,2\n3,\"x\n", "line.csv:3: a quoted field is not closed"),
        ("a,b\n1,2\n3,4x\"\n", "line.csv:3: a quote inside an unquoted field"),
    ])
    func malformed(text: String, message: String) throws {
        let db = try TemporaryDatabase()
        try db.queue.write { try $0.execute(sql: "CREATE TABLE keep (x)") }
        let csv = try write(text)
        // A folder of its own per case: the cases run in parallel and the file name must be line.csv.
        let folder = csv.deletingPathExtension()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let named = folder.appendingPathComponent("line.csv")
        try FileManager.default.moveItem(at: csv, to: named)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try CSVImporter.importCSV(at: named, into: db.url.path, options: CSVImportOptions(table: "t"))
            Issue.record("expected an error")
        } catch let error as VeilError {
            #expect(error.message.contains(message), "\(error.message)")
        }
        let tables = try db.queue.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master") }
        #expect(tables == ["keep"])
    }

    @Test("a value of the wrong declared type fails the whole import, leaving the old table")
    func wrongType() throws {
        let db = try TemporaryDatabase()
        try db.queue.write { db in
            try db.execute(sql: "CREATE TABLE t (x INTEGER)")
            try db.execute(sql: "INSERT INTO t VALUES (42)")
        }
        let table = try PrivacyMetadata.parse(yaml: "scope: s\ntables:\n  t:\n    row_privacy: true\n    columns: {x: {type: integer}}",
                                              source: "m.yaml").tables[0]
        let csv = try write("x\n1\n2\nthree\n")
        #expect(throws: VeilError.self) {
            _ = try CSVImporter.importCSV(at: csv, into: db.url.path,
                                          options: CSVImportOptions(table: "t", metadata: table, replaceExisting: true))
        }
        do {
            _ = try CSVImporter.importCSV(at: csv, into: db.url.path,
                                          options: CSVImportOptions(table: "t", metadata: table, replaceExisting: true))
        } catch let error as VeilError {
            #expect(error.message.hasSuffix(".csv:4: column x: the value is not an integer"))
            #expect(!error.message.contains("three"))
        }
        let values = try db.queue.read { try Int.fetchAll($0, sql: "SELECT x FROM t") }
        #expect(values == [42])
        let csvOK = try write("x\n1\n2\n")
        #expect(throws: VeilError.self) {
            _ = try CSVImporter.importCSV(at: csvOK, into: db.url.path, options: CSVImportOptions(table: "t", metadata: table))
        }
        _ = try CSVImporter.importCSV(at: csvOK, into: db.url.path,
                                      options: CSVImportOptions(table: "t", metadata: table, replaceExisting: true))
        #expect(try db.queue.read { try Int.fetchAll($0, sql: "SELECT x FROM t") } == [1, 2])
    }
}

@Suite("Shipped health panel")
struct HealthPanelTests {
    static let datasets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("datasets")

    @Test("the shipped metadata plans every aggregate, and bounded counts by year equal the plain counts")
    func panel() throws {
        let metadata = try PrivacyMetadata.load(contentsOf: Self.datasets.appendingPathComponent("health_panel.privacy.yaml"))
        let backend = try SQLiteBackend(path: Self.datasets.appendingPathComponent("health_panel.sqlite").path)
        let planner = QueryPlanner(metadata: metadata)
        let plan = try planner.plan("""
            SELECT year, COUNT(*) AS n, AVG(income) AS income, STDDEV(age), MEDIAN(doctor_visits),
                   COUNT(DISTINCT person_id) FROM visits WHERE age BETWEEN 30 AND 60 GROUP BY year ORDER BY year
            """, budget: try PrivacyParameters(epsilon: 1))
        let groups = try backend.run(plan)
        #expect(groups.count == 5)
        // One row per person-year and at most five years: bounding changes nothing for COUNT(*) by year.
        let raw = try DatabaseQueue(path: Self.datasets.appendingPathComponent("health_panel.sqlite").path,
                                    configuration: { var c = Configuration(); c.readonly = true; return c }())
        let plain = try raw.read { db in
            try Row.fetchAll(db, sql: "SELECT year, COUNT(*) FROM visits WHERE age BETWEEN 30 AND 60 GROUP BY year ORDER BY year")
        }
        let rowCount = plan.quantities.first { $0.kind == .rowCount }!.index
        let units = plan.quantities.first { $0.kind == .unitCount }!.index
        for (group, row) in zip(groups, plain) {
            #expect(group.key == [.integer(row[0])])
            #expect(group.values[rowCount] == [row[1]])
            #expect(group.values[units] == [row[1]])
        }
        let total = groups.reduce(Int64(0)) { $0 + $1.values[rowCount][0] }
        #expect(total > 10_000 && total < 19_609)
    }
}
