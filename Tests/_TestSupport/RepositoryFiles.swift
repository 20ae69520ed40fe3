import Foundation

/// Folders of the repository, found from this file's path, for tests that read shipped files.
public enum RepositoryFolder {
    /// The repository's root (the folder of `Package.swift`).
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `datasets/`: the sample data the demo and the README use.
    public static let datasets = root.appendingPathComponent("datasets")
    /// `scripts/`: the demo, benchmark and verification scripts.
    public static let scripts = root.appendingPathComponent("scripts")
}

/// Bytes and modification time of a file, to check that a command left it untouched.
public struct FileFingerprint: Equatable {
    public let bytes: Data
    public let modified: Date?

    public init(_ path: String) throws {
        bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
    }
}

/// Runs the `sqlite3` command-line tool on `database` with `sql`, as someone editing the file by hand would.
/// - Returns: its exit status.
@discardableResult
public func sqlite3(_ database: String, _ sql: String) throws -> Int32 {
    try runTool("/usr/bin/env", ["sqlite3", database, sql]).status
}

/// Runs `python3` (from `PATH`) with `arguments`; returns its exit status and standard output.
public func runPython(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
    try runTool("/usr/bin/env", ["python3"] + arguments)
}

/// Runs the independent verifier `scripts/verify_ledger.py` on `ledger`.
public func runLedgerVerifier(_ ledger: String) throws -> (status: Int32, stdout: String) {
    try runPython([RepositoryFolder.scripts.appendingPathComponent("verify_ledger.py").path, ledger])
}

/// Runs `scripts/NAME` with bash, every standard stream on /dev/null, and waits for it; returns its exit status.
///
/// For scripts that start servers (PostgreSQL): a server outlives the script and may keep a descriptor it was
/// handed, so nothing here waits on a pipe; scripts write what the caller needs into files.
@discardableResult
public func runScriptQuietly(_ name: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [RepositoryFolder.scripts.appendingPathComponent(name).path] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
