import Foundation
import Testing
@testable import Mechanisms

/// Known answers for the Gaussian calibrations. Reference values were computed independently with
/// SciPy (`scipy.stats.norm.cdf` and `scipy.optimize.brentq` on Balle & Wang's δ(σ), xtol 1e-14), and
/// the discrete δ by summing the discrete Gaussian's hockey-stick divergence over all outputs with NumPy.
@Suite("Gaussian calibration")
struct GaussianCalibrationTests {
    @Test("Analytic σ matches the SciPy reference", arguments: [
        (1.0, 1e-5, 1.0, 3.730631634815946),
        (0.5, 1e-6, 1.0, 8.057618480725035),
        (2.0, 1e-5, 3.0, 5.981437336930602),
        (0.1, 1e-5, 1.0, 30.74956613197761),
        (5.0, 1e-8, 1.0, 1.1390127816044422),
    ])
    func analytic(epsilon: Double, delta: Double, sensitivity: Double, expected: Double) throws {
        let sigma = try GaussianCalibration.analytic.sigma(epsilon: epsilon, delta: delta, sensitivity: sensitivity)
        #expect(abs(sigma - expected) <= 1e-9 * expected, "σ = \(sigma), expected \(expected)")
        // The returned σ is on the safe side of the root.
        #expect(GaussianCalibration.analyticDelta(sigma: sigma, epsilon: epsilon, sensitivity: sensitivity) <= delta)
    }

    @Test("Classic σ is the textbook formula and is never below the analytic σ", arguments: [
        (0.1, 1e-5, 1.0), (0.5, 1e-6, 1.0), (0.9, 1e-3, 2.5), (0.99, 1e-10, 1.0),
    ])
    func classicOrdering(epsilon: Double, delta: Double, sensitivity: Double) throws {
        let classic = try GaussianCalibration.classic.sigma(epsilon: epsilon, delta: delta, sensitivity: sensitivity)
        let analytic = try GaussianCalibration.analytic.sigma(epsilon: epsilon, delta: delta, sensitivity: sensitivity)
        #expect(abs(classic - sensitivity * (2 * log(1.25 / delta)).squareRoot() / epsilon) <= 1e-12 * classic)
        #expect(classic > analytic)
    }

    @Test("Classic calibration refuses ε ≥ 1 and names the parameter")
    func classicRefusesLargeEpsilon() {
        for epsilon in [1.0, 2.0] {
            #expect {
                _ = try GaussianCalibration.classic.sigma(epsilon: epsilon, delta: 1e-5, sensitivity: 1)
            } throws: { error in
                let e = error as! VeilError
                return e.code == .invalidParameter && e.message.contains("epsilon") && e.message.contains("(0, 1)")
            }
        }
    }

    @Test("Discrete δ (Theorem 7) matches the summed hockey-stick divergence", arguments: [
        (3.73, 1.0, 1, 1.0366449493400822e-05),
        (2.0, 0.5, 1, 0.054007223694154366),
        (10.3, 1.0, 3, 3.610058660908429e-05),
        (5.5, 2.0, 2, 3.151252249282922e-09),
        (3.7412109375, 1.0, 1, 9.97288939372775e-06),
        (12.5, 0.5, 2, 4.97779651965059e-05),
    ])
    func discreteDelta(sigma: Double, epsilon: Double, sensitivity: Int, expected: Double) {
        let delta = GaussianCalibration.discreteDelta(sigma: sigma, epsilon: epsilon, sensitivity: sensitivity)
        #expect(abs(delta - expected) <= 1e-8 * expected, "δ = \(delta), expected \(expected)")
    }

    @Test("Above the summation limit the discrete δ is an upper bound, within 0.1% beyond √3σ", arguments: [
        (600.0, 0.02, 5, 2.2898066313007646e-05, 1.001),
        (800.0, 0.1, 40, 0.0004461914954745902, 1.001),
        // Thresholds near σ: only the cruder integral comparison applies.
        (800.0, 0.05, 40, 0.004270381820232423, 1.1),
    ])
    func discreteDeltaBound(sigma: Double, epsilon: Double, sensitivity: Int, exact: Double, slack: Double) {
        let bound = GaussianCalibration.discreteDelta(sigma: sigma, epsilon: epsilon, sensitivity: sensitivity)
        #expect(bound >= exact)
        #expect(bound <= exact * slack, "bound \(bound) vs exact \(exact)")
    }

    @Test("Discrete σ for ε = 1, δ = 1e-5, Δ = 1 is the first 12-bit grid point meeting Theorem 7")
    func discreteSigmaKnownAnswer() throws {
        let sigma = try GaussianCalibration.analytic.discreteSigma(epsilon: 1, delta: 1e-5, sensitivity: 1)
        // NumPy: the exact discrete δ at 3.7412109375 is 9.973e-6 and exceeds 1e-5 at the grid point below.
        #expect(sigma == 3.7412109375)
        #expect(sigma > (try GaussianCalibration.analytic.sigma(epsilon: 1, delta: 1e-5, sensitivity: 1)))
        let below = sigma - 0x1p-10
        #expect(GaussianCalibration.discreteDelta(sigma: below, epsilon: 1, sensitivity: 1) > 1e-5)
    }

    @Test("Classic discrete σ is at least the classic formula and the analytic discrete σ")
    func discreteClassic() throws {
        let classic = try GaussianCalibration.classic.discreteSigma(epsilon: 0.5, delta: 1e-6, sensitivity: 2)
        let analytic = try GaussianCalibration.analytic.discreteSigma(epsilon: 0.5, delta: 1e-6, sensitivity: 2)
        #expect(classic >= 2 * (2 * log(1.25 / 1e-6)).squareRoot() / 0.5)
        #expect(classic >= analytic)
    }

    @Test("Rounding to the 12-bit grid goes up by less than 2^-11 relative")
    func grid() {
        for value in [3.7306, 100.0, 1e6 + 0.5, 0.0123] {
            let rounded = GaussianCalibration.roundUpToGrid(value)
            #expect(rounded >= value)
            #expect(rounded - value < value * 0x1p-11)
            #expect(rounded.significandWidth <= 11)
        }
    }
}
