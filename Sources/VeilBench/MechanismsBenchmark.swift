import Mechanisms

/// Throughput of Veil's exact samplers and noisy releases, single thread, drawing from the
/// operating system's CSPRNG through ``SecureRandomSource``.
enum MechanismsBenchmark {
    static func run() throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "mechanisms")
        let count = 2_000_000

        // MARK: Samplers
        for sigma in [1.0, 100.0, 1_000_000.0] {
            let laplace = try DiscreteLaplaceSampler(scale: sigma)
            var source = SecureRandomSource()
            var sink = 0
            let laplaceTime = bestTime(repeats: 5) {
                for _ in 0..<count { sink &+= laplace.sample(using: &source) }
            }
            blackHole(sink)
            report.add("discrete_laplace_scale_\(label(sigma))", Double(count) / laplaceTime, unit: "samples/s")

            let gaussian = try DiscreteGaussianSampler(sigma: sigma)
            let gaussianTime = bestTime(repeats: 5) {
                for _ in 0..<count { sink &+= gaussian.sample(using: &source) }
            }
            blackHole(sink)
            report.add("discrete_gaussian_sigma_\(label(sigma))", Double(count) / gaussianTime, unit: "samples/s")
        }

        // MARK: Real-valued releases (granularity 2^(⌈log2 scale⌉ − 20), interval included)
        let releases = 1_000_000
        let laplace = try GranularLaplaceMechanism(epsilon: 1, sensitivity: 1)
        let gaussian = try GranularGaussianMechanism(epsilon: 1, delta: 1e-5, sensitivity: 1)
        var source = SecureRandomSource()
        var total = 0.0
        let laplaceTime = try bestTime {
            for i in 0..<releases { total += try laplace.release(Double(i) * 0.001, using: &source).value }
        }
        blackHole(total)
        report.add("granular_laplace_releases", Double(releases) / laplaceTime, unit: "releases/s")
        let gaussianTime = try bestTime {
            for i in 0..<releases { total += try gaussian.release(Double(i) * 0.001, using: &source).value }
        }
        blackHole(total)
        report.add("granular_gaussian_releases", Double(releases) / gaussianTime, unit: "releases/s")
        return report
    }

    private static func label(_ value: Double) -> String {
        value >= 1_000_000 ? "1e\(Int(value).description.count - 1)" : String(Int(value))
    }
}
