import Foundation
import Mechanisms

/// The timing side channel of the exact samplers and the mechanisms built on them: each sample is timed on its
/// own, and its time is set against |noise| / scale (Spearman's ρ, the least-squares slope, the mean time per
/// bucket of |noise|; ``TimingStatistics``). Draws from the operating system's CSPRNG like production code.
enum TimingBenchmark {
    /// Times above 50 µs are preemptions by other processes, not sampling work (a sample takes well under 5 µs).
    static let outlierCut = 50_000.0

    static func run(samples: Int) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "timing")
        var source = SecureRandomSource()
        report.add("samples_per_sampler", Double(samples), unit: "samples")
        report.add("timer_overhead", timerOverhead(), unit: "ns")

        // MARK: Samplers
        for scale in [Rational(1, 1), Rational(100, 1), Rational(10, 3)] {
            let sampler = try DiscreteLaplaceSampler(scale: scale)
            let b = scale.doubleValue
            measure("discrete_laplace_scale_\(label(scale))", samples: samples, into: &report) {
                Double(sampler.sample(using: &source).magnitude) / b
            }
            // The padded sampler that private SQL draws its Laplace noise with.
            measure("discrete_laplace_fixed_work_scale_\(label(scale))", samples: samples, into: &report) {
                Double(sampler.sampleWithFixedWork(using: &source).magnitude) / b
            }
        }
        for sigma in [1.0, 100.0, 1_000_000.0] {
            let sampler = try DiscreteGaussianSampler(sigma: sigma)
            measure("discrete_gaussian_sigma_\(label(Rational(exactly: sigma)!))", samples: samples, into: &report) {
                Double(sampler.sample(using: &source).magnitude) / sigma
            }
            // The padded sampler that private SQL draws its Gaussian noise with.
            measure("discrete_gaussian_fixed_work_sigma_\(label(Rational(exactly: sigma)!))", samples: samples, into: &report) {
                Double(sampler.sampleWithFixedWork(using: &source).magnitude) / sigma
            }
        }

        // MARK: Mechanisms (true value 0, so the released value is the noise)
        let laplace = try DiscreteLaplaceMechanism(epsilon: 0.1, sensitivity: 1)
        measure("discrete_laplace_mechanism_epsilon_0.1", samples: samples, into: &report) {
            Double(laplace.release(0, using: &source).value.magnitude) / laplace.scale
        }
        let gaussian = try DiscreteGaussianMechanism(epsilon: 1, delta: 1e-6, sensitivity: 1)
        measure("discrete_gaussian_mechanism_epsilon_1_delta_1e-6", samples: samples, into: &report) {
            Double(gaussian.release(0, using: &source).value.magnitude) / gaussian.sigma
        }
        let granularLaplace = try GranularLaplaceMechanism(epsilon: 1, sensitivity: 1)
        try measure("granular_laplace_mechanism_epsilon_1", samples: samples, into: &report) {
            abs(try granularLaplace.release(0, using: &source).value) / granularLaplace.scale
        }
        let granularGaussian = try GranularGaussianMechanism(epsilon: 1, delta: 1e-6, sensitivity: 1)
        try measure("granular_gaussian_mechanism_epsilon_1_delta_1e-6", samples: samples, into: &report) {
            abs(try granularGaussian.release(0, using: &source).value) / granularGaussian.sigma
        }
        return report
    }

    /// Times `samples` calls of `draw` (which returns |noise| / scale) one by one, after 10,000 unrecorded
    /// calls, and adds the statistics as figures named `name_…`.
    private static func measure(_ name: String, samples: Int, into report: inout BenchmarkReport,
                                _ draw: () throws -> Double) rethrows {
        for _ in 0..<10_000 { blackHole(try draw()) }
        var times = [Double](), magnitudes = [Double]()
        times.reserveCapacity(samples)
        magnitudes.reserveCapacity(samples)
        for _ in 0..<samples {
            let start = DispatchTime.now().uptimeNanoseconds
            let magnitude = try draw()
            let end = DispatchTime.now().uptimeNanoseconds
            times.append(Double(end - start))
            magnitudes.append(magnitude)
        }
        let statistics = TimingStatistics(nanoseconds: times, magnitudes: magnitudes, outlierCut: outlierCut)
        report.add("\(name)_spearman", statistics.spearman, unit: "rho(time, |noise|)")
        report.add("\(name)_slope", statistics.slopeNanosecondsPerScale, unit: "ns per scale of |noise|")
        for (bucket, figures) in zip(TimingStatistics.bucketNames, statistics.buckets) {
            report.add("\(name)_mean_time_noise_\(bucket)_scale", figures.meanNanoseconds ?? .nan, unit: "ns")
            report.add("\(name)_count_noise_\(bucket)_scale", Double(figures.count), unit: "samples")
        }
        report.add("\(name)_outliers_over_50us", Double(statistics.outliers), unit: "samples")
    }

    /// The median time of two consecutive clock readings: the floor under every figure above.
    private static func timerOverhead() -> Double {
        var times: [Double] = []
        for _ in 0..<100_001 {
            let start = DispatchTime.now().uptimeNanoseconds
            let end = DispatchTime.now().uptimeNanoseconds
            times.append(Double(end - start))
        }
        return times.sorted()[times.count / 2]
    }

    private static func label(_ value: Rational) -> String {
        if value.denominator == 1 {
            let text = value.numerator.description
            return text.count > 6 ? "1e\(text.count - 1)" : text
        }
        return "\(value.numerator)_\(value.denominator)"
    }
}
