#if canImport(Glibc)
import Glibc
#endif
import CProcessControl
import Foundation
import Mechanisms

/// The process-wide measures behind the server's zero data retention: freed heap memory is overwritten
/// by the C allocator, and the process leaves no core dump and is not readable by unprivileged peers.
///
/// Request and activation buffers are also overwritten explicitly after each request (see
/// ``InferenceService``); the allocator setting covers the copies that libraries make along the way
/// (socket read buffers, HTTP parsing, response buffers) once they are freed.
public enum ZeroDataRetention {
    /// The environment variable of glibc's tunables.
    public static let tunablesVariable = "GLIBC_TUNABLES"
    /// glibc tunables: every `free` overwrites the block (`perturb`), and the per-thread cache, whose
    /// blocks `perturb` does not reach, is off.
    public static let scrubbingTunables = "glibc.malloc.perturb=165:glibc.malloc.tcache_count=0"

    /// Whether this process runs with ``scrubbingTunables`` (they take effect only at process start).
    public static var allocatorScrubsFreedMemory: Bool {
        ProcessInfo.processInfo.environment[tunablesVariable]?.contains(scrubbingTunables) ?? false
    }

    /// Replaces the process by a fresh run of the same executable and arguments with
    /// ``scrubbingTunables`` added to the environment; returns only when that is not needed (the
    /// tunables are already set) or not possible (not Linux/glibc: then nothing changes).
    /// Call before reading any request or data.
    public static func restartWithScrubbingAllocatorIfNeeded() {
        #if os(Linux)
        guard !allocatorScrubsFreedMemory else { return }
        let existing = ProcessInfo.processInfo.environment[tunablesVariable].flatMap { $0.isEmpty ? nil : $0 }
        setenv(tunablesVariable, existing.map { "\($0):\(scrubbingTunables)" } ?? scrubbingTunables, 1)
        fflush(nil)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: go on without the allocator setting, and say so.
        FileHandle.standardError.write(Data("warning: could not restart with a scrubbing allocator (errno \(errno)); "
                                            .utf8) + Data("freed memory is not overwritten\n".utf8))
        #endif
    }

    /// Sets the core file size limit to 0 and marks the process not dumpable (Linux), so that a crash
    /// writes no memory image and `/proc/PID/mem` is readable only with `CAP_SYS_PTRACE`.
    /// - Throws: `VeilError.unsupported` when the system refuses either setting.
    public static func disableCoreDumps() throws {
        #if os(Linux)
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        guard setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit) == 0 else {
            throw VeilError(.unsupported, "cannot set the core file size limit to 0 (errno \(errno))")
        }
        guard veil_set_not_dumpable() == 0 else {
            throw VeilError(.unsupported, "cannot mark the process not dumpable (errno \(errno))")
        }
        #endif
    }
}
