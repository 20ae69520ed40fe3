import Foundation
import Testing
@testable import Mechanisms

/// Interval half-widths are exact quantiles (or documented bounds), and seeded runs of many
/// releases cover the truth at the computed rate. Each coverage check fails a correct
/// implementation with probability at most ``StatisticalBudget/alpha`` over the seed.
@Suite("Confidence intervals")
struct ConfidenceIntervalTests {
    static let releases = 20_000

    @Test("Discrete Laplace half-width is the exact quantile", arguments: [(1.0, 0.95), (2.0, 0.9), (37.5, 0.99), (1e6, 0.95)])
    func laplaceQuantile(scale: Double, level: Double) throws {
        let m = try NoiseQuantile.discreteLaplaceHalfWidth(scale: scale, level: level)
        #expect(NoiseQuantile.discreteLaplaceTail(scale: scale, beyond: m) <= 1 - level)
        if m > 0 { #expect(NoiseQuantile.discreteLaplaceTail(scale: scale, beyond: m - 1) > 1 - level) }
        // Cross-check the closed form with a direct sum of the mass function.
        let pmf = discreteLaplacePMF(scale: scale, range: -m...m)
        if scale < 100 { #expect(abs((1 - pmf.reduce(0, +)) - NoiseQuantile.discreteLaplaceTail(scale: scale, beyond: m)) < 1e-12) }
    }

    @Test("Discrete Gaussian half-width is the exact quantile below the summation limit", arguments: [(1.0, 0.95), (3.7412109375, 0.9), (100.0, 0.99)])
    func gaussianQuantile(sigma: Double, level: Double) throws {
        let m = try NoiseQuantile.discreteGaussianHalfWidth(sigma: sigma, level: level)
        let inside = discreteGaussianPMF(sigmaSquared: sigma * sigma, range: -m...m).reduce(0, +)
        #expect(inside >= level)
        if m > 0 {
            let smaller = discreteGaussianPMF(sigmaSquared: sigma * sigma, range: -(m - 1)...(m - 1)).reduce(0, +)
            #expect(smaller < level)
        }
    }

    @Test("Above the summation limit the Gaussian half-width is conservative by at most 2")
    func gaussianQuantileBound() throws {
        let sigma = 1000.0
        let m = try NoiseQuantile.discreteGaussianHalfWidth(sigma: sigma, level: 0.95)
        // Continuous reference: the exact discrete quantile lies within one unit of σ·z.
        let z = 1.959963984540054
        #expect(Double(m) >= sigma * z)
        #expect(Double(m) <= sigma * z + 2)
    }

    @Test("Integer Laplace releases cover the truth at the exact rate")
    func laplaceCoverage() throws {
        let mechanism = try DiscreteLaplaceMechanism(epsilon: 0.5, sensitivity: 1, confidenceLevel: 0.9)
        let rate = 1 - NoiseQuantile.discreteLaplaceTail(scale: mechanism.scale, beyond: mechanism.halfWidth)
        #expect(rate >= 0.9)
        var source = InsecureSeededRandomSource(seed: 101)
        var covered = 0
        for _ in 0..<Self.releases where mechanism.release(17, using: &source).interval.contains(17) { covered += 1 }
        #expect(binomialConsistent(successes: covered, trials: Self.releases, probability: rate), "\(covered) covered, rate \(rate)")
    }

    @Test("Integer Gaussian releases cover the truth at the exact rate")
    func gaussianCoverage() throws {
        let mechanism = try DiscreteGaussianMechanism(epsilon: 1, delta: 1e-5, confidenceLevel: 0.95)
        let m = mechanism.halfWidth
        let rate = discreteGaussianPMF(sigmaSquared: mechanism.sigma * mechanism.sigma, range: -m...m).reduce(0, +)
        var source = InsecureSeededRandomSource(seed: 102)
        var covered = 0
        for _ in 0..<Self.releases where mechanism.release(-4, using: &source).interval.contains(-4) { covered += 1 }
        #expect(binomialConsistent(successes: covered, trials: Self.releases, probability: rate), "\(covered) covered, rate \(rate)")
    }

    @Test("Real-valued releases cover the truth at least at the stated level")
    func granularCoverage() throws {
        let laplace = try GranularLaplaceMechanism(epsilon: 1, sensitivity: 2.5, confidenceLevel: 0.95)
        let gaussian = try GranularGaussianMechanism(epsilon: 1, delta: 1e-6, sensitivity: 2.5, confidenceLevel: 0.95)
        var source = InsecureSeededRandomSource(seed: 103)
        let truth = 1234.56789
        var coveredLaplace = 0, coveredGaussian = 0
        for _ in 0..<Self.releases {
            if try laplace.release(truth, using: &source).interval.contains(truth) { coveredLaplace += 1 }
            if try gaussian.release(truth, using: &source).interval.contains(truth) { coveredGaussian += 1 }
        }
        // The rounding term g/2 in the half-width makes coverage at least the noise quantile's mass;
        // with integer scales near 2^20 that mass exceeds 0.95 by less than 10^-5.
        for covered in [coveredLaplace, coveredGaussian] {
            #expect(binomialConsistent(successes: covered, trials: Self.releases, probability: 0.95), "\(covered) covered")
        }
        #expect(laplace.halfWidth > 2.5 * log(20) * 0.99)
        #expect(gaussian.halfWidth > gaussian.sigma * 1.95)
    }
}
