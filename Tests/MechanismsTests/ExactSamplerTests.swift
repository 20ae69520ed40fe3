import BigInt
import Foundation
import Testing
@testable import Mechanisms
import _TestSupport

/// Chi-squared goodness-of-fit tests of the exact samplers against their exact distributions.
/// Each test fails a correct sampler with probability at most ``StatisticalBudget/alpha`` over the
/// seed (the whole target at most ``StatisticalBudget/family``, Bonferroni); seeds are fixed.
@Suite("Exact samplers")
struct ExactSamplerTests {
    static let trials = 100_000

    @Test("Bernoulli(p) for rational p, including one beyond 64 bits", arguments: [
        (Rational(1, 3), UInt64(11)),
        (Rational(exactly: 0.7)!, 12),
        (Rational(BigInt(3).power(50), 2 * BigInt(3).power(50) + 1), 13),
    ] as [(Rational, UInt64)])
    func bernoulliRational(probability: Rational, seed: UInt64) throws {
        let sampler = try BernoulliSampler(probability: probability)
        var source = InsecureSeededRandomSource(seed: seed)
        // Arbitrary-precision trials are slow in debug builds; fewer suffice for the same α.
        let trials = probability.denominator.bitWidth > 64 ? 30_000 : Self.trials
        var successes = 0
        for _ in 0..<trials where sampler.sample(using: &source) { successes += 1 }
        let p = bernoulliPValue(successes: successes, trials: trials, probability: probability.doubleValue)
        #expect(p > StatisticalBudget.alpha, "p-value \(p) for Bernoulli(\(probability))")
    }

    @Test("Bernoulli(exp(−γ)) at γ below, at and above 1, and on arbitrary precision", arguments: [
        (Rational(1, 3), UInt64(21)),
        (Rational(1), 22),
        (Rational(3, 2), 23),
        (Rational(10, 3), 24),
        (Rational(7 * BigInt(3).power(50) + 1, 4 * BigInt(3).power(50)), 25),
    ] as [(Rational, UInt64)])
    func bernoulliExp(gamma: Rational, seed: UInt64) throws {
        let sampler = try BernoulliExpSampler(gamma: gamma)
        var source = InsecureSeededRandomSource(seed: seed)
        let trials = gamma.denominator.bitWidth > 64 ? 30_000 : Self.trials
        var successes = 0
        for _ in 0..<trials where sampler.sample(using: &source) { successes += 1 }
        let p = bernoulliPValue(successes: successes, trials: trials, probability: exp(-gamma.doubleValue))
        #expect(p > StatisticalBudget.alpha, "p-value \(p) for Bernoulli(exp(-\(gamma)))")
    }

    @Test("Bernoulli(exp(0)) always succeeds and Bernoulli(0) never does")
    func degenerateBernoulli() throws {
        var source = InsecureSeededRandomSource(seed: 1)
        let always = try BernoulliExpSampler(gamma: Rational.zero)
        let never = try BernoulliSampler(probability: Rational.zero)
        for _ in 0..<1000 {
            #expect(always.sample(using: &source))
            #expect(!never.sample(using: &source))
        }
    }

    @Test("Discrete Laplace at integer, dyadic, non-dyadic and small rational scales", arguments: [
        (Rational(1), UInt64(31)),
        (Rational(5, 2), 32),
        (Rational(7, 3), 33),
        (Rational(1, 2), 34),
        (Rational(100), 35),
    ] as [(Rational, UInt64)])
    func discreteLaplace(scale: Rational, seed: UInt64) throws {
        let sampler = try DiscreteLaplaceSampler(scale: scale)
        var source = InsecureSeededRandomSource(seed: seed)
        let samples = (0..<Self.trials).map { _ in sampler.sample(using: &source) }
        let b = scale.doubleValue
        let limit = Int((30 * b).rounded(.up)) + 2
        let range = -limit...limit
        let result = chiSquaredGoodnessOfFit(
            observed: histogram(samples, range: range),
            probabilities: discreteLaplacePMF(scale: b, range: range), sampleCount: Self.trials)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue) at scale \(scale)")
    }

    @Test("Discrete Gaussian at small, grid and rational σ² on 64-bit words", arguments: [
        (Rational(1), UInt64(41)),
        (Rational(exactly: 3.7412109375 * 3.7412109375)!, 42),
        (Rational(5, 3), 43),
        (Rational(100), 44),
    ] as [(Rational, UInt64)])
    func discreteGaussian(sigmaSquared: Rational, seed: UInt64) throws {
        let sampler = try DiscreteGaussianSampler(sigmaSquared: sigmaSquared)
        #expect(sampler.arithmeticBits == 64)
        try checkGaussian(sampler, sigmaSquared: sigmaSquared, seed: seed, trials: Self.trials)
    }

    @Test("Discrete Gaussian on the arbitrary-precision path (σ² with 73-bit parts)")
    func discreteGaussianBig() throws {
        let b = BigInt(3).power(45)
        let sigmaSquared = Rational(5 * b + 1, b)
        let sampler = try DiscreteGaussianSampler(sigmaSquared: sigmaSquared)
        #expect(sampler.arithmeticBits == 0)
        try checkGaussian(sampler, sigmaSquared: sigmaSquared, seed: 45, trials: 20_000)
    }

    @Test("Discrete Gaussian with t = σ for rational σ (64-bit words)", arguments: [
        (Rational(1, 2), UInt64(47)),
        (Rational(7, 2), 48),
        (Rational(exactly: 3.7412109375)!, 49),
    ] as [(Rational, UInt64)])
    func discreteGaussianSigma(sigma: Rational, seed: UInt64) throws {
        let sampler = try DiscreteGaussianSampler(sigma: sigma)
        #expect(sampler.laplace.scale == sigma)
        #expect(sampler.arithmeticBits == 64)
        try checkGaussian(sampler, sigmaSquared: sigma * sigma, seed: seed, trials: Self.trials)
    }

    @Test("Discrete Gaussian at σ = 10^6, from σ² (128-bit words) and from σ (64-bit), binned by σ/4",
          arguments: [(false, 128, UInt64(46)), (true, 64, 50)])
    func discreteGaussianLarge(fromSigma: Bool, bits: Int, seed: UInt64) throws {
        let sigma = 1_000_000.0
        let sampler = fromSigma
            ? try DiscreteGaussianSampler(sigma: sigma)
            : try DiscreteGaussianSampler(sigmaSquared: Rational(1_000_000_000_000))
        #expect(sampler.arithmeticBits == bits)
        var source = InsecureSeededRandomSource(seed: seed)
        let width = Int(sigma / 4)
        let bins = -16..<16
        var observed = [Int](repeating: 0, count: bins.count)
        for _ in 0..<Self.trials {
            let y = sampler.sample(using: &source)
            let bin = Int((Double(y) / Double(width)).rounded(.down))
            if bins.contains(bin) { observed[bin - bins.lowerBound] += 1 }
        }
        // Bin [a, b) of integers ≈ ∫ from a − 1/2 to b − 1/2 of the normal density; at σ = 10^6 the
        // difference is below 10^-9 per bin (midpoint rule error), far under the test's resolution.
        func phi(_ x: Double) -> Double { 0.5 * erfc(-x / (sigma * 2.0.squareRoot())) }
        let probabilities = bins.map { bin in
            phi(Double(bin * width) - 0.5) - phi(Double((bin + 1) * width) - 0.5)
        }
        let result = chiSquaredGoodnessOfFit(observed: observed, probabilities: probabilities,
                                             sampleCount: Self.trials)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue)")
    }

    private func checkGaussian(_ sampler: DiscreteGaussianSampler, sigmaSquared: Rational,
                               seed: UInt64, trials: Int) throws {
        var source = InsecureSeededRandomSource(seed: seed)
        let samples = (0..<trials).map { _ in sampler.sample(using: &source) }
        let s2 = sigmaSquared.doubleValue
        let limit = Int((12 * s2.squareRoot()).rounded(.up)) + 2
        let range = -limit...limit
        let result = chiSquaredGoodnessOfFit(
            observed: histogram(samples, range: range),
            probabilities: discreteGaussianPMF(sigmaSquared: s2, range: range), sampleCount: trials)
        #expect(result.pValue > StatisticalBudget.alpha, "p-value \(result.pValue) at σ² = \(sigmaSquared)")
    }

    @Test("Uniform integers below 128-bit and arbitrary-precision bounds stay in range and reach the top half")
    func wideUniform() {
        var source = InsecureSeededRandomSource(seed: 5)
        let bound = UInt128(3) << 100
        let big = BigUInt(3).power(50)
        var topHalf128 = 0, topHalfBig = 0
        for _ in 0..<2000 {
            let x = source.uniform(below: bound)
            #expect(x < bound)
            if x >= bound / 2 { topHalf128 += 1 }
            let y = source.uniform(below: big)
            #expect(y < big)
            if y >= big / 2 { topHalfBig += 1 }
        }
        #expect(binomialConsistent(successes: topHalf128, trials: 2000, probability: 0.5))
        #expect(binomialConsistent(successes: topHalfBig, trials: 2000, probability: 0.5))
    }
}
