import _TestSupport
import Foundation
import Testing

/// Runs `veil query` on the shipped health panel and checks its output, refusals and ledger effects.
@Suite("veil query")
struct QueryCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let db = root.appendingPathComponent("datasets/health_panel.sqlite").path
    let metadata = root.appendingPathComponent("datasets/health_panel.privacy.yaml").path

    func temporaryLedger() -> String {
        TemporaryDirectory.file("query", extension: "sqlite").path
    }

    func remove(_ ledger: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledger + suffix) }
    }

    func createBudget(_ ledger: String, epsilon: String = "2", delta: String = "1e-5") throws {
        let run = try runVeil(["budget", "create", "health_panel", "--epsilon", epsilon, "--delta", delta,
                               "--ledger", ledger])
        #expect(run.status == 0, "\(run.stderr)")
    }

    func query(_ ledger: String, _ extra: [String], _ sql: String) throws -> VeilRun {
        try runVeil(["query", "--db", db, "--metadata", metadata, "--ledger", ledger] + extra + [sql])
    }

    @Test("--format json: columns, rows, intervals per row, cost; the ledger is charged the planned cost")
    func json() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        try createBudget(ledger)
        let run = try query(ledger, ["--epsilon", "0.5", "--format", "json", "--analyst", "ana"],
                            "SELECT year, COUNT(*) AS n, AVG(doctor_visits) AS visits FROM visits GROUP BY year")
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["columns"] as? [String] == ["year", "n", "visits"])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.map { $0["year"] as? Int } == [1984, 1985, 1986, 1987, 1988])
        let intervals = try #require(object["confidence_intervals"] as? [[String: [Double]]])
        #expect(intervals.count == 5)
        #expect(intervals.allSatisfy { Set($0.keys) == ["n", "visits"] && $0["n"]!.count == 2 })
        #expect(object["cost"] as? [String: Double] == ["epsilon": 0.5, "delta": 0])
        #expect(object["suppressed_groups"] == nil)
        let show = try runVeil(["budget", "show", "health_panel", "--json", "--ledger", ledger])
        #expect(show.stdout.contains("\"epsilon_spent\":0.5") || show.stdout.contains("\"epsilon_spent\": 0.5"),
                "\(show.stdout)")
    }

    @Test("groups without public values need δ; with δ, partition selection is reported")
    func partitionSelection() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        try createBudget(ledger)
        let run = try query(ledger, ["--epsilon", "0.5", "--delta", "1e-6", "--format", "json", "--keys", "/dev/null"],
                            "SELECT age, COUNT(*) FROM visits GROUP BY age")
        #expect(run.status == 2)   // an empty keys file is refused
        let selected = try query(ledger, ["--epsilon", "0.5", "--delta", "1e-6", "--format", "json"],
                                 "SELECT age, COUNT(*) AS n FROM visits GROUP BY age")
        #expect(selected.status == 0, "\(selected.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(selected.stdout.utf8)) as? [String: Any])
        #expect(object["suppressed_groups"] != nil)
    }

    @Test("--keys FILE releases exactly the listed keys")
    func keysFile() throws {
        let ledger = temporaryLedger()
        let keys = TemporaryDirectory.file("keys", extension: "csv")
        defer { remove(ledger); try? FileManager.default.removeItem(at: keys) }
        try createBudget(ledger)
        try "age\n30\n40\n99\n".write(to: keys, atomically: true, encoding: .utf8)
        let run = try query(ledger, ["--epsilon", "0.5", "--format", "csv", "--keys", keys.path],
                            "SELECT age, COUNT(*) AS n FROM visits GROUP BY age")
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.first == "age,n,n_low,n_high")
        #expect(lines.dropFirst().map { $0.split(separator: ",")[0] } == ["30", "40", "99"])
    }

    @Test("over budget: exit 3, the remaining budget on stderr, the ledger unchanged")
    func overBudget() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        try createBudget(ledger, epsilon: "0.3", delta: "0")
        let before = try runVeil(["budget", "history", "health_panel", "--ledger", ledger]).stdout
        let run = try query(ledger, ["--epsilon", "0.5"], "SELECT COUNT(*) FROM visits")
        #expect(run.status == 3)
        #expect(run.stderr.contains("remaining in health_panel"), "\(run.stderr)")
        #expect(run.stderr.contains("0.3"))
        #expect(run.stdout.isEmpty)
        #expect(try runVeil(["budget", "history", "health_panel", "--ledger", ledger]).stdout == before)
    }

    @Test("--explain and --dry-run touch neither the data nor the budget")
    func explainAndDryRun() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        let sql = "SELECT female, AVG(doctor_visits) FROM visits GROUP BY female"
        let explain = try runVeil(["query", "--db", "/nonexistent/none.sqlite", "--metadata", metadata,
                                   "--ledger", ledger, "--explain", sql])
        #expect(explain.status == 0, "\(explain.stderr)")
        #expect(explain.stdout.contains("SELECT veil_bound(\"person_id\""))
        #expect(explain.stdout.contains("the same totals as rewritten SQL"))
        #expect(explain.stdout.contains("WITH veil_rows AS"))
        #expect(explain.stdout.contains("cost: ε 1, δ 0 on budget health_panel"))
        let dry = try runVeil(["query", "--db", "/nonexistent/none.sqlite", "--metadata", metadata,
                               "--ledger", ledger, "--dry-run", "--epsilon", "0.25", sql])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.hasPrefix("cost: ε 0.25, δ 0 on budget health_panel"))
        #expect(!FileManager.default.fileExists(atPath: ledger))
    }

    @Test("--weights splits ε by ∛weight (8:1 gives 2:1), shown by --explain; a wrong count or value exits 2")
    func weights() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        let sql = "SELECT COUNT(*), SUM(doctor_visits) FROM visits"
        func explain(_ weights: String) throws -> VeilRun {
            try runVeil(["query", "--db", "/nonexistent/none.sqlite", "--metadata", metadata, "--ledger", ledger,
                         "--explain", "--epsilon", "0.3", "--weights", weights, sql])
        }
        let split = try explain("8,1")
        #expect(split.status == 0, "\(split.stderr)")
        #expect(split.stdout.contains("q0 0.2, q1 0.1"), "\(split.stdout)")
        #expect(split.stdout.contains("cost: ε 0.3, δ 0 on budget health_panel"))
        for bad in ["1", "1,0", "a,b", "1,,2"] {
            let refused = try explain(bad)
            #expect(refused.status == 2, "\(bad): \(refused.stderr)")
            #expect(refused.stderr.contains("weights"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count <= 3)
        }
        #expect(!FileManager.default.fileExists(atPath: ledger))
    }

    @Test("--dry-run prints each column's 95% half-width; --target-error picks the smallest ε meeting it, reading nothing")
    func targetError() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        // COUNT(*) without GROUP BY has Δ = 1 here and half of ε (two single-quantity aggregates); its 95% discrete
        // Laplace half-width is 10 from a share of 0.28435, so from ε = 0.5687.
        let sql = "SELECT COUNT(*), MEDIAN(income) FROM visits"
        let dry = try runVeil(["query", "--db", "/nonexistent/none.sqlite", "--metadata", metadata, "--ledger", ledger,
                               "--dry-run", "--target-error", "10", sql])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.hasPrefix("cost: ε 0.569, δ 0 on budget health_panel"), "\(dry.stdout)")
        #expect(dry.stdout.contains("COUNT(*): ±10\n"))
        #expect(dry.stdout.contains("MEDIAN(income): depends on the data"))
        let explain = try runVeil(["query", "--db", "/nonexistent/none.sqlite", "--metadata", metadata, "--ledger", ledger,
                                   "--explain", "--epsilon", "0.568", sql])
        #expect(explain.stdout.contains("COUNT(*): ±11\n"), "\(explain.stdout)")
        let none = try runVeil(["query", "--db", "/nonexistent/none.sqlite", "--metadata", metadata, "--ledger", ledger,
                                "--dry-run", "--target-error", "10", "SELECT MEDIAN(income) FROM visits"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("no output column has an error known before the data is read"))
        #expect(!FileManager.default.fileExists(atPath: ledger))
    }

    @Test("refusals and syntax errors: exit 2 with the reason and a caret on stderr")
    func refusals() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        try createBudget(ledger)
        let star = try query(ledger, [], "SELECT * FROM visits")
        #expect(star.status == 2)
        #expect(star.stderr.contains("SELECT * is refused"))
        #expect(star.stderr.contains("^"))
        let syntax = try query(ledger, [], "SELECT COUNT(*) FROM visits WHERE year = = 3")
        #expect(syntax.status == 2)
        #expect(syntax.stderr.contains("line 1, column"))
        #expect(syntax.stderr.contains("^"))
        let unit = try query(ledger, [], "SELECT person_id FROM visits")
        #expect(unit.status == 2)
        #expect(unit.stderr.contains("privacy unit"))
        let history = try runVeil(["budget", "show", "health_panel", "--ledger", ledger])
        #expect(history.stdout.contains("spent") || history.status == 0)
    }

    @Test("no budget for the scope: the message says how to create it")
    func missingBudget() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        let run = try query(ledger, [], "SELECT COUNT(*) FROM visits")
        #expect(run.status == 2)
        #expect(run.stderr.contains("veil budget create health_panel"), "\(run.stderr)")
    }

    @Test("--json is --format json; --json with --format csv is refused before anything is read")
    func jsonFlag() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        try createBudget(ledger)
        let run = try query(ledger, ["--epsilon", "0.5", "--json"], "SELECT year, COUNT(*) AS n FROM visits GROUP BY year")
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["columns"] as? [String] == ["year", "n"])
        let both = try query(ledger, ["--json", "--format", "csv"], "SELECT COUNT(*) FROM visits")
        #expect(both.status == 2)
        #expect(both.stderr.contains("--json and --format csv cannot be combined"), "\(both.stderr)")
    }

    @Test("--analyst defaults to $USER, else analyst, for query and budget charge alike")
    func analystDefault() throws {
        let ledger = temporaryLedger()
        defer { remove(ledger) }
        try createBudget(ledger)
        let anonymous = try runVeil(["query", "--db", db, "--metadata", metadata, "--ledger", ledger, "--epsilon", "0.1",
                                     "SELECT COUNT(*) FROM visits"], environment: ["USER": ""])
        #expect(anonymous.status == 0, "\(anonymous.stderr)")
        let named = try runVeil(["query", "--db", db, "--metadata", metadata, "--ledger", ledger, "--epsilon", "0.1",
                                 "SELECT COUNT(*) FROM visits"], environment: ["USER": "querying-user"])
        #expect(named.status == 0, "\(named.stderr)")
        let charge = try runVeil(["budget", "charge", "health_panel", "--epsilon", "0.1", "--purpose", "outside release",
                                  "--ledger", ledger], environment: ["USER": "charging-user"])
        #expect(charge.status == 0, "\(charge.stderr)")
        let history = try runVeil(["budget", "history", "health_panel", "--ledger", ledger]).stdout
        #expect(history.contains("by analyst:"), "\(history)")
        #expect(history.contains("by querying-user:"), "\(history)")
        #expect(history.contains("by charging-user:"), "\(history)")
    }

    @Test("--keys with an unknown table: the query is parsed once, the error points into it")
    func keysWithUnknownTable() throws {
        let ledger = temporaryLedger()
        let keys = TemporaryDirectory.file("keys", extension: "csv")
        defer { remove(ledger); try? FileManager.default.removeItem(at: keys) }
        try "age\n30\n".write(to: keys, atomically: true, encoding: .utf8)
        let run = try query(ledger, ["--keys", keys.path], "SELECT age, COUNT(*) FROM visit GROUP BY age")
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown table 'visit'"), "\(run.stderr)")
        #expect(run.stderr.contains("^"), "\(run.stderr)")   // a caret under the table name, as without --keys
        #expect(!FileManager.default.fileExists(atPath: ledger))
    }
}
