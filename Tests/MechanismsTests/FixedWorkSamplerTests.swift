import BigInt
import Foundation
import Testing
@testable import Mechanisms
import _TestSupport

/// The discrete Laplace sampler with fixed work per accepted round: the same exact distribution as the
/// variable sampler (chi-squared, at ``StatisticalBudget/alpha`` each), and random words drawn that do not
/// grow with the magnitude of the value returned, where the variable sampler's do.
@Suite("Fixed-work discrete Laplace")
struct FixedWorkSamplerTests {
    @Test("Same distribution at integer, non-dyadic, small and large scales", arguments: [
        (Rational(1), UInt64(41)),
        (Rational(7, 3), 42),
        (Rational(1, 2), 43),
        (Rational(100), 44),
    ] as [(Rational, UInt64)])
    func distribution(scale: Rational, seed: UInt64) throws {
        let sampler = try DiscreteLaplaceSampler(scale: scale)
        var source = InsecureSeededRandomSource(seed: seed)
        let trials = 20_000
        let samples = (0..<trials).map { _ in sampler.sampleWithFixedWork(using: &source) }
        let b = scale.doubleValue
        let limit = Int((30 * b).rounded(.up)) + 2
        let result = chiSquaredGoodnessOfFit(
            observed: histogram(samples, range: -limit...limit),
            probabilities: discreteLaplacePMF(scale: b, range: -limit...limit), sampleCount: trials)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue) at scale \(scale)")
    }

    @Test("The padded Bernoulli trials: exp(−1/3), exp(0) and exp(−1)")
    func bernoulliTrials() {
        var source = InsecureSeededRandomSource(seed: 45)
        let trials = 30_000
        var third = 0
        var one = 0
        for _ in 0..<trials {
            if FixedWorkBernoulli.expUnit(1, over: 3, using: &source) { third += 1 }
            if FixedWorkBernoulli.expMinusOne(using: &source) { one += 1 }
            #expect(FixedWorkBernoulli.expUnit(0, over: 5, using: &source))
        }
        #expect(bernoulliPValue(successes: third, trials: trials, probability: exp(-1.0 / 3)) > StatisticalBudget.alpha)
        #expect(bernoulliPValue(successes: one, trials: trials, probability: exp(-1.0)) > StatisticalBudget.alpha)
    }

    /// Mean words per sample for values with |k| < 50 and for |k| ≥ 300, at scale 100 (about 5% of the
    /// samples land in the second group).
    static func wordsByMagnitude(fixedWork: Bool, seed: UInt64) throws -> (small: Double, large: Double) {
        let sampler = try DiscreteLaplaceSampler(scale: 100)
        var source = CountingRandomSource(seed: seed)
        var small: [Int] = []
        var large: [Int] = []
        for _ in 0..<20_000 {
            let before = source.draws
            let k = fixedWork ? sampler.sampleWithFixedWork(using: &source) : sampler.sample(using: &source)
            if abs(k) < 50 { small.append(source.draws - before) }
            if abs(k) >= 300 { large.append(source.draws - before) }
        }
        func mean(_ x: [Int]) -> Double { Double(x.reduce(0, +)) / Double(max(1, x.count)) }
        return (mean(small), mean(large))
    }

    @Test("Words drawn do not grow with |noise| (they do for the variable sampler)")
    func workIndependentOfMagnitude() throws {
        // Rejected rounds (about 17 words each) are independent of the value; their spread gives the group means a
        // standard error of about 0.55 words, so 3 words is over 5 standard errors (false failure below 1e-7).
        // An accepted round draws 1 + 16 + 32 words, where the variable sampler draws about 1.4 per unit of V.
        let fixed = try Self.wordsByMagnitude(fixedWork: true, seed: 46)
        #expect(abs(fixed.large - fixed.small) < 3, "fixed work: \(fixed)")
        #expect(fixed.small > 49, "fixed work pads every trial: \(fixed)")
        let variable = try Self.wordsByMagnitude(fixedWork: false, seed: 46)
        #expect(variable.large - variable.small > 3, "variable work: \(variable)")
    }
}
