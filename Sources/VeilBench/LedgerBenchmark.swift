import Accounting
import BudgetLedger
import Foundation

/// Budget-ledger throughput: reserve + commit in one process and in eight, the time to verify
/// the hash chain of 100,000 entries, and how the time of one `rdp` or `zcdp` charge grows with the
/// scope's history. Each charge is two write transactions (reserve, then commit), as in
/// `veil budget charge`. ``LedgerBackendBenchmark`` compares the throughput on SQLite and PostgreSQL.
enum LedgerBenchmark {
    /// - Parameters:
    ///   - scalingOnly: run only the charge-time scaling figures.
    ///   - scalingCharges: the later charge whose time is compared with the 100th.
    static func run(scalingOnly: Bool = false, scalingCharges: Int = 100_000) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "ledger")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-ledger-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for rule in [CompositionRule.rdp, .zcdp] {
            try chargeTimeScaling(rule: rule, late: scalingCharges, folder: folder, report: &report)
        }
        if scalingOnly { return report }
        let event = DPEvent.epsilonDelta(epsilon: 0.001, delta: 0)
        let cost = try PrivacyParameters.cost(epsilon: 0.001, delta: 0)

        // One process, one connection.
        for (durability, label, count) in [(Ledger.Durability.full, "full", 2_000), (.normal, "normal", 10_000)] {
            let path = folder.appendingPathComponent("single-\(label).sqlite").path
            report.add("charges_per_s_1_process_synchronous_\(label)",
                       try chargesPerSecond(location: path, connections: 1, perConnection: count, durability: durability),
                       unit: "charges/s")
        }

        // Eight threads, each with its own connection (the same locking as eight processes).
        for (durability, label, perThread) in [(Ledger.Durability.full, "full", 250), (.normal, "normal", 1_000)] {
            let path = folder.appendingPathComponent("threads-\(label).sqlite").path
            report.add("charges_per_s_8_threads_synchronous_\(label)",
                       try chargesPerSecond(location: path, connections: 8, perConnection: perThread, durability: durability),
                       unit: "charges/s")
        }

        // Eight `veil budget charge --repeat` processes (synchronous = FULL, as the CLI runs).
        if let veil = veilExecutable() {
            let path = folder.appendingPathComponent("processes.sqlite").path
            report.add("charges_per_s_8_processes_synchronous_full",
                       try chargesPerSecond(veil: veil, location: path, processes: 8, perProcess: 250), unit: "charges/s")
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

    /// Reserve + commit throughput on a new ledger at `location` (a file or a PostgreSQL URL): `connections`
    /// threads, each with its own connection, each charging `perConnection` times.
    static func chargesPerSecond(location: String, connections: Int, perConnection: Int,
                                 durability: Ledger.Durability) throws -> Double {
        try Ledger.open(location: location, mode: .createIfMissing, durability: durability)
            .createBudget(scope: "bench", epsilon: 1_000_000, delta: 0, composition: .basic)
        let event = DPEvent.epsilonDelta(epsilon: 0.001, delta: 0)
        let cost = try PrivacyParameters.cost(epsilon: 0.001, delta: 0)
        let failures = FailureCount()
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: connections) { _ in
            do {
                let ledger = try Ledger.open(location: location, durability: durability)
                for _ in 0..<perConnection {
                    let r = try ledger.reserve(event: event, cost: cost, scope: "bench", analyst: "bench", purpose: "throughput")
                    try ledger.commit(r, resultDigest: "sha256:00")
                }
            } catch {
                failures.record(error)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let error = failures.first { throw error }
        return Double(connections * perConnection) / seconds
    }

    /// Throughput of `processes` concurrent `veil budget charge --repeat` processes on a new ledger at
    /// `location`, as the command line runs (full durability), start-up included.
    static func chargesPerSecond(veil: URL, location: String, processes count: Int, perProcess: Int) throws -> Double {
        try Ledger.open(location: location, mode: .createIfMissing)
            .createBudget(scope: "bench", epsilon: 1_000_000, delta: 0, composition: .basic)
        let start = DispatchTime.now().uptimeNanoseconds
        let processes = try (0..<count).map { _ -> Process in
            let p = Process()
            p.executableURL = veil
            p.arguments = ["budget", "charge", "bench", "--epsilon", "0.001", "--analyst", "bench", "--purpose", "throughput",
                           "--repeat", "\(perProcess)", "--ledger", location]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes { p.waitUntilExit() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard processes.allSatisfy({ $0.terminationStatus == 0 }) else {
            throw VeilError(.numerical, "a veil budget charge process failed")
        }
        return Double(count * perProcess) / seconds
    }

    /// The time of the 100th and of the `late`-th charge on one `rdp` or `zcdp` scope, each the mean
    /// (and the median, less sensitive to other load on the machine) of the wall-clock time, and the
    /// mean CPU time of the charging thread, over a window of 100 charges centred on it, and their
    /// ratios: with the scope's composed state kept in the ledger (format 3)
    /// a charge costs about the same whatever the scope's history, where recomposing every earlier
    /// event made it grow linearly (and the whole series quadratically).
    ///
    /// Every charge is `gaussian(noise_multiplier: 1000)` on a budget of ε 10 at δ 10⁻⁵, which
    /// 100,000 of them do not exhaust, on a ledger with `synchronous = NORMAL` (``Ledger/Durability/normal``)
    /// so that the figures show the ledger's work rather than the disk's flush latency.
    private static func chargeTimeScaling(rule: CompositionRule, late: Int, folder: URL,
                                          report: inout BenchmarkReport) throws {
        let early = 100
        let window = 100
        guard late > early + window else {
            throw VeilError.invalidParameter("charges", "\(late)", allowed: "more than \(early + window)")
        }
        let path = folder.appendingPathComponent("scaling-\(rule.rawValue).sqlite").path
        let ledger = try Ledger(path: path, mode: .createIfMissing, durability: .normal)
        try ledger.createBudget(scope: "bench", epsilon: 10, delta: 1e-5, composition: rule)
        let event = DPEvent.gaussian(noiseMultiplier: 1000)
        let cost = try PrivacyParameters.cost(epsilon: 0.001, delta: 0)
        var earlyTimes: [(wall: Double, cpu: Double)] = []
        var lateTimes: [(wall: Double, cpu: Double)] = []
        let earlyWindow = (early - window / 2)..<(early + window / 2)
        let lateWindow = (late - window / 2)..<(late + window / 2)
        for n in 1..<lateWindow.upperBound {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = threadCPUNanoseconds()
            _ = try ledger.charge(event: event, cost: cost, scope: "bench", analyst: "bench", purpose: "scaling",
                                  resultDigest: "sha256:00")
            let time = (wall: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6,
                        cpu: Double(threadCPUNanoseconds() - cpuStart) / 1e6)
            if earlyWindow.contains(n) { earlyTimes.append(time) }
            if lateWindow.contains(n) { lateTimes.append(time) }
            if n % 10_000 == 0 {
                FileHandle.standardError.write(Data("  (\(rule.rawValue): \(n) charges)\n".utf8))
            }
        }
        func mean(_ times: [Double]) -> Double { times.reduce(0, +) / Double(times.count) }
        func median(_ times: [Double]) -> Double { times.sorted()[times.count / 2] }
        let name = rule.rawValue
        for (label, figure) in [("", mean), ("_median", median)] as [(String, ([Double]) -> Double)] {
            let (a, b) = (figure(earlyTimes.map(\.wall)), figure(lateTimes.map(\.wall)))
            report.add("\(name)_charge\(label)_ms_at_\(early)", a, unit: "ms/charge")
            report.add("\(name)_charge\(label)_ms_at_\(late)", b, unit: "ms/charge")
            report.add("\(name)_charge\(label)_ratio_\(late)_vs_\(early)", b / a, unit: "x")
        }
        // CPU time of the charging thread: what the ledger's code costs, without the waits that
        // other processes on a shared machine add to the wall-clock figures.
        let (a, b) = (mean(earlyTimes.map(\.cpu)), mean(lateTimes.map(\.cpu)))
        report.add("\(name)_charge_cpu_ms_at_\(early)", a, unit: "ms/charge")
        report.add("\(name)_charge_cpu_ms_at_\(late)", b, unit: "ms/charge")
        report.add("\(name)_charge_cpu_ratio_\(late)_vs_\(early)", b / a, unit: "x")
    }

    /// CPU time used so far by the calling thread (`CLOCK_THREAD_CPUTIME_ID`), in nanoseconds.
    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The `veil` binary in the same folder as this benchmark binary.
    static func veilExecutable() -> URL? {
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
