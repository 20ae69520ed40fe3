import _TestSupport
import Foundation
import Testing

/// One hostile input for a `veil` command: the arguments, the files they name, and what the refusal must look
/// like. Each case runs in a folder of its own with a fresh ledger; `{dir}` in an argument is that folder.
struct HostileCase: Sendable, CustomTestStringConvertible {
    let label: String
    let arguments: [String]
    /// File name → contents, written into the case's folder before the run.
    let files: [String: Data]
    /// A piece of the one-line message expected on stderr.
    let fragment: String
    /// Files that must not exist after the run (e.g. a database a failed import would have created).
    let absentAfter: [String]

    init(_ label: String, _ arguments: [String], files: [String: Data] = [:], expect fragment: String,
         absentAfter: [String] = []) {
        self.label = label
        self.arguments = arguments
        self.files = files
        self.fragment = fragment
        self.absentAfter = absentAfter
    }

    var testDescription: String { label }

    /// The bound on one run. The cases take 0.05–0.6 s on an idle debug build and up to about 2 s while the two
    /// cores are busy with builds; the bound leaves room for that and still stops a run that hangs or works for
    /// minutes (the way these inputs once did) instead of waiting for it.
    static let timeLimit = Duration.seconds(15)

    /// Runs the case: exit code 2, one line on stderr with the fragment, no signal, within ``timeLimit``, the
    /// ledger byte for byte as it was (no reservation, no refund, no entry) and the listed files absent.
    func check() throws {
        let dir = try TemporaryDirectory.make("hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, contents) in files { try contents.write(to: dir.appendingPathComponent(name)) }
        let ledger = dir.appendingPathComponent("ledger.sqlite").path
        let created = try runVeil(["budget", "create", "s", "--epsilon", "10", "--delta", "1e-5", "--ledger", ledger])
        try #require(created.status == 0, "\(created.stderr)")
        let before = try ledgerState(ledger)

        let arguments = self.arguments.map { $0.replacingOccurrences(of: "{dir}", with: dir.path) }
        let clock = ContinuousClock()
        let start = clock.now
        // No crash backtracer: it would hold the output pipes open past the time limit.
        let run = try runVeil(arguments, environment: ["VEIL_LEDGER": ledger, "SWIFT_BACKTRACE": "enable=no"],
                              currentDirectory: dir, timeout: Self.timeLimit)
        let elapsed = clock.now - start
        #expect(elapsed < Self.timeLimit, "ran \(elapsed)")
        #expect(run.status == 2, "status \(run.status), stderr: \(run.stderr.prefix(500))")
        #expect(run.stderr.hasPrefix("error: ") && run.stderr.contains(fragment), "stderr: \(run.stderr.prefix(500))")
        #expect(run.stderr.count < 2000, "stderr is \(run.stderr.count) characters")
        #expect(run.stdout.isEmpty, "stdout: \(run.stdout.prefix(500))")
        #expect(try ledgerState(ledger) == before, "the ledger changed")
        for name in absentAfter {
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name) was left behind")
        }
    }

    /// The ledger's head hash and its files, byte for byte.
    func ledgerState(_ ledger: String) throws -> [Data?] {
        let head = try runVeil(["budget", "head", "--ledger", ledger])
        return [Data("\(head.status) \(head.stdout)".utf8)]
            + ["", "-wal", "-journal"].map { FileManager.default.contents(atPath: ledger + $0) }
    }
}

extension Data {
    /// UTF-8 text as file contents.
    static func text(_ string: String) -> Data { Data(string.utf8) }
}
