import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

#if canImport(Glibc)
import Glibc
#endif

/// DP-SGD throughput next to non-private training of the same model in the same run, and the
/// peak memory of DP-SGD at several expected batch sizes (one child process each, so each
/// process's peak resident set size belongs to one setting).
///
/// Data: 10,000 synthetic 28×28 images with labels 0–9 (throughput does not depend on pixel
/// values). DP steps use Poisson sampling at q = 256 / 10,000, ghost-norm clipping and Gaussian
/// noise from the OS CSPRNG; non-private steps use fixed batches of 256 and no clipping.
enum TrainingBenchmark {
    static let examples = 10_000
    static let expectedBatch = 256

    static func syntheticData(count: Int) throws -> Dataset {
        var random = SecureRandomSource()
        let shape = ImageShape(height: 28, width: 28, channels: 1)
        var x = Matrix(rows: count, columns: shape.count)
        for i in 0..<x.count { x.storage[i] = Float(random.next() >> 40) * 0x1p-24 }
        let labels = (0..<count).map { _ in Int32(random.next() % 10) }
        return try Dataset(features: x, labels: labels, inputShape: shape, classCount: 10, sha256: "synthetic")
    }

    static let models: [(String, [LayerSpecification])] = [
        ("logistic", ModelArchitecture.logisticRegression(classes: 10)),
        ("mlp", ModelArchitecture.multilayerPerceptron(hidden: [256], classes: 10, activation: .relu)),
        ("cnn", ModelArchitecture.mnistCNN(classes: 10, activation: .tanh)),
    ]

    /// Examples per second of `epochs` passes; the best of `repeats` runs.
    static func throughput(_ architecture: [LayerSpecification], data: Dataset, privacy: PrivacySettings?,
                           epochs: Int, expectedBatch: Int, repeats: Int = 2) throws -> Double {
        let plan = try TrainingPlan(
            datasetSize: data.count,
            training: TrainingSettings(epochs: epochs, expectedBatchSize: expectedBatch, maxPhysicalBatchSize: 256,
                                       optimizer: .sgd(momentum: 0.9), learningRate: 0.1),
            privacy: privacy)
        var best = 0.0
        for _ in 0..<repeats {
            var secure = SecureRandomSource()
            var model = try SequentialModel(architecture: architecture, inputShape: data.inputShape, random: &secure)
            var order = SecureRandomSource()
            // Synthetic data: the DP runs measure speed and are charged to no ledger.
            let outcome = try DPSGDTrainer.train(model: &model, data: data, plan: plan,
                                                 charger: InsecureUnrecordedBudgetCharger(), privacyRandom: &secure,
                                                 orderRandom: &order, progressInterval: Int.max)
            best = max(best, Double(outcome.examples) / outcome.seconds)
        }
        return best
    }

    static let privacy = PrivacySettings(targetEpsilon: 8, delta: 1e-5, clipNorm: 1, noiseMultiplier: 1.0)

    /// Throughput of `models` (names of ``models``) on `examples` synthetic images, and with `memory` the
    /// peak RSS of CNN DP-SGD at three expected batch sizes.
    static func run(epochs: Int, examples: Int = examples, models names: [String] = models.map(\.0),
                    memory: Bool = true) throws -> BenchmarkReport {
        TrainingAllocator.configure()  // as `veil train` does
        var report = BenchmarkReport(area: "training")
        try report.addCheckedBLASKernel()
        // Per-example kernels and products both split across these threads; OpenBLAS runs one per call.
        report.add("threads", Double(ParallelSlices.workerCount), unit: "threads")
        let data = try syntheticData(count: examples)
        for (name, architecture) in models where names.contains(name) {
            let dp = try throughput(architecture, data: data, privacy: privacy, epochs: epochs, expectedBatch: expectedBatch)
            let plain = try throughput(architecture, data: data, privacy: nil, epochs: epochs, expectedBatch: expectedBatch)
            report.add("\(name)_dpsgd_b256", dp, unit: "examples/s")
            report.add("\(name)_nonprivate_b256", plain, unit: "examples/s")
            report.add("\(name)_dpsgd_over_nonprivate", dp / plain, unit: "ratio")
        }
        if names.contains("scattering") {
            // Feature extraction of ScatterNet pipelines (J = 2, L = 8 on 28×28) on all per-example threads.
            let images = Array(data.features.storage.prefix(min(data.count, 2_000) * data.inputShape.count))
            let batch = Matrix(rows: images.count / data.inputShape.count, columns: data.inputShape.count, storage: images)
            let transform = try ScatteringTransform2D(inputShape: data.inputShape, scales: 2, orientations: 8)
            let start = DispatchTime.now().uptimeNanoseconds
            _ = transform.apply(batch)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            report.add("scattering_j2_l8_images_per_second", Double(batch.rows) / seconds, unit: "images/s")
        }
        // Peak memory of a CNN DP-SGD epoch at growing expected batch sizes (physical batch ≤ 256).
        for batch in [256, 1024, 4096] where memory {
            report.add("cnn_dpsgd_peak_rss_expected_batch_\(batch)", try childPeakMemory(expectedBatch: batch), unit: "MiB")
        }
        return report
    }

    /// Runs `veil-bench training-memory --expected-batch B` and reads the MiB it prints.
    static func childPeakMemory(expectedBatch: Int) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = ["training-memory", "--expected-batch", "\(expectedBatch)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Double(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
    }

    /// One DP-SGD epoch of the CNN at `expectedBatch`; returns this process's peak RSS in MiB.
    static func peakMemory(expectedBatch: Int) throws -> Double {
        TrainingAllocator.configure()  // as `veil train` does
        let data = try syntheticData(count: examples)
        _ = try throughput(models[2].1, data: data, privacy: privacy, epochs: 1, expectedBatch: expectedBatch, repeats: 1)
        return peakResidentMiB()
    }

    /// The peak resident set size of this process's own address space in MiB: `VmHWM` from
    /// /proc/self/status. `getrusage`'s `ru_maxrss` is only the fallback: Foundation's `Process`
    /// starts the child with `posix_spawn`, whose child shares the parent's address space until
    /// `exec`, and Linux carries that address space's peak into the child's `ru_maxrss`, so the
    /// child would report at least the parent's peak.
    static func peakResidentMiB() -> Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.count == 3, fields[2] == "kB", let kib = Double(fields[1]) { return kib / 1024 }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
    }
}
