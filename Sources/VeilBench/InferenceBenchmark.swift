import Foundation
import LinearAlgebra
import LocalInference
import Mechanisms
import PrivateTraining

/// Forward-pass throughput of `LocalInference` for the three architectures of the training benchmark
/// (MNIST-shaped inputs, random weights: speed does not depend on the values), at batch 1, 64 and 1,024.
///
/// `--export DIR` also writes each model as `DIR/inference-NAME.safetensors`, which
/// `scripts/reference_bench_inference.py` loads to time the same forward pass in PyTorch.
enum InferenceBenchmark {
    static let batchSizes = [1, 64, 1024]
    static let card = PrivacyCard(differentiallyPrivate: false, epsilon: nil, delta: nil, accountant: nil,
                                  noiseMultiplier: nil, clipNorm: nil, samplingRate: nil, steps: 0,
                                  expectedBatchSize: nil, targetEpsilon: nil, sampling: "none", noise: nil,
                                  declaredDatasetSize: nil, ledgerScope: nil, notes: ["benchmark model with random weights"])

    static func model(_ architecture: [LayerSpecification]) throws -> SequentialModel {
        var random = SecureRandomSource()
        return try SequentialModel(architecture: architecture, inputShape: ImageShape(height: 28, width: 28, channels: 1),
                                   random: &random)
    }

    /// Predictions per second of `predictor` at `batch`: batches are run for at least `seconds`.
    static func predictionsPerSecond(_ predictor: BatchPredictor, batch: Int, seconds: Double = 1) -> Double {
        var random = SecureRandomSource()
        let x = Matrix(rows: batch, columns: predictor.model.inputCount,
                       storage: (0..<(batch * predictor.model.inputCount)).map { _ in Float(random.next() >> 40) * 0x1p-24 })
        blackHole(predictor.probabilities(x))  // warm-up
        var best = 0.0
        for _ in 0..<3 {
            var runs = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            while elapsed < seconds / 3 {
                blackHole(predictor.probabilities(x))
                runs += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            best = max(best, Double(runs * batch) / elapsed)
        }
        return best
    }

    static func run(export folder: String?, models names: [String]) throws -> BenchmarkReport {
        TrainingAllocator.configure()  // as `veil serve` does
        var report = BenchmarkReport(area: "inference")
        try report.addCheckedBLASKernel()
        for (name, architecture) in TrainingBenchmark.models {
            let trained = try model(architecture)
            let bytes = try SafetensorsFile.encode(model: trained, card: card)
            if let folder {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try bytes.write(to: URL(fileURLWithPath: folder).appendingPathComponent("inference-\(name).safetensors"))
            }
            guard names.contains(name) else { continue }
            let loaded = try InferenceModel(contents: SafetensorsFile.decode(bytes), name: name)
            for batch in batchSizes {
                let predictor = BatchPredictor(model: loaded, batchSize: batch)
                report.add("\(name)_b\(batch)", predictionsPerSecond(predictor, batch: batch), unit: "predictions/s")
            }
        }
        return report
    }
}
