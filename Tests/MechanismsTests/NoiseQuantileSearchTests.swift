import Foundation
import Testing
@testable import Mechanisms

/// Quantiles come from a galloping bisection rather than from stepping one integer at a time: the same values at
/// ordinary scales, and answers in microseconds at the largest scales the samplers accept (stepping took hours
/// there, e.g. 3·10^15 steps at scale 4·10^15).
@Suite("Noise quantile search")
struct NoiseQuantileSearchTests {
    /// The previous implementation: the closed-form estimate, then one integer at a time.
    static func steppedLaplaceHalfWidth(scale: Double, level: Double) -> Int {
        let alpha = 1 - level
        let p = Foundation.exp(-1 / scale)
        let estimate = (-scale * Foundation.log(alpha * (1 + p) / 2)).rounded(.up) - 1
        var m = Int(max(0, min(estimate, 9e15)))
        while m > 0 && NoiseQuantile.discreteLaplaceTail(scale: scale, beyond: m - 1) <= alpha { m -= 1 }
        while NoiseQuantile.discreteLaplaceTail(scale: scale, beyond: m) > alpha { m += 1 }
        return m
    }

    /// The previous partition-selection search: smallest t ≥ 1 with P(Y ≥ t) ≤ p, one integer at a time.
    static func steppedGaussianUpperQuantile(sigma: Double, probability: Double) -> Int {
        func tail(_ t: Int) -> Double { NoiseQuantile.discreteGaussianTail(sigma: sigma, beyond: t - 1) / 2 }
        var t = max(1, Int((sigma * (2 * Foundation.log(1 / probability)).squareRoot()).rounded(.down)) - 2)
        while t > 1 && tail(t - 1) <= probability { t -= 1 }
        while tail(t) > probability { t += 1 }
        return t
    }

    static let laplaceCases: [(Double, Double)] = [0.01, 0.3, 1, 2, 37.5, 1000, 12_345.678, 1e6, 3.3e7].flatMap { scale in
        [0.5, 0.9, 0.95, 0.99, 0.999999].map { (scale, $0) }
    }

    @Test("Discrete Laplace half-widths equal the stepping search's at moderate scales", arguments: laplaceCases)
    func laplaceMatchesStepping(scale: Double, level: Double) throws {
        #expect(try NoiseQuantile.discreteLaplaceHalfWidth(scale: scale, level: level)
                == Self.steppedLaplaceHalfWidth(scale: scale, level: level))
    }

    static let gaussianCases: [(Double, Double)] = [0.5, 3.7412109375, 100, 511, 600, 10_000, 1e6].flatMap { sigma in
        [0.01, 1e-6, 1e-10, 2.5e-13].map { (sigma, $0) }
    }

    @Test("Discrete Gaussian tail quantiles equal the stepping search's", arguments: gaussianCases)
    func gaussianMatchesStepping(sigma: Double, probability: Double) throws {
        #expect(try NoiseQuantile.discreteGaussianUpperQuantile(sigma: sigma, tailProbability: probability)
                == Self.steppedGaussianUpperQuantile(sigma: sigma, probability: probability))
    }

    @Test("Huge scales are answered at once, with the exact quantile of the computed tail",
          .timeLimit(.minutes(1)), arguments: [4e15, 0x1p52, 2.5e13])
    func hugeLaplaceScale(scale: Double) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let m = try NoiseQuantile.discreteLaplaceHalfWidth(scale: scale, level: 0.95)
        #expect(clock.now - start < .seconds(5))  // microseconds when idle; stepping took minutes
        let alpha = 1 - 0.95
        #expect(NoiseQuantile.discreteLaplaceTail(scale: scale, beyond: m) <= alpha)
        #expect(NoiseQuantile.discreteLaplaceTail(scale: scale, beyond: m - 1) > alpha)
        // Known answer: b·ln(20) up to the rounding of the computed tail (relative 1e−9).
        #expect(abs(Double(m) / (scale * Foundation.log(20)) - 1) < 1e-9)
    }

    @Test("Huge σ: tail quantile and half-width at once", .timeLimit(.minutes(1)))
    func hugeGaussianSigma() throws {
        let sigma = 0x1p50
        let t = try NoiseQuantile.discreteGaussianUpperQuantile(sigma: sigma, tailProbability: 1e-6)
        // Q⁻¹(10^−6) = 4.753424308822899; the bound 2·Q(m/σ)/2 makes t = ⌈σ·z⌉ + 1 up to float rounding.
        #expect(abs(Double(t) / (sigma * 4.753424308822899) - 1) < 1e-9)
        let m = try NoiseQuantile.discreteGaussianHalfWidth(sigma: sigma, level: 0.95)
        #expect(abs(Double(m) / (sigma * 1.959963984540054) - 1) < 1e-9)
    }

    @Test("A Laplace mechanism at the largest scale is created at once", .timeLimit(.minutes(1)))
    func largestMechanism() throws {
        // Δ = 4·10^18 at ε = 1000: scale 4·10^15, the metadata case that ran for more than ten minutes.
        let mechanism = try DiscreteLaplaceMechanism(epsilon: 1000, sensitivity: 4_000_000_000_000_000_000)
        #expect(mechanism.scale >= 4e15)
        #expect(NoiseQuantile.discreteLaplaceTail(scale: mechanism.scale, beyond: mechanism.halfWidth) <= 1 - 0.95)
    }

    @Test("Gaussian calibration refuses an ε too small for a finite σ instead of looping", .timeLimit(.minutes(1)))
    func tinyEpsilonGaussian() {
        #expect(throws: VeilError.self) { _ = try DiscreteGaussianMechanism(epsilon: 0x1p-1063, delta: 1e-5) }
        do {
            _ = try GaussianCalibration.analytic.sigma(epsilon: 0x1p-1063, delta: 1e-5, sensitivity: 1)
            Issue.record("a σ was returned for ε = 2^−1063 (about 1e−320)")
        } catch let error as VeilError {
            #expect(error.code == .invalidParameter)
            #expect(error.message.contains("no finite Gaussian sigma"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
