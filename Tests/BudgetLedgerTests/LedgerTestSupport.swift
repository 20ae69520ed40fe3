import _TestSupport
import Foundation
import Testing
@testable import BudgetLedger

/// A fresh folder under the system temporary directory, removed when the value is released.
final class TemporaryFolder: @unchecked Sendable {
    let url: URL

    init() throws {
        url = try TemporaryDirectory.make("ledger-tests")
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Runs the `sqlite3` command-line tool on `database` with `sql`, as someone tampering with the
/// file would. Returns its exit status.
@discardableResult
func sqlite3(_ database: String, _ sql: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sqlite3", database, sql]
    process.standardOutput = FileHandle.nullDevice
    let err = Pipe()
    process.standardError = err
    try process.run()
    _ = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Bytes and modification time of a file, to check that a command left it untouched.
struct FileFingerprint: Equatable {
    let bytes: Data
    let modified: Date?

    init(_ path: String) throws {
        bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
    }
}

/// A ledger at `path` with one budget.
@discardableResult
func makeLedger(_ path: String, scope: String = "panel", epsilon: Double = 10, delta: Double = 1e-6,
                composition: CompositionRule = .basic) throws -> Ledger {
    let ledger = try Ledger(path: path, mode: .createIfMissing)
    try ledger.createBudget(scope: scope, epsilon: epsilon, delta: delta, composition: composition)
    return ledger
}

/// A pure ε charge.
func pure(_ epsilon: Double) throws -> (DPEvent, PrivacyParameters) {
    (.epsilonDelta(epsilon: epsilon, delta: 0), try PrivacyParameters.cost(epsilon: epsilon, delta: 0))
}

/// The repository's `scripts/` folder.
let scriptsFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("scripts")

/// Runs `python3` (from `PATH`) with `arguments`; returns its exit status and standard output.
func runPython(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
    try runTool("/usr/bin/env", ["python3"] + arguments)
}

/// Runs the independent verifier `scripts/verify_ledger.py` on `ledger`.
func runLedgerVerifier(_ ledger: String) throws -> (status: Int32, stdout: String) {
    try runPython([scriptsFolder.appendingPathComponent("verify_ledger.py").path, ledger])
}
