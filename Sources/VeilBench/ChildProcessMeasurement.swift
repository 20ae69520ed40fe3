import Foundation

/// One run of a child process: its wall time and its peak memory, sampled from /proc/PID/status.
///
/// `getrusage`'s `ru_maxrss` of a child started by Foundation's `Process` (`posix_spawn`) can carry the parent's
/// peak (see ``TrainingBenchmark/peakResidentMiB()``), and it counts the pages of memory-mapped files, such as a
/// SQLite database read through `mmap`, with the process's own memory. So the child's /proc/PID/status is read
/// every 2 ms while it runs: `VmHWM` (peak resident size, file pages included) and `RssAnon` (resident anonymous
/// memory: heap and stacks, without file-backed pages, so without the mapped database). The peak of `RssAnon` is
/// the largest sample, which can miss a peak shorter than the sampling interval.
struct ChildProcessMeasurement {
    /// Wall time from start to exit.
    let seconds: Double
    /// Peak resident size (`VmHWM`), file-backed pages included, MiB.
    let peakResidentMiB: Double
    /// Largest sampled anonymous resident memory (`RssAnon`), MiB.
    let peakAnonymousMiB: Double

    /// Runs `executable` with `arguments`, discarding its standard output.
    /// - Throws: when it cannot start or exits with a non-zero status (its standard error in the message).
    static func run(_ executable: String, _ arguments: [String]) throws -> ChildProcessMeasurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        let statusPath = "/proc/\(process.processIdentifier)/status"
        var peakResident = 0.0, peakAnonymous = 0.0
        while process.isRunning {
            if let status = try? String(contentsOfFile: statusPath, encoding: .utf8) {
                peakResident = max(peakResident, kibibytes("VmHWM:", in: status))
                peakAnonymous = max(peakAnonymous, kibibytes("RssAnon:", in: status))
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchmarkFailure("\(executable) exited with \(process.terminationStatus): \(message)")
        }
        return ChildProcessMeasurement(seconds: seconds, peakResidentMiB: peakResident / 1024,
                                       peakAnonymousMiB: peakAnonymous / 1024)
    }

    /// The kB figure of the /proc status line starting with `field`, 0 when absent.
    static func kibibytes(_ field: String, in status: String) -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }) else { return 0 }
        let fields = line.split(whereSeparator: \.isWhitespace)
        return fields.count == 3 ? Double(fields[1]) ?? 0 : 0
    }
}

/// A benchmark that could not run as intended.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
