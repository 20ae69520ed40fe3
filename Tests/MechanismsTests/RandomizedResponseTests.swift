import Foundation
import Testing
@testable import Mechanisms
import _TestSupport

/// Randomised response rates against their exact probabilities (each check at
/// ``StatisticalBudget/alpha``, fixed seeds) and the estimators on exact expectations.
@Suite("Randomised response")
struct RandomizedResponseTests {
    static let reports = 100_000

    @Test("Binary randomised response keeps the truth with probability e^ε/(1+e^ε)", arguments: [(0.7, UInt64(301)), (2.5, 302)])
    func binaryRate(epsilon: Double, seed: UInt64) throws {
        let rr = try BinaryRandomizedResponse(epsilon: epsilon)
        #expect(abs(rr.truthProbability - exp(epsilon) / (1 + exp(epsilon))) < 1e-15)
        var source = InsecureSeededRandomSource(seed: seed)
        var kept = 0
        for i in 0..<Self.reports {
            let truth = i % 2 == 0
            if rr.respond(truth, using: &source) == truth { kept += 1 }
        }
        #expect(binomialConsistent(successes: kept, trials: Self.reports, probability: rr.truthProbability), "\(kept) kept")
        #expect(rr.event == .epsilonDelta(epsilon: epsilon, delta: 0))
    }

    @Test("Binary estimator is unbiased: expected report counts give back the true fraction")
    func binaryEstimator() throws {
        let rr = try BinaryRandomizedResponse(epsilon: 1)
        let p = rr.truthProbability
        let total = 1_000_000
        let truth = 0.3
        let expectedTrue = (truth * p + (1 - truth) * (1 - p)) * Double(total)
        let estimate = try rr.estimateFraction(reportedTrue: Int(expectedTrue.rounded()), total: total)
        #expect(abs(estimate - truth) < 1e-5)
    }

    @Test("k-ary randomised response matches e^ε/(e^ε+k−1) for the truth and 1/(e^ε+k−1) for the others")
    func karyDistribution() throws {
        let rr = try KaryRandomizedResponse(epsilon: 1, categories: 4)
        let denominator = exp(1.0) + 3
        #expect(abs(rr.truthProbability - exp(1.0) / denominator) < 1e-15)
        #expect(abs(rr.otherProbability - 1 / denominator) < 1e-15)
        var source = InsecureSeededRandomSource(seed: 303)
        var counts = [0, 0, 0, 0]
        for _ in 0..<Self.reports { counts[try rr.respond(2, using: &source)] += 1 }
        let q = rr.otherProbability
        let result = chiSquaredGoodnessOfFit(observed: counts, probabilities: [q, q, rr.truthProbability, q],
                                             sampleCount: Self.reports)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue), counts \(counts)")
    }

    @Test("k-ary estimator is unbiased: expected report counts give back the true frequencies")
    func karyEstimator() throws {
        let rr = try KaryRandomizedResponse(epsilon: 0.5, categories: 3)
        let truth = [0.5, 0.3, 0.2]
        let total = 10_000_000.0
        let p = rr.truthProbability, q = rr.otherProbability
        let counts = truth.map { Int((($0 * p + (1 - $0) * q) * total).rounded()) }
        let estimate = try rr.estimateFrequencies(counts: counts)
        for (e, t) in zip(estimate, truth) { #expect(abs(e - t) < 1e-5) }
        #expect(throws: VeilError.self) { _ = try rr.estimateFrequencies(counts: [1, 2]) }
    }
}
