import Foundation
import Testing
@testable import Mechanisms

@Suite("Noise mechanisms")
struct NoiseMechanismTests {
    // MARK: Events

    @Test("Discrete Laplace mechanism: scale Δ/ε, event and exact ε")
    func discreteLaplaceEvent() throws {
        let m = try DiscreteLaplaceMechanism(epsilon: 0.5, sensitivity: 3)
        #expect(m.scale == 6)
        #expect(m.event == .discreteLaplace(scale: 6, sensitivity: 3))
        // ε = 0.1 is not a dyadic number; the scale is rounded up so that Δ/scale ≤ ε exactly.
        let tenth = try DiscreteLaplaceMechanism(epsilon: 0.1, sensitivity: 1)
        #expect(Rational(1) / Rational(exactly: tenth.scale)! <= Rational(exactly: 0.1)!)
        #expect(tenth.scale - 10 < 1e-9)
    }

    @Test("Discrete Gaussian mechanism: calibrated σ, event and ρ")
    func discreteGaussianEvent() throws {
        let m = try DiscreteGaussianMechanism(epsilon: 1, delta: 1e-5, sensitivity: 1)
        #expect(m.sigma == 3.7412109375)
        #expect(m.event == .discreteGaussian(sigma: 3.7412109375, sensitivity: 1))
        #expect(abs(m.rho - 1 / (2 * 3.7412109375 * 3.7412109375)) < 1e-15)
        let byRho = try DiscreteGaussianMechanism(rho: 0.5, sensitivity: 2)
        #expect(byRho.sigma == 2)
        #expect(byRho.rho == 0.5)
        let bySigma = try DiscreteGaussianMechanism(sigma: 100, sensitivity: 1)
        #expect(bySigma.event == .discreteGaussian(sigma: 100, sensitivity: 1))
        #expect(bySigma.epsilon == nil)
    }

    // MARK: Granularity

    @Test("Granularity: power of two below the noise scale, rounding and the sensitivity it implies")
    func granularity() throws {
        let g = try Granularity(noiseScale: 1)
        #expect(g.exponent == -20)
        #expect(try Granularity(noiseScale: 3.73).exponent == 2 - 20)
        #expect(try Granularity(noiseScale: 4).exponent == 2 - 20)
        let coarse = try Granularity(exponent: -3)   // g = 0.125
        #expect(try coarse.integerSensitivity(0.3) == 3)   // ⌊2.4⌋ + 1
        #expect(try coarse.integerSensitivity(0.25) == 3)  // ⌊2⌋ + 1: an exact multiple still gains one
        #expect(try coarse.index(of: 0.3) == 2)             // 0.3 / 0.125 = 2.4 → 2
        #expect(try coarse.index(of: 0.1875) == 2)          // 1.5 → 2 (ties to even)
        #expect(try coarse.index(of: -0.3) == -2)
        #expect(coarse.value(ofIndex: 5) == 0.625)
    }

    @Test("Rounding cannot move neighbouring values further apart than ⌊Δ/g⌋ + 1 grid units")
    func roundingSensitivity() throws {
        let g = try Granularity(exponent: -3)
        let sensitivity = 0.3
        let units = try g.integerSensitivity(sensitivity)
        var source = InsecureSeededRandomSource(seed: 7)
        for _ in 0..<10_000 {
            let x = Double(source.uniform(below: 1 << 20)) / 1024 - 512
            let shift = Double(source.uniform(below: 1 << 20)) / Double(1 << 20) * sensitivity
            let a = try g.index(of: x), b = try g.index(of: x + shift)
            #expect(abs(a - b) <= units)
        }
    }

    @Test("Granular Laplace: event in grid units and releases on the grid")
    func granularLaplace() throws {
        let m = try GranularLaplaceMechanism(epsilon: 1, sensitivity: 1)
        let g = 0x1p-20
        #expect(m.granularity.value == g)
        #expect(m.integerSensitivity == (1 << 20) + 1)
        #expect(m.integerScale == Double((1 << 20) + 1))
        #expect(m.event == .discreteLaplace(scale: Double((1 << 20) + 1), sensitivity: (1 << 20) + 1))
        #expect(m.scale >= 1)
        var source = InsecureSeededRandomSource(seed: 3)
        for _ in 0..<100 {
            let release = try m.release(12.345678, using: &source)
            #expect((release.value / g).rounded() == release.value / g)
            #expect(release.interval.upperBound - release.value == m.halfWidth)
            #expect(release.event == m.event)
        }
    }

    @Test("Granular Gaussian: σ in grid units covers the continuous σ and meets δ for Δ_g")
    func granularGaussian() throws {
        let m = try GranularGaussianMechanism(epsilon: 1, delta: 1e-5, sensitivity: 2)
        let continuous = try GaussianCalibration.analytic.sigma(epsilon: 1, delta: 1e-5, sensitivity: 2)
        #expect(m.granularity == (try Granularity(noiseScale: continuous)))
        #expect(m.integerSensitivity == Int((2 / m.granularity.value).rounded(.down)) + 1)
        #expect(m.sigma >= continuous)
        #expect(m.sigma <= continuous * 1.001)
        #expect(GaussianCalibration.discreteDelta(sigma: m.integerSigma, epsilon: 1,
                                                  sensitivity: m.integerSensitivity) <= 1e-5)
        #expect(m.event == .discreteGaussian(sigma: m.integerSigma, sensitivity: m.integerSensitivity))
        let bySigma = try GranularGaussianMechanism(sigma: 10, sensitivity: 1)
        #expect(bySigma.sigma >= 10)
        #expect(bySigma.granularity.exponent == 4 - 20)
        #expect(bySigma.integerSensitivity == (1 << 16) + 1)
    }

    @Test("Classic calibration gives more noise than analytic for the same target")
    func classicVersusAnalytic() throws {
        let classic = try DiscreteGaussianMechanism(epsilon: 0.5, delta: 1e-6, sensitivity: 1, calibration: .classic)
        let analytic = try DiscreteGaussianMechanism(epsilon: 0.5, delta: 1e-6, sensitivity: 1)
        #expect(classic.sigma > analytic.sigma)
        let classicReal = try GranularGaussianMechanism(epsilon: 0.5, delta: 1e-6, sensitivity: 1, calibration: .classic)
        let analyticReal = try GranularGaussianMechanism(epsilon: 0.5, delta: 1e-6, sensitivity: 1)
        #expect(classicReal.sigma > analyticReal.sigma)
    }

    @Test("Releases saturate instead of overflowing")
    func saturation() throws {
        let m = try DiscreteLaplaceMechanism(epsilon: 0.01)
        var source = InsecureSeededRandomSource(seed: 9)
        for _ in 0..<100 {
            let r = m.release(Int.max, using: &source)
            #expect(r.interval.contains(r.value))
            #expect(r.value > Int.max - 10_000)
        }
    }
}
