import BigInt
import Foundation
import Testing
@testable import Mechanisms
import _TestSupport

/// The discrete Laplace and Gaussian samplers with fixed work per accepted round: the same exact distribution as the
/// variable samplers (chi-squared, at ``StatisticalBudget/alpha`` each), and random words drawn that do not
/// grow with the magnitude of the value returned, where the variable sampler's do.
@Suite("Fixed-work discrete Laplace and Gaussian")
struct FixedWorkSamplerTests {
    @Test("Same distribution at integer, non-dyadic, small and large scales", arguments: [
        (Rational(1), UInt64(41)),
        (Rational(7, 3), 42),
        (Rational(1, 2), 43),
        (Rational(100), 44),
    ] as [(Rational, UInt64)])
    func distribution(scale: Rational, seed: UInt64) throws {
        let sampler = try DiscreteLaplaceSampler(scale: scale)
        let b = scale.doubleValue
        Self.expectFit(seed: seed, limit: Int((30 * b).rounded(.up)) + 2, label: "scale \(scale)",
                       draw: { sampler.sampleWithFixedWork(using: &$0) },
                       probabilities: { discreteLaplacePMF(scale: b, range: $0) })
    }

    /// χ² goodness of fit (at ``StatisticalBudget/alpha``) of 20,000 draws against `probabilities` on −limit…limit.
    static func expectFit(seed: UInt64, limit: Int, label: String, draw: (inout InsecureSeededRandomSource) -> Int,
                          probabilities: (ClosedRange<Int>) -> [Double]) {
        var source = InsecureSeededRandomSource(seed: seed)
        let trials = 20_000
        let samples = (0..<trials).map { _ in draw(&source) }
        let result = chiSquaredGoodnessOfFit(observed: histogram(samples, range: -limit...limit),
                                             probabilities: probabilities(-limit...limit), sampleCount: trials)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue) at \(label)")
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

    // MARK: Discrete Gaussian

    @Test("Discrete Gaussian with fixed work: the same distribution from σ (64-bit), σ² (64- and 128-bit words)",
          arguments: [
            (Rational(1), false, UInt64(51)),
            (Rational(7, 2), false, 52),
            (Rational(exactly: 3.7412109375)!, false, 53),
            (Rational(5, 3), true, 54),
            (Rational(100), false, 55),
          ] as [(Rational, Bool, UInt64)])
    func gaussianDistribution(parameter: Rational, isSigmaSquared: Bool, seed: UInt64) throws {
        let sampler = isSigmaSquared ? try DiscreteGaussianSampler(sigmaSquared: parameter)
                                     : try DiscreteGaussianSampler(sigma: parameter)
        let s2 = sampler.sigmaSquared.doubleValue
        Self.expectFit(seed: seed, limit: Int((12 * s2.squareRoot()).rounded(.up)) + 2, label: "\(parameter)",
                       draw: { sampler.sampleWithFixedWork(using: &$0) },
                       probabilities: { discreteGaussianPMF(sigmaSquared: s2, range: $0) })
    }

    @Test("The padded Bernoulli(exp(−γ)): γ = 0, 7/3, 1 and 40 (beyond the pad), against exp(−γ)")
    func paddedExponentialTrial() {
        var source = InsecureSeededRandomSource(seed: 56)
        let trials = 30_000
        var sevenThirds = 0
        var one = 0
        var forty = 0
        for _ in 0..<trials {
            #expect(FixedWorkBernoulli.exp(0, over: 9, using: &source))
            if FixedWorkBernoulli.exp(7, over: 3, using: &source) { sevenThirds += 1 }
            if FixedWorkBernoulli.exp(5, over: 5, using: &source) { one += 1 }
            if FixedWorkBernoulli.exp(40, over: 1, using: &source) { forty += 1 }
        }
        #expect(bernoulliPValue(successes: sevenThirds, trials: trials, probability: exp(-7.0 / 3)) > StatisticalBudget.alpha)
        #expect(bernoulliPValue(successes: one, trials: trials, probability: exp(-1.0)) > StatisticalBudget.alpha)
        #expect(forty == 0)  // exp(−40) · 30,000 ≈ 10⁻¹³
    }

    /// Mean words drawn by one acceptance trial of the sampler for σ = 100 (t = σ) at a proposal |y|.
    static func acceptanceWords(at y: UInt, fixedWork: Bool, seed: UInt64) throws -> Double {
        let sampler = try DiscreteGaussianSampler(sigma: 100)
        var source = CountingRandomSource(seed: seed)
        let calls = 2_000
        for _ in 0..<calls {
            _ = fixedWork ? sampler.acceptWithFixedWork(magnitude: y, using: &source)
                          : sampler.accept(magnitude: y, using: &source)
        }
        return Double(source.draws) / Double(calls)
    }

    @Test("Discrete Gaussian: the acceptance trial draws the same words at every |y| (the variable one does not)")
    func gaussianWorkIndependentOfMagnitude() throws {
        // γ = (|y| − σ)²/(2σ²) at σ = 100: 0, 0.5, 2, 8 and 24.5 for |y| = σ, 0, 3σ, 5σ and 8σ. The padded trial
        // draws 32 words for its exp(−1) trials and 16 for the fraction, whatever γ; only the rare extra word of a
        // rejection inside a bounded draw varies, alike at every |y|.
        let magnitudes: [UInt] = [100, 0, 300, 500, 800]
        let fixed = try magnitudes.map { try Self.acceptanceWords(at: $0, fixedWork: true, seed: 57) }
        #expect(fixed.allSatisfy { abs($0 - fixed[0]) < 0.5 }, "fixed work: \(fixed)")
        #expect(fixed.allSatisfy { $0 >= 48 }, "fixed work pads every trial: \(fixed)")
        // The variable trial stops at the first failure: no word at γ = 0, a few at γ = 2.
        let variable = try magnitudes.map { try Self.acceptanceWords(at: $0, fixedWork: false, seed: 57) }
        #expect(variable[0] < 3 && variable[2] > variable[0] + 0.5, "variable work: \(variable)")
    }
}
