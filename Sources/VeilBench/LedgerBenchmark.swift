import BudgetLedger
import Foundation

/// Budget-ledger throughput: reserve + commit in one process and in eight, and the time to verify
/// the hash chain of 100,000 entries. Each charge is two `BEGIN IMMEDIATE` transactions (reserve,
/// then commit), as in `veil budget charge`.
enum LedgerBenchmark {
    static func run() throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "ledger")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-ledger-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let event = DPEvent.epsilonDelta(epsilon: 0.001, delta: 0)
        let cost = try PrivacyParameters.cost(epsilon: 0.001, delta: 0)

        // One process, one connection.
        for (durability, label, count) in [(Ledger.Durability.full, "full", 2_000), (.normal, "normal", 10_000)] {
            let path = folder.appendingPathComponent("single-\(label).sqlite").path
            let ledger = try Ledger(path: path, mode: .createIfMissing, durability: durability)
            try ledger.createBudget(scope: "bench", epsilon: 1_000_000, delta: 0, composition: .basic)
            let seconds = try bestTime(repeats: 1) {
                for _ in 0..<count {
                    let r = try ledger.reserve(event: event, cost: cost, scope: "bench", analyst: "bench", purpose: "throughput")
                    try ledger.commit(r, resultDigest: "sha256:00")
                }
            }
            report.add("charges_per_s_1_process_synchronous_\(label)", Double(count) / seconds, unit: "charges/s")
        }

        // Eight threads, each with its own connection (the same locking as eight processes).
        for (durability, label, perThread) in [(Ledger.Durability.full, "full", 250), (.normal, "normal", 1_000)] {
            let path = folder.appendingPathComponent("threads-\(label).sqlite").path
            try Ledger(path: path, mode: .createIfMissing, durability: durability)
                .createBudget(scope: "bench", epsilon: 1_000_000, delta: 0, composition: .basic)
            let failures = FailureCount()
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                do {
                    let ledger = try Ledger(path: path, durability: durability)
                    for _ in 0..<perThread {
                        let r = try ledger.reserve(event: event, cost: cost, scope: "bench", analyst: "bench", purpose: "throughput")
                        try ledger.commit(r, resultDigest: "sha256:00")
                    }
                } catch {
                    failures.record(error)
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if let error = failures.first { throw error }
            report.add("charges_per_s_8_threads_synchronous_\(label)", Double(8 * perThread) / seconds, unit: "charges/s")
        }

        // Eight `veil budget charge --repeat` processes (synchronous = FULL, as the CLI runs).
        if let veil = veilExecutable() {
            let path = folder.appendingPathComponent("processes.sqlite").path
            try Ledger(path: path, mode: .createIfMissing)
                .createBudget(scope: "bench", epsilon: 1_000_000, delta: 0, composition: .basic)
            let perProcess = 250
            let start = DispatchTime.now().uptimeNanoseconds
            let processes = try (0..<8).map { _ -> Process in
                let p = Process()
                p.executableURL = veil
                p.arguments = ["budget", "charge", "bench", "--epsilon", "0.001", "--analyst", "bench", "--purpose", "throughput",
                               "--repeat", "\(perProcess)", "--ledger", path]
                p.standardOutput = FileHandle.nullDevice
                try p.run()
                return p
            }
            for p in processes { p.waitUntilExit() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard processes.allSatisfy({ $0.terminationStatus == 0 }) else {
                throw VeilError(.numerical, "a veil budget charge process failed")
            }
            report.add("charges_per_s_8_processes_synchronous_full", Double(8 * perProcess) / seconds, unit: "charges/s")
        } else {
            FileHandle.standardError.write(Data("  (no veil binary next to veil-bench: skipping the 8-process figure)\n".utf8))
        }

        // Verification of a 100,000-entry chain (50,000 charges of two entries each).
        let path = folder.appendingPathComponent("verify.sqlite").path
        let ledger = try Ledger(path: path, mode: .createIfMissing, durability: .normal)
        try ledger.createBudget(scope: "bench", epsilon: 1_000_000, delta: 0, composition: .basic)
        for _ in 0..<49_999 {
            _ = try ledger.charge(event: event, cost: cost, scope: "bench", analyst: "bench", purpose: "verify", resultDigest: "sha256:00")
        }
        // One open reservation makes the chain exactly 1 + 2 · 49,999 + 1 = 100,000 entries.
        _ = try ledger.reserve(event: event, cost: cost, scope: "bench", analyst: "bench", purpose: "verify")
        var entries = 0
        let seconds = try bestTime(repeats: 3) {
            let result = try ledger.verify()
            guard result.isValid else { throw VeilError(.numerical, "benchmark ledger does not verify") }
            entries = result.entryCount
        }
        report.add("verify_entries", Double(entries), unit: "entries")
        report.add("verify_seconds_100k_entries", seconds, unit: "s")
        report.add("verify_entries_per_s", Double(entries) / seconds, unit: "entries/s")
        return report
    }

    /// The `veil` binary in the same folder as this benchmark binary.
    private static func veilExecutable() -> URL? {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = folder.appendingPathComponent("veil")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }
}

/// The first error of the benchmark's worker threads.
private final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    func record(_ e: any Error) {
        lock.lock()
        defer { lock.unlock() }
        if error == nil { error = e }
    }

    var first: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}
