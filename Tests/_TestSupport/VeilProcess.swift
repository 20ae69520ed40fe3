import Foundation

/// The `veil` executable built next to the test bundle (`swift test` builds every product into the
/// same folder, e.g. `.build/debug`). Set `VEIL_BINARY` to test another build.
public func veilExecutableURL() -> URL {
    if let override = ProcessInfo.processInfo.environment["VEIL_BINARY"] {
        return URL(fileURLWithPath: override)
    }
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent("veil")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        folder.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: ".build/debug/veil")
}

/// What a finished `veil` process left: its exit status and its two output streams.
public struct VeilRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs the `veil` binary (or `executable`, another of the package's tools) with `arguments` (no standard input) and
/// waits for it; with a `timeout`, a run still going after it is killed (its status is then the signal's number, 9).
public func runVeil(_ arguments: [String], environment: [String: String] = [:],
                    currentDirectory: URL? = nil, timeout: Duration? = nil,
                    executable: URL = veilExecutableURL()) throws -> VeilRun {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    var killer: DispatchWorkItem?
    if let timeout {
        let pid = process.processIdentifier
        let item = DispatchWorkItem { kill(pid, SIGKILL) }
        let (seconds, attoseconds) = timeout.components
        DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) * 1e-18, execute: item)
        killer = item
    }
    // Read both pipes before waiting so a large output cannot fill a pipe and block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    killer?.cancel()
    return VeilRun(status: process.terminationStatus,
                   stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs the program at `path` with `arguments` (no standard input, standard error discarded) and waits for it.
/// - Returns: its exit status and standard output.
public func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
