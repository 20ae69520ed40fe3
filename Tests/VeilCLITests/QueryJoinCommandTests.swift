import _TestSupport
import Foundation
import GRDB
import Testing

/// `veil query` with joins, end to end, on a copy of the shipped health panel with two more tables: a private
/// `checkups` table with the same unit and a public `education_levels` lookup.
@Suite("veil query: joins")
struct QueryJoinCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The panel's metadata with the two tables added.
    static func metadata() throws -> String {
        try String(contentsOf: root.appendingPathComponent("datasets/health_panel.privacy.yaml"), encoding: .utf8) + """
              checkups:
                privacy_unit: person_id
                max_rows_per_unit: 3
                columns:
                  person_id: {type: integer}
                  year: {type: integer}
                  kind: {type: text, public_values: [routine, specialist]}
              education_levels:
                public: true
                columns:
                  education_level: {type: integer}
                  label: {type: text, public_values: [basic, middle, upper, university]}

            """
    }

    /// The fixture: the panel's `visits`, every person-year with more than 3 doctor visits as a checkup (twice
    /// for more than 10), and the four education levels.
    static func fixture(_ folder: TemporaryFolder) throws -> (db: String, metadata: String, ledger: String) {
        let db = folder.path("panel.sqlite")
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("datasets/health_panel.sqlite").path, toPath: db)
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE checkups (person_id INTEGER, year INTEGER, kind TEXT);
                INSERT INTO checkups SELECT person_id, year, 'routine' FROM visits WHERE doctor_visits > 3;
                INSERT INTO checkups SELECT person_id, year, 'specialist' FROM visits WHERE doctor_visits > 10;
                CREATE TABLE education_levels (education_level INTEGER, label TEXT);
                INSERT INTO education_levels VALUES (1, 'basic'), (2, 'middle'), (3, 'upper'), (4, 'university');
                """)
        }
        try queue.close()
        let metadata = folder.path("privacy.yaml")
        try Self.metadata().write(toFile: metadata, atomically: true, encoding: .utf8)
        let ledger = folder.path("ledger.sqlite")
        let create = try runVeil(["budget", "create", "health_panel", "--epsilon", "2", "--ledger", ledger])
        #expect(create.status == 0, "\(create.stderr)")
        return (db, metadata, ledger)
    }

    @Test("a join on the unit and a public lookup answer with the planned cost; a join that drops the unit exits 2 and charges nothing")
    func joins() throws {
        let folder = try TemporaryFolder("query-join")
        let (db, metadata, ledger) = try Self.fixture(folder)
        func query(_ sql: String, _ extra: [String] = []) throws -> VeilRun {
            try runVeil(["query", "--db", db, "--metadata", metadata, "--ledger", ledger, "--epsilon", "0.5",
                         "--format", "json"] + extra + [sql])
        }
        let joined = try query("SELECT kind, label, COUNT(*) AS n, AVG(v.doctor_visits) AS visits FROM visits v "
                               + "JOIN checkups c ON c.person_id = v.person_id AND c.year = v.year "
                               + "JOIN education_levels USING (education_level) GROUP BY kind, label")
        #expect(joined.status == 0, "\(joined.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(joined.stdout.utf8)) as? [String: Any])
        #expect(object["columns"] as? [String] == ["kind", "label", "n", "visits"])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == 8)   // every public (kind, label) pair
        #expect(Set(rows.compactMap { $0["label"] as? String }) == ["basic", "middle", "upper", "university"])
        // Specialist checkups are a subset of the routine ones: visits of 11–30 (clamped) against 4–30.
        let visits = Dictionary(grouping: rows, by: { $0["kind"] as? String ?? "" })
            .mapValues { $0.compactMap { $0["visits"] as? Double } }
        #expect(try #require(visits["specialist"]).allSatisfy { $0 >= 0 && $0 <= 30 })
        #expect(object["cost"] as? [String: Double] == ["epsilon": 0.5, "delta": 0])

        let history = try runVeil(["budget", "history", "health_panel", "--ledger", ledger]).stdout
        for (sql, reason) in [
            ("SELECT COUNT(*) FROM visits v JOIN checkups c ON c.year = v.year", "the join does not keep the privacy unit"),
            ("SELECT COUNT(*) FROM (SELECT year FROM visits) s", "does not select the privacy unit person_id"),
            ("SELECT year, COUNT(*) FROM visits JOIN checkups USING (person_id) GROUP BY year", "is ambiguous"),
            ("SELECT COUNT(*) FROM education_levels", "is public"),
        ] {
            let refused = try query(sql)
            #expect(refused.status == 2, "\(sql): \(refused.stderr)")
            #expect(refused.stderr.contains(reason), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
        #expect(try runVeil(["budget", "history", "health_panel", "--ledger", ledger]).stdout == history)
    }
}
