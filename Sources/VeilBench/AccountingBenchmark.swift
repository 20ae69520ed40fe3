import Accounting

/// Accountant timings for DP-SGD events at the reference setting q = 0.004267, σ = 1.1, δ = 1e-5
/// (MNIST with expected batch 256 of 60,000), T = 10⁴ and 10⁵ steps.
enum AccountingBenchmark {
    static let samplingRate = 0.004267, noiseMultiplier = 1.1, delta = 1e-5

    static func run() throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "accounting")
        for steps in [10_000, 100_000] {
            let event = NoiseCalibration.dpsgdEvent(samplingRate: samplingRate, noiseMultiplier: noiseMultiplier, steps: steps)
            var epsilon = 0.0
            let rdpSeconds = try bestTime(repeats: 20) { epsilon = try RDPAccountant().epsilon(for: event, delta: delta) }
            report.add("rdp_epsilon_T\(steps)_time", rdpSeconds * 1e3, unit: "ms")
            report.add("rdp_epsilon_T\(steps)", epsilon, unit: "epsilon")
            let pldSeconds = try bestTime(repeats: 3) { epsilon = try PLDAccountant().epsilon(for: event, delta: delta) }
            report.add("pld_epsilon_T\(steps)_time", pldSeconds, unit: "s")
            report.add("pld_epsilon_T\(steps)", epsilon, unit: "epsilon")
        }
        let calibrationSeconds = try bestTime(repeats: 3) {
            blackHole(try NoiseCalibration.noiseMultiplier(targetEpsilon: 3, samplingRate: samplingRate, steps: 14_060,
                                                           delta: delta, accountant: RDPAccountant()))
        }
        report.add("rdp_calibration_eps3_T14060_time", calibrationSeconds * 1e3, unit: "ms")
        return report
    }
}
