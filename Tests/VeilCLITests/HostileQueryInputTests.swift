import _TestSupport
import Foundation
import Testing

/// `veil query` on inputs built to hang, trap or overflow the stack while planning: each is refused with exit code
/// 2 and one line naming the limit, in well under a second, before the ledger is touched. A new planning input
/// (flag, metadata key, syntax) gets a row here.
@Suite("veil query: hostile planning inputs")
struct HostileQueryInputTests {
    static func metadata(k: Int = 1, m: Int = 1,
                         column: (String, String) = ("x", "{type: integer, lower: 0, upper: 10}")) -> Data {
        .text(PrivacyMetadataFixture(unit: "pid", maxPartitionsPerUnit: k, maxRowsPerPartition: m,
                                     columns: [("pid", "{type: integer}"), ("g", "{type: text}"), column]).yaml)
    }

    static func query(_ sql: String, _ extra: [String] = []) -> [String] {
        ["query", "--db", "{dir}/data.sqlite", "--metadata", "{dir}/privacy.yaml"] + extra + [sql]
    }

    static let plain = ["privacy.yaml": metadata()]

    static let cases: [HostileCase] = [
        // Size and depth of the query text (stack overflows in the parser and planner).
        HostileCase("5,000 nested parentheses", query("SELECT " + String(repeating: "(", count: 5000) + "COUNT(*)"
                    + String(repeating: ")", count: 5000) + " FROM t"), files: plain, expect: "more than the limit of 10000"),
        HostileCase("10,000 COUNT(*) terms", query("SELECT " + Array(repeating: "COUNT(*)", count: 10_000).joined(separator: "+")
                    + " FROM t"), files: plain, expect: "more than the limit of 10000"),
        HostileCase("30,000 NOTs", query("SELECT COUNT(*) FROM t WHERE " + String(repeating: "NOT ", count: 30_000) + "x = 1"),
                    files: plain, expect: "more than the limit of 100000"),
        HostileCase("101 nested parentheses", query("SELECT " + String(repeating: "(", count: 101) + "COUNT(*)"
                    + String(repeating: ")", count: 101) + " FROM t"), files: plain, expect: "more than 100 levels deep"),
        HostileCase("101 NOTs", query("SELECT COUNT(*) FROM t WHERE " + String(repeating: "NOT ", count: 101) + "x = 1"),
                    files: plain, expect: "more than 100 levels deep"),
        HostileCase("a chain of 101 ANDs", query("SELECT COUNT(*) FROM t WHERE "
                    + Array(repeating: "x = 1", count: 102).joined(separator: " AND ")), files: plain,
                    expect: "more than 100 levels deep"),
        // Calibration (nil unwrap, Double → Int traps, overflow).
        HostileCase("ε = 1e-320", query("SELECT COUNT(*) FROM t", ["--epsilon", "1e-320"]), files: plain, expect: "epsilon"),
        HostileCase("ε = 1e-320 with δ (Gaussian)", query("SELECT COUNT(*) FROM t", ["--epsilon", "1e-320", "--delta", "1e-6"]),
                    files: plain, expect: "epsilon"),
        HostileCase("upper: 1e308", query("SELECT SUM(x) FROM t"),
                    files: ["privacy.yaml": metadata(column: ("x", "{type: real, lower: 0, upper: 1e308}"))],
                    expect: "cannot be calibrated"),
        HostileCase("lower: -1e308, upper: 1e308 (AVG)", query("SELECT AVG(x) FROM t"),
                    files: ["privacy.yaml": metadata(column: ("x", "{type: real, lower: -1e308, upper: 1e308}"))],
                    expect: "cannot be calibrated"),
        HostileCase("max_partitions_per_unit: Int.max", query("SELECT g, COUNT(*) FROM t GROUP BY g", ["--delta", "1e-6"]),
                    files: ["privacy.yaml": metadata(k: Int.max)],
                    expect: "max_partitions_per_unit must be an integer in 1…1000000000"),
        HostileCase("max_rows_per_partition: Int.max", query("SELECT COUNT(*) FROM t"),
                    files: ["privacy.yaml": metadata(m: Int.max)],
                    expect: "max_rows_per_partition must be an integer in 1…1000000000"),
        // Metadata nesting (stack overflow in the YAML composer).
        HostileCase("YAML nested 100,000 levels (flow)", query("SELECT COUNT(*) FROM t"),
                    files: ["privacy.yaml": .text("scope: s\ntables: " + String(repeating: "[", count: 100_000)
                                                  + String(repeating: "]", count: 100_000) + "\n")],
                    expect: "nests more than 32 levels"),
        HostileCase("YAML nested 100,000 levels (block)", query("SELECT COUNT(*) FROM t"),
                    files: ["privacy.yaml": .text("scope: s\ntables:\n  " + String(repeating: "- ", count: 100_000) + "x\n")],
                    expect: "nests more than 32 levels"),
        HostileCase("a NUL in a column name", query("SELECT COUNT(*) FROM t"),
                    files: ["privacy.yaml": metadata(column: ("\"x\\0y\"", "{type: integer, lower: 0, upper: 10}"))],
                    expect: "NUL"),
        // Identifiers fold ASCII letters only, as SQLite does.
        HostileCase("the Kelvin sign does not name column k", query("SELECT SUM(\u{212A}) FROM t"),
                    files: ["privacy.yaml": metadata(column: ("k", "{type: integer, lower: 0, upper: 10}"))],
                    expect: "unknown column"),
        HostileCase("ſelect is not SELECT", query("ſelect COUNT(*) FROM t"), files: plain, expect: "only SELECT statements"),
    ]

    @Test("refused at planning with exit code 2, a message naming the limit, and the ledger untouched", arguments: cases)
    func refused(_ c: HostileCase) throws {
        try c.check()
    }

    @Test("control: a valid query does change the ledger, so the check above can fail")
    func control() throws {
        let dir = try TemporaryDirectory.make("hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.metadata().write(to: dir.appendingPathComponent("privacy.yaml"))
        try Data.text("pid,g,x\n1,a,3\n2,b,4\n").write(to: dir.appendingPathComponent("data.csv"))
        let ledger = dir.appendingPathComponent("ledger.sqlite").path
        let c = HostileCase("control", [], expect: "")
        #expect(try runVeil(["import", "csv", dir.appendingPathComponent("data.csv").path, "--db",
                             dir.appendingPathComponent("data.sqlite").path, "--table", "t"]).status == 0)
        #expect(try runVeil(["budget", "create", "s", "--epsilon", "10", "--ledger", ledger]).status == 0)
        let before = try c.ledgerState(ledger)
        let arguments = Self.query("SELECT COUNT(*) FROM t").map { $0.replacingOccurrences(of: "{dir}", with: dir.path) }
        let run = try runVeil(arguments + ["--ledger", ledger])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try c.ledgerState(ledger) != before)
    }

    @Test("bounds of 4e18 at ε = 1000 plan at once (the noise quantile once stepped for more than ten minutes)")
    func hugeScalePlansAtOnce() throws {
        let dir = try TemporaryDirectory.make("hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.metadata(column: ("x", "{type: integer, lower: 0, upper: 4000000000000000000}"))
            .write(to: dir.appendingPathComponent("privacy.yaml"))
        let arguments = Self.query("SELECT SUM(x) FROM t", ["--epsilon", "1000", "--dry-run"])
            .map { $0.replacingOccurrences(of: "{dir}", with: dir.path) }
        let run = try runVeil(arguments, environment: ["SWIFT_BACKTRACE": "enable=no"], timeout: HostileCase.timeLimit)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"scale\":4000000000000000"), "\(run.stdout)")
    }
}
