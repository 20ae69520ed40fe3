import _TestSupport
import Foundation
import Testing

/// Runs `veil import csv` and checks the table it writes and its errors.
@Suite("veil import csv")
struct ImportCommandTests {
    func temporary(_ name: String) -> URL {
        let file = URL(fileURLWithPath: name)
        return TemporaryDirectory.file("cli-\(file.deletingPathExtension().lastPathComponent)", extension: file.pathExtension)
    }

    @Test("imports with metadata and renames, then reports the columns")
    func importWithMetadata() throws {
        let csv = temporary("panel.csv")
        let yaml = temporary("privacy.yaml")
        let db = temporary("panel.sqlite")
        defer { for url in [csv, yaml, db] { try? FileManager.default.removeItem(at: url) } }
        try "\"\",id,docvis,year\n\"1\",1,3,1984\n\"2\",1,NA,1985\n".write(to: csv, atomically: true, encoding: .utf8)
        try PrivacyMetadataFixture(
            table: "visits", unit: "person_id", maxPartitionsPerUnit: 5,
            columns: [("person_id", "{type: integer}"), ("doctor_visits", "{type: integer, lower: 0, upper: 30}"),
                      ("year", "{type: integer}")]).yaml.write(to: yaml, atomically: true, encoding: .utf8)
        let run = try runVeil(["import", "csv", csv.path, "--db", db.path, "--table", "visits", "--metadata", yaml.path,
                               "--rename", "id=person_id", "--rename", "docvis=doctor_visits", "--null", "NA"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "imported 2 rows into visits in \(db.path): person_id integer, doctor_visits integer, year integer\n"
                + "ignored CSV columns: ''\n")
    }

    @Test("a malformed row: one line on stderr with the line number, exit code 2")
    func malformed() throws {
        let csv = temporary("bad.csv")
        let db = temporary("bad.sqlite")
        defer { for url in [csv, db] { try? FileManager.default.removeItem(at: url) } }
        try "a,b\n1,2\n3\n".write(to: csv, atomically: true, encoding: .utf8)
        let run = try runVeil(["import", "csv", csv.path, "--db", db.path, "--table", "t"])
        #expect(run.status == 2)
        #expect(run.stderr == "error: \(csv.lastPathComponent):3: 1 fields, but the header has 2\n")
    }

    @Test("bad metadata: the error names the file, line, table and column")
    func badMetadata() throws {
        let csv = temporary("x.csv")
        let yaml = temporary("bad.yaml")
        let db = temporary("x.sqlite")
        defer { for url in [csv, yaml, db] { try? FileManager.default.removeItem(at: url) } }
        try "x\n1\n".write(to: csv, atomically: true, encoding: .utf8)
        try "scope: s\ntables:\n  t:\n    row_privacy: true\n    columns:\n      x: {type: real, lower: 5, upper: 1}\n"
            .write(to: yaml, atomically: true, encoding: .utf8)
        let run = try runVeil(["import", "csv", csv.path, "--db", db.path, "--table", "t", "--metadata", yaml.path])
        #expect(run.status == 2)
        #expect(run.stderr == "error: \(yaml.path):6: table t, column x: lower (5) is greater than upper (1)\n")
    }
}
