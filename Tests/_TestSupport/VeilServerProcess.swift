import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running `veil` process started by a test (a server, a relay or a service) with `--port 0`: its port is
/// read from the first line it prints (`…127.0.0.1:PORT…`), its standard error goes to a log file in the test's
/// folder, and it is killed when the value is released.
public final class VeilServerProcess: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let logFile: URL
    public var pid: Int32 { process.processIdentifier }

    public enum Failure: Error { case didNotStart(String) }

    /// Starts `veil ARGUMENTS --port 0` in `folder` (its working folder), with standard error in
    /// `folder/LOGNAME.log` and, when `privateTemporaryFolder`, `TMPDIR` set to `folder/tmp`.
    public init(_ arguments: [String], folder: URL, logName: String, privateTemporaryFolder: Bool = false) throws {
        logFile = folder.appendingPathComponent("\(logName).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = veilExecutableURL()
        process.arguments = arguments + ["--port", "0"]
        process.currentDirectoryURL = folder
        if privateTemporaryFolder {
            let temporary = folder.appendingPathComponent("tmp")
            try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
            var environment = ProcessInfo.processInfo.environment
            environment["TMPDIR"] = temporary.path
            process.environment = environment
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line names the address; wait for it at most 60 s.
        let reader = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = reader.availableData
            if chunk.isEmpty { usleep(10_000) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        guard let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":").last ?? "") else {
            if process.isRunning { process.terminate() }
            throw Failure.didNotStart(text + ((try? String(contentsOf: logFile, encoding: .utf8)) ?? ""))
        }
        self.port = port
        // Keep draining standard output so the process never blocks on a full pipe.
        reader.readabilityHandler = { handle in _ = handle.availableData }
    }

    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// What the process wrote on standard error so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits at most `timeout` seconds; returns the exit status (SIGKILL after the timeout).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 30) -> Int32 {
        if process.isRunning { kill(pid, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() }
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(pid, SIGKILL) } }
}

/// Where `needles` occur in the writable memory of process `pid` (`/proc/PID/maps` + `/proc/PID/mem`; Linux):
/// each needle found maps to the number of regions holding it.
public func searchProcessMemory(pid: Int32, for needles: [Data]) throws -> [Data: Int] {
    let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
    let mem = open("/proc/\(pid)/mem", O_RDONLY)
    guard mem >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EACCES) }
    defer { close(mem) }
    var found: [Data: Int] = [:]
    for line in maps.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, fields[1].hasPrefix("rw") else { continue }
        let bounds = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
        guard bounds.count == 2, bounds[1] > bounds[0], bounds[1] - bounds[0] <= 1 << 31 else { continue }
        let size = Int(bounds[1] - bounds[0])
        var region = Data(count: size)
        let read = region.withUnsafeMutableBytes { pread(mem, $0.baseAddress, size, off_t(Int64(bitPattern: bounds[0]))) }
        guard read > 0 else { continue }
        region.count = read
        for needle in needles where region.range(of: needle) != nil { found[needle, default: 0] += 1 }
    }
    return found
}
