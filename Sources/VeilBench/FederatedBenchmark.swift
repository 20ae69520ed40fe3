import FederatedLearning
import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// The server's side of one federated round against a plain non-private sum of the same updates: n clients ×
/// a logistic model of 100,000 parameters (9,999 features, 10 classes), updates drawn once beforehand (local
/// training is the clients' time, not the server's). DP-FedAvg's round clips every update, sums it through the
/// ``PlainSumAggregator``, adds the Gaussian noise, divides by q·N and steps the server optimiser; DP-FTRL's adds the
/// tree's prefix noise instead.
enum FederatedBenchmark {
    static func run(clientCounts: [Int], repeats: Int) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "federated")
        var random = SecureRandomSource()
        let features = 9_999
        let model = try SequentialModel(architecture: ModelArchitecture.logisticRegression(classes: 10),
                                        inputShape: ImageShape(height: 1, width: 1, channels: features), random: &random)
        let dimension = model.parameterCount
        report.add("parameters", Double(dimension), unit: "values")
        var noise = GaussianNoiseSampler()
        for n in clientCounts {
            let updates: [[Float]] = (0..<n).map { _ in
                var u = [Float](repeating: 0, count: dimension)
                noise.addNoise(to: &u, standardDeviation: 0.01, using: &random)
                return u
            }
            let plainTime = bestTime(repeats: repeats) {
                var sum = [Double](repeating: 0, count: dimension)
                for u in updates { for i in 0..<dimension { sum[i] += Double(u[i]) } }
                blackHole(sum)
            }
            report.add("plain_sum_n\(n)", plainTime, unit: "s")
            for algorithm in [FederatedAlgorithm.dpFedAvg, .dpFTRL] {
                let settings = FederatedSettings(clients: .split(count: n, skew: .iid, seed: 0), declaredClients: n,
                                                 rounds: 10, clientsPerRound: n, algorithm: algorithm)
                let plan = try FederatedPlan(settings: settings,
                                             privacy: PrivacySettings(targetEpsilon: 8, delta: 1e-5, clipNorm: 1))
                let local = try LocalTraining(epochs: 1, batchSize: 1, learningRate: 0.1)
                let time = try bestTime(repeats: repeats) {
                    var rounds = try FederatedRounds(plan: plan, local: local, model: model, clientCount: n)
                    var aggregator = PlainSumAggregator()
                    _ = try rounds.runRound(clients: Array(0..<n), aggregator: &aggregator, privacyRandom: &random) {
                        updates[$0]
                    }
                    blackHole(rounds.model.parameterCount)
                }
                let name = algorithm == .dpFedAvg ? "dp_fedavg" : "dp_ftrl"
                report.add("\(name)_round_n\(n)", time, unit: "s")
                report.add("\(name)_round_n\(n)_vs_plain_sum", time / plainTime, unit: "ratio")
            }
        }
        return report
    }
}
