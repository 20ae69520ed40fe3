import Foundation
import Testing
@testable import Mechanisms
import _TestSupport

/// Selection mechanisms against their exact output distributions (chi-squared, each test at
/// ``StatisticalBudget/alpha``, fixed seeds).
@Suite("Selection mechanisms")
struct SelectionTests {
    static let draws = 40_000

    /// The exact output distribution of permute-and-flip: average over all orders of
    /// `p_r · Π_{j before r} (1 − p_j)`.
    static func permuteAndFlipDistribution(_ p: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: p.count)
        var count = 0
        func permute(_ prefix: [Int], _ rest: [Int]) {
            if rest.isEmpty {
                count += 1
                var survive = 1.0
                for r in prefix {
                    result[r] += survive * p[r]
                    survive *= 1 - p[r]
                }
                return
            }
            for (i, r) in rest.enumerated() {
                var remaining = rest
                remaining.remove(at: i)
                permute(prefix + [r], remaining)
            }
        }
        permute([], Array(p.indices))
        return result.map { $0 / Double(count) }
    }

    @Test("Permute-and-flip matches its exact distribution on four candidates")
    func permuteAndFlipDistribution() throws {
        let mechanism = try PermuteAndFlip(epsilon: 2, sensitivity: 1)
        let scores = [0.0, 1, 2, 3]
        // γ_r = ε(q* − q_r)/(2Δ) = 3 − q_r.
        #expect(try mechanism.exponents(scores: scores) == [Rational(3), Rational(2), Rational(1), Rational(0)])
        let expected = Self.permuteAndFlipDistribution(scores.map { exp(-(3 - $0)) })
        var source = InsecureSeededRandomSource(seed: 201)
        var counts = [0, 0, 0, 0]
        for _ in 0..<Self.draws { counts[try mechanism.select(scores: scores, using: &source)] += 1 }
        let result = chiSquaredGoodnessOfFit(observed: counts, probabilities: expected, sampleCount: Self.draws)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue), counts \(counts), expected \(expected)")
    }

    @Test("Permute-and-flip exponents are exact rationals of the Double inputs, halved unless monotone")
    func permuteAndFlipExponents() throws {
        let general = try PermuteAndFlip(epsilon: 0.1, sensitivity: 1)
        let monotone = try PermuteAndFlip(epsilon: 0.1, sensitivity: 1, monotonic: true)
        let tenth = Rational(exactly: 0.1)!
        #expect(try general.exponents(scores: [1.5, 0]) == [Rational.zero, tenth * Rational(3, 4)])
        #expect(try monotone.exponents(scores: [1.5, 0]) == [Rational.zero, tenth * Rational(3, 2)])
        #expect(general.event == .epsilonDelta(epsilon: 0.1, delta: 0))
        var source = InsecureSeededRandomSource(seed: 202)
        #expect(try general.select(scores: [5], using: &source) == 0)
    }

    /// `P(Z ≤ x)` for the discrete Laplace distribution with ratio `p = exp(−1/b)`.
    static func laplaceCDF(_ x: Int, p: Double) -> Double {
        x >= 0 ? 1 - pow(p, Double(x + 1)) / (1 + p) : pow(p, Double(-x)) / (1 + p)
    }

    @Test("Report-noisy-max matches its exact distribution (ties to the lowest index)")
    func reportNoisyMaxDistribution() throws {
        let mechanism = try ReportNoisyMax(epsilon: 1, sensitivity: 1)
        #expect(mechanism.scale == 2)
        let scores = [0, 2, 3]
        let p = exp(-1 / mechanism.scale)
        var expected = [Double](repeating: 0, count: scores.count)
        for i in scores.indices {
            for z in -200...200 {
                var probability = (1 - p) / (1 + p) * pow(p, Double(abs(z)))
                let value = scores[i] + z
                for j in scores.indices where j != i {
                    // j < i must be strictly below; j > i at most equal.
                    probability *= Self.laplaceCDF(j < i ? value - scores[j] - 1 : value - scores[j], p: p)
                }
                expected[i] += probability
            }
        }
        var source = InsecureSeededRandomSource(seed: 203)
        var counts = [0, 0, 0]
        for _ in 0..<Self.draws { counts[try mechanism.select(scores: scores, using: &source)] += 1 }
        let result = chiSquaredGoodnessOfFit(observed: counts, probabilities: expected, sampleCount: Self.draws)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue), counts \(counts), expected \(expected)")
        #expect(abs(expected.reduce(0, +) - 1) < 1e-12)
    }

    @Test("Sparse vector splits ε as 1 : (2c)^(2/3) and uses the matching noise scales")
    func sparseVectorAllocation() throws {
        for (c, monotonic) in [(1, false), (4, false), (4, true)] {
            let svt = try SparseVector(epsilon: 1, sensitivity: 1, threshold: 10, maxPositives: c, monotonic: monotonic)
            let ratio = pow(Double(monotonic ? c : 2 * c), 2.0 / 3.0)
            #expect(abs(svt.queryEpsilon / svt.thresholdEpsilon - ratio) < 1e-9)
            #expect(svt.thresholdEpsilon + svt.queryEpsilon <= 1)
            let g = svt.granularity.value
            let thresholdScale = svt.thresholdSampler.scale.doubleValue * g
            let queryScale = svt.querySampler.scale.doubleValue * g
            #expect(abs(thresholdScale - 1 / svt.thresholdEpsilon) < 1e-5 * thresholdScale)
            let expectedQuery = Double(monotonic ? c : 2 * c) / svt.queryEpsilon
            #expect(abs(queryScale - expectedQuery) < 1e-5 * expectedQuery)
            #expect(svt.event == .epsilonDelta(epsilon: 1, delta: 0))
        }
    }

    @Test("Sparse vector answers 'above' at the rate of the Laplace difference")
    func sparseVectorRate() throws {
        // For ν ~ Lap(b2), ρ ~ Lap(b1): P(ν − ρ > d) = (b2²e^{−d/b2} − b1²e^{−d/b1}) / (2(b2² − b1²)).
        // With grid units near 2^20 the discrete distributions match the continuous ones to ~10^-6.
        let template = try SparseVector(epsilon: 1, sensitivity: 1, threshold: 0)
        let g = template.granularity.value
        let b1 = template.thresholdSampler.scale.doubleValue * g
        let b2 = template.querySampler.scale.doubleValue * g
        let d = 2.0
        let rate = 1 - (b2 * b2 * exp(-d / b2) - b1 * b1 * exp(-d / b1)) / (2 * (b2 * b2 - b1 * b1))
        var source = InsecureSeededRandomSource(seed: 204)
        var above = 0
        let trials = 20_000
        for _ in 0..<trials {
            var svt = template
            if try svt.isAboveThreshold(d, using: &source) { above += 1 }
        }
        #expect(binomialConsistent(successes: above, trials: trials, probability: rate), "\(above) of \(trials), rate \(rate)")
    }
}
