import _TestSupport
import Foundation
import PostgresClient
import Testing

/// `veil import csv` and `veil query` against a PostgreSQL test server, end to end through the binary.
@Suite("veil query and veil import on PostgreSQL")
struct PostgresQueryCommandTests {
    static let metadataYAML = """
        scope: pg_panel
        tables:
          visits:
            privacy_unit: person_id
            max_partitions_per_unit: 5
            max_rows_per_partition: 1
            columns:
              person_id: {type: integer}
              year: {type: integer, public_values: [1984, 1985, 1986]}
              doctor_visits: {type: integer, lower: 0, upper: 30}
              region: {type: text}
        """

    @Test("import with COPY, then a query charged once; a missing table or an unreachable server costs nothing")
    func importAndQuery() throws {
        let url = try PostgresTestServer.freshDatabase()
        let folder = TemporaryDirectory.file("pg-cli", extension: "d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("visits.csv")
        var text = "person_id,year,doctor_visits,region,extra\n"
        for person in 1...40 {
            for year in 1984...1986 { text += "\(person),\(year),\(person % 9),\(person % 2 == 0 ? "north" : "south"),x\n" }
        }
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let metadata = folder.appendingPathComponent("privacy.yaml")
        try Self.metadataYAML.write(to: metadata, atomically: true, encoding: .utf8)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path

        let imported = try runVeil(["import", "csv", csv.path, "--db", url.redacted, "--table", "visits",
                                    "--metadata", metadata.path])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 120 rows into visits in \(url.redacted)"), "\(imported.stdout)")
        #expect(imported.stdout.contains("ignored CSV columns: extra"))

        let created = try runVeil(["budget", "create", "pg_panel", "--epsilon", "2", "--delta", "1e-5",
                                   "--ledger", ledger])
        #expect(created.status == 0, "\(created.stderr)")
        func spent() throws -> String {
            try runVeil(["budget", "show", "pg_panel", "--json", "--ledger", ledger]).stdout
        }
        let before = try spent()

        // Unreachable server: exit 1 before anything is reserved.
        let down = try runVeil(["query", "--db", "postgres://postgres@127.0.0.1:1/none", "--metadata", metadata.path,
                                "--ledger", ledger, "--epsilon", "0.5", "SELECT year, COUNT(*) FROM visits GROUP BY year"])
        #expect(down.status == 1, "\(down.stderr)")
        #expect(down.stderr.contains("database_unavailable") || down.stderr.contains("cannot connect"), "\(down.stderr)")
        // A table the database lacks: exit 2, nothing reserved.
        let wrong = folder.appendingPathComponent("wrong.yaml")
        try Self.metadataYAML.replacingOccurrences(of: "  visits:", with: "  visitz:")
            .write(to: wrong, atomically: true, encoding: .utf8)
        let missing = try runVeil(["query", "--db", url.redacted, "--metadata", wrong.path, "--ledger", ledger,
                                   "--epsilon", "0.5", "SELECT year, COUNT(*) FROM visitz GROUP BY year"])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("visitz"))
        #expect(try spent() == before)

        let run = try runVeil(["query", "--db", url.redacted, "--metadata", metadata.path, "--ledger", ledger,
                               "--epsilon", "0.5", "--format", "json",
                               "SELECT year, COUNT(*) AS n, SUM(doctor_visits) AS v FROM visits GROUP BY year"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.map { $0["year"] as? Int } == [1984, 1985, 1986])
        let show = try spent()
        #expect(show.contains("\"epsilon_spent\":0.5") || show.contains("\"epsilon_spent\": 0.5"), "\(show)")
    }
}
