import _TestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running `veil` process (a server or a relay) started by a test with `--port 0`; its port is read
/// from the first line it prints, its standard error goes to a log file in the test's folder.
final class VeilServiceProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logFile: URL
    var pid: Int32 { process.processIdentifier }

    enum Failure: Error { case didNotStart(String) }

    init(_ arguments: [String], folder: URL, name: String) throws {
        logFile = folder.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = veilExecutableURL()
        process.arguments = arguments + ["--port", "0"]
        process.currentDirectoryURL = folder
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
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
        reader.readabilityHandler = { handle in _ = handle.availableData }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// SIGTERM, then SIGKILL after `timeout` seconds.
    func stop(timeout: TimeInterval = 20) {
        if process.isRunning { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() }
    }

    /// How many writable memory regions of the process hold `needle` (`/proc/PID/maps` + `/proc/PID/mem`).
    func memoryRegionsContaining(_ needle: Data) throws -> Int {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        let mem = open("/proc/\(pid)/mem", O_RDONLY)
        guard mem >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EACCES) }
        defer { close(mem) }
        var count = 0
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
            if region.range(of: needle) != nil { count += 1 }
        }
        return count
    }
}
