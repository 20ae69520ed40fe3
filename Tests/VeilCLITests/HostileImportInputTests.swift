import _TestSupport
import Foundation
import Testing

/// `veil import csv` on inputs built to run for minutes, lose data or leave files behind: each is refused with exit
/// code 2 and one line naming the problem, quickly, leaving no database file it created (and no ledger change).
@Suite("veil import csv: hostile inputs")
struct HostileImportInputTests {
    static func importing(_ csv: String, table: String = "t", _ extra: [String] = []) -> [String] {
        ["import", "csv", "{dir}/\(csv)", "--db", "{dir}/new.sqlite", "--table", table] + extra
    }

    static let cases: [HostileCase] = [
        HostileCase("a header of 1,000,000 columns", importing("wide.csv"),
                    files: ["wide.csv": .text((0..<1_000_000).map { "c\($0)" }.joined(separator: ",") + "\n1\n")],
                    expect: "more than 2000 columns", absentAfter: ["new.sqlite"]),
        HostileCase("a NUL inside a field", importing("nul.csv"), files: ["nul.csv": .text("a,b\n1,x\u{0}y\n")],
                    expect: "nul.csv:2: a field contains a NUL character", absentAfter: ["new.sqlite"]),
        HostileCase("a NUL inside a quoted field", importing("nul.csv"), files: ["nul.csv": .text("a,b\n1,\"x\u{0}y\"\n")],
                    expect: "nul.csv:2: a field contains a NUL character", absentAfter: ["new.sqlite"]),
        HostileCase("a NUL in the header", importing("nul.csv"), files: ["nul.csv": .text("a,b\u{0}c\n1,2\n")],
                    expect: "nul.csv:1: a field contains a NUL character", absentAfter: ["new.sqlite"]),
        HostileCase("a write SQLite refuses, into a new database", importing("ok.csv", table: "sqlite_x"),
                    files: ["ok.csv": .text("a,b\n1,2\n")], expect: "reserved for internal use", absentAfter: ["new.sqlite"]),
        HostileCase("header names equal under ASCII case folding", importing("dup.csv"),
                    files: ["dup.csv": .text("Name,nAME\n1,2\n")], expect: "appears twice", absentAfter: ["new.sqlite"]),
        HostileCase("metadata nested 100,000 levels", importing("ok.csv", ["--metadata", "{dir}/privacy.yaml"]),
                    files: ["ok.csv": .text("a,b\n1,2\n"),
                            "privacy.yaml": .text("scope: s\ntables: " + String(repeating: "{a: ", count: 100_000) + "1"
                                                  + String(repeating: "}", count: 100_000) + "\n")],
                    expect: "nests more than 32 levels", absentAfter: ["new.sqlite"]),
    ]

    @Test("refused with exit code 2 and a message, leaving no new database behind", arguments: cases)
    func refused(_ c: HostileCase) throws {
        try c.check()
    }

    @Test("header names that differ beyond ASCII case are different columns, as in SQLite")
    func unicodeCaseIsDistinct() throws {
        let dir = try TemporaryDirectory.make("hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data.text("É,é\n1,2\n").write(to: dir.appendingPathComponent("u.csv"))
        let run = try runVeil(Self.importing("u.csv").map { $0.replacingOccurrences(of: "{dir}", with: dir.path) })
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("É integer, é integer"), "\(run.stdout)")
    }
}
