import _TestSupport
import Foundation
import Testing
import BudgetLedger

/// One hostile use of `veil budget`: the ledger starts with budget `s` (ε 1, δ 1e-6, basic) and one
/// charge of ε 0.25 by `ana`; `prepare` may damage it or set up files; `arguments` run (the
/// `--ledger` option is added); the run must exit with `status`, say `fragment` on stderr in one
/// line without raw control characters, and leave a chain that `veil budget verify` accepts.
struct HostileBudgetCase: Sendable, CustomTestStringConvertible {
    let name: String
    let arguments: [String]
    let status: Int32
    let fragment: String
    var prepare: @Sendable (_ ledger: String, _ folder: String) throws -> Void = { _, _ in }
    /// False for rows that damage the ledger on purpose.
    var chainVerifiesAfter = true

    var testDescription: String { name }

    static let esc = "\u{1B}"

    static let all: [HostileBudgetCase] = [
        // Numbers: one canonical decimal form (-0 once broke the chain; 0x10 was once read as 16).
        HostileBudgetCase(name: "epsilon -0 is read as 0", arguments: ["charge", "s", "--epsilon", "-0", "--analyst", "a", "--purpose", "p"],
                    status: 0, fragment: ""),
        HostileBudgetCase(name: "delta -0 is read as 0", arguments: ["reserve", "s", "--epsilon", "0.1", "--delta", "-0", "--analyst", "a", "--purpose", "p"],
                    status: 0, fragment: ""),
        HostileBudgetCase(name: "create with delta -0", arguments: ["create", "t", "--epsilon", "1", "--delta", "-0.0"], status: 0, fragment: ""),
        HostileBudgetCase(name: "hexadecimal", arguments: ["create", "t", "--epsilon", "0x10"], status: 2, fragment: "plain decimal number"),
        HostileBudgetCase(name: "hexadecimal float", arguments: ["charge", "s", "--epsilon", "0x1p-3", "--analyst", "a", "--purpose", "p"],
                    status: 2, fragment: "plain decimal number"),
        HostileBudgetCase(name: "nan", arguments: ["charge", "s", "--epsilon", "nan", "--analyst", "a", "--purpose", "p"],
                    status: 2, fragment: "plain decimal number"),
        HostileBudgetCase(name: "inf", arguments: ["create", "t", "--epsilon", "inf"], status: 2, fragment: "plain decimal number"),
        HostileBudgetCase(name: "leading plus", arguments: ["create", "t", "--epsilon", "+1"], status: 2, fragment: "plain decimal number"),
        HostileBudgetCase(name: "space", arguments: ["create", "t", "--epsilon", " 1"], status: 2, fragment: "plain decimal number"),
        HostileBudgetCase(name: "overflow to infinity", arguments: ["create", "t", "--epsilon", "1e400"], status: 2, fragment: "too large"),
        HostileBudgetCase(name: "1e308 in short form", arguments: ["charge", "s", "--epsilon", "1e308", "--analyst", "a", "--purpose", "p"],
                    status: 2, fragment: "got 1e+308"),
        HostileBudgetCase(name: "negative", arguments: ["create", "t", "--epsilon", "-1"], status: 2, fragment: "epsilon must be"),
        HostileBudgetCase(name: "delta 1", arguments: ["charge", "s", "--epsilon", "0.1", "--delta", "1", "--analyst", "a", "--purpose", "p"],
                    status: 2, fragment: "delta must be"),
        HostileBudgetCase(name: "budget exhausted", arguments: ["charge", "s", "--epsilon", "0.8", "--analyst", "a", "--purpose", "p"],
                    status: 3, fragment: "budget exhausted: ε 0.75"),
        // Names with terminal escape sequences are escaped in errors.
        HostileBudgetCase(name: "escape sequence in an unknown scope", arguments: ["show", "\(esc)]0;owned\u{07}\(esc)[2J"],
                    status: 2, fragment: "\\x1B]0;owned\\x07\\x1B[2J"),
        HostileBudgetCase(name: "C1 control in a scope", arguments: ["create", "x\u{9B}31m", "--epsilon", "1"],
                    status: 2, fragment: "x\\x9B31m"),
        HostileBudgetCase(name: "empty analyst", arguments: ["charge", "s", "--epsilon", "0.1", "--analyst", " ", "--purpose", "p"],
                    status: 2, fragment: "analyst must be"),
        // Exit codes of faults.
        HostileBudgetCase(name: "commit after an operator refund", arguments: ["resolve", "4", "--commit"], status: 1,
                    fragment: "it was refunded in the meantime",
                    prepare: { ledger, _ in
                        try run(["reserve", "s", "--epsilon", "0.1", "--analyst", "a", "--purpose", "p"], ledger)
                        try run(["resolve", "4", "--refund", "--note", "operator"], ledger)
                    }),
        HostileBudgetCase(name: "refund of a committed charge", arguments: ["resolve", "2", "--refund"], status: 2, fragment: "already committed"),
        HostileBudgetCase(name: "edited running total", arguments: ["charge", "s", "--epsilon", "0.5", "--analyst", "a", "--purpose", "p"],
                    status: 1, fragment: "veil budget verify",
                    prepare: { ledger, _ in try sqlite3(ledger, "UPDATE scope_total SET epsilon_units = 0;") },
                    chainVerifiesAfter: false),
        HostileBudgetCase(name: "truncated ledger", arguments: ["show", "s"], status: 1, fragment: "is damaged",
                    prepare: { ledger, _ in
                        // Enough entries for several pages, then cut the file after its first pages.
                        try run(["charge", "s", "--epsilon", "0.000001", "--analyst", String(repeating: "a", count: 300),
                                 "--purpose", String(repeating: "p", count: 300), "--repeat", "60"], ledger)
                        let handle = try #require(FileHandle(forUpdatingAtPath: ledger))
                        try handle.truncate(atOffset: 3 * 4096)
                        try handle.close()
                    },
                    chainVerifiesAfter: false),
        HostileBudgetCase(name: "not a ledger", arguments: ["show"], status: 2, fragment: "not a Veil ledger",
                    prepare: { ledger, _ in
                        try FileManager.default.removeItem(atPath: ledger)
                        try Data("scope,epsilon\n".utf8).write(to: URL(fileURLWithPath: ledger))
                    },
                    chainVerifiesAfter: false),
        // Reports are written only over regular files, checked before any work.
        HostileBudgetCase(name: "report to a FIFO", arguments: ["report", "--output", "FOLDER/fifo"], status: 2, fragment: "it is a FIFO",
                    prepare: { _, folder in #expect(mkfifo(folder + "/fifo", 0o600) == 0) }),
        HostileBudgetCase(name: "report to a symlink", arguments: ["report", "--output", "FOLDER/link.md"], status: 2,
                    fragment: "it is a symbolic link",
                    prepare: { _, folder in
                        try Data("keep".utf8).write(to: URL(fileURLWithPath: folder + "/target.md"))
                        try FileManager.default.createSymbolicLink(atPath: folder + "/link.md", withDestinationPath: folder + "/target.md")
                    }),
        HostileBudgetCase(name: "report to /dev/full", arguments: ["report", "--output", "/dev/full"], status: 2, fragment: "it is a character device"),
        HostileBudgetCase(name: "report to a directory", arguments: ["report", "--output", "FOLDER"], status: 2, fragment: "it is a directory"),
        HostileBudgetCase(name: "report into a missing folder", arguments: ["report", "--output", "FOLDER/none/r.md"], status: 2,
                    fragment: "does not exist"),
    ]

    /// Runs `veil budget ARGUMENTS --ledger LEDGER` and requires success.
    static func run(_ arguments: [String], _ ledger: String) throws {
        let result = try runVeil(["budget"] + arguments + ["--ledger", ledger])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
    }
}

@Suite("veil budget with hostile input (binary)")
struct HostileBudgetInputTests {
    @Test("exit code, one escaped line, chain intact", arguments: HostileBudgetCase.all)
    func hostile(_ row: HostileBudgetCase) throws {
        let folder = try TemporaryFolder()
        let ledger = folder.path("l.sqlite")
        try HostileBudgetCase.run(["create", "s", "--epsilon", "1", "--delta", "1e-6"], ledger)
        try HostileBudgetCase.run(["charge", "s", "--epsilon", "0.25", "--analyst", "ana", "--purpose", "counts"], ledger)
        try row.prepare(ledger, folder.url.path)
        let arguments = row.arguments.map { $0.replacingOccurrences(of: "FOLDER", with: folder.url.path) }
        let result = try runVeil(["budget"] + arguments + ["--ledger", ledger])
        #expect(result.status == row.status, "stderr: \(result.stderr)")
        if row.status != 0 {
            #expect(result.stderr.hasPrefix("error: "))
            #expect(result.stderr.contains(row.fragment), "stderr: \(result.stderr)")
            #expect(result.stderr.filter { $0 == "\n" }.count == 1)
            #expect(!result.stderr.dropLast().unicodeScalars.contains(where: TerminalText.isControl))
        }
        if row.chainVerifiesAfter {
            let verify = try runVeil(["budget", "verify", "--ledger", ledger])
            #expect(verify.status == 0, "verify: \(verify.stderr)")
            #expect(try runLedgerVerifier(ledger).status == 0)
        }
    }

    @Test("query: numbers in messages in short form, and --delta -0 leaves a chain that verifies")
    func queryNumbers() throws {
        let folder = try TemporaryFolder()
        let ledger = folder.path("l.sqlite")
        let datasets = RepositoryFolder.datasets
        try HostileBudgetCase.run(["create", "health_panel", "--epsilon", "10"], ledger)
        func query(_ options: [String]) throws -> VeilRun {
            try runVeil(["query", "--db", datasets.appendingPathComponent("health_panel.sqlite").path,
                         "--metadata", datasets.appendingPathComponent("health_panel.privacy.yaml").path,
                         "--ledger", ledger] + options + ["SELECT COUNT(*) FROM visits"])
        }
        for epsilon in ["1e308", "1e-300"] {
            let run = try query(["--epsilon", epsilon])
            #expect(run.status == 2)
            // Before, the noise scale was printed as an exact fraction of hundreds of digits.
            let longestDigitRun = run.stderr.split(whereSeparator: { !$0.isNumber }).map(\.count).max() ?? 0
            #expect(longestDigitRun < 20, "\(run.stderr)")
            #expect(run.stderr.filter { $0 == "\n" }.count == 1)
        }
        #expect(try query(["--epsilon", "1", "--delta", "-0"]).status == 0)
        #expect(try runVeil(["budget", "verify", "--ledger", ledger]).status == 0)
        #expect(try runLedgerVerifier(ledger).status == 0)
    }

    /// Whether the tests run as root with `setpriv`, so that a command can run as `nobody` (root
    /// writes to read-only files regardless of their mode).
    static let canDropPrivileges = geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    @Test("a read-only ledger is a failure (exit 1), not bad input", .enabled(if: canDropPrivileges))
    func readOnlyLedger() throws {
        let folder = try TemporaryFolder()
        let ledger = folder.path("l.sqlite")
        try HostileBudgetCase.run(["create", "s", "--epsilon", "1"], ledger)
        #expect(chmod(folder.url.path, 0o755) == 0 && chmod(ledger, 0o444) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", veilExecutableURL().path,
                             "budget", "charge", "s", "--epsilon", "0.1", "--analyst", "a", "--purpose", "p", "--ledger", ledger]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.hasPrefix("error: cannot write the ledger"))
    }

    @Test("special files named as the report's output are left as they were")
    func specialFilesUntouched() throws {
        let folder = try TemporaryFolder()
        let ledger = folder.path("l.sqlite")
        try HostileBudgetCase.run(["create", "s", "--epsilon", "1"], ledger)
        let fifo = folder.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let target = folder.path("target.md")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        let link = folder.path("link.md")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        for output in [fifo, link, "/dev/full"] {
            #expect(try runVeil(["budget", "report", "--output", output, "--ledger", ledger]).status == 2)
        }
        func kind(_ path: String) -> mode_t {
            var info = stat()
            return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
        }
        #expect(kind(fifo) == S_IFIFO)
        #expect(kind(link) == S_IFLNK)
        #expect(kind("/dev/full") == S_IFCHR)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
        // A regular file is replaced whole.
        let report = folder.path("r.md")
        try Data("old".utf8).write(to: URL(fileURLWithPath: report))
        #expect(try runVeil(["budget", "report", "--output", report, "--ledger", ledger]).status == 0)
        #expect(try String(contentsOfFile: report, encoding: .utf8).hasPrefix("# Privacy budget audit report"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted()
                == ["fifo", "l.sqlite", "link.md", "r.md", "target.md"])
    }

    @Test("names with control characters are escaped in history, show, the Markdown and HTML reports and JSON")
    func escapedOutput() throws {
        let folder = try TemporaryFolder()
        let ledger = folder.path("l.sqlite")
        let hostile = "\u{1B}[31mred\u{1B}]0;title\u{07} del\u{7F} csi\u{9B}2J Zoë 🔒"
        try HostileBudgetCase.run(["create", "s", "--epsilon", "1"], ledger)
        try HostileBudgetCase.run(["charge", "s", "--epsilon", "0.25", "--analyst", hostile, "--purpose", hostile,
                             "--result-digest", hostile], ledger)
        try HostileBudgetCase.run(["reserve", "s", "--epsilon", "0.25", "--analyst", hostile, "--purpose", hostile], ledger)
        let escaped = "\\x1B[31mred\\x1B]0;title\\x07 del\\x7F csi\\x9B2J Zoë 🔒"
        for command in [["history", "s"], ["show", "s"], ["show"], ["report"], ["report", "--format", "html"]] {
            let result = try runVeil(["budget"] + command + ["--ledger", ledger])
            #expect(result.status == 0)
            let controls = result.stdout.unicodeScalars.filter { TerminalText.isControl($0) && $0 != "\n" }
            #expect(controls.isEmpty, "\(command) printed \(controls.map(\.value))")
            #expect(result.stdout.contains(escaped), "\(command)")
        }
        for command in [["history", "s", "--json"], ["show", "s", "--json"], ["report", "--format", "json"]] {
            let result = try runVeil(["budget"] + command + ["--ledger", ledger])
            #expect(result.status == 0)
            let controls = result.stdout.unicodeScalars.filter { TerminalText.isControl($0) && $0 != "\n" && $0 != " " }
            #expect(controls.isEmpty, "\(command) printed \(controls.map(\.value))")
            // JSON still says the same thing.
            #expect(result.stdout.contains("\\u001b[31mred") || result.stdout.contains("\\u001B[31mred"), "\(command)")
            #expect((try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) != nil)
        }
    }
}
