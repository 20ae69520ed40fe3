import Accounting
import Foundation
import Testing

@Suite("zCDP")
struct ZCDPTests {
    @Test("ρ of each event kind")
    func rhoPerEvent() throws {
        #expect(try ZCDP.rho(for: .gaussian(noiseMultiplier: 2)) == 1.0 / 8)
        #expect(try ZCDP.rho(for: .discreteGaussian(sigma: 4, sensitivity: 2)) == 4.0 / 32)
        #expect(try ZCDP.rho(for: .laplace(noiseMultiplier: 2)) == 0.125)
        #expect(try ZCDP.rho(for: .discreteLaplace(scale: 4, sensitivity: 2)) == 0.125)
        #expect(try ZCDP.rho(for: .composed([.gaussian(noiseMultiplier: 1),
                                             .selfComposed(event: .gaussian(noiseMultiplier: 2), count: 4)])) == 1.0)
        #expect(throws: VeilError.self) { try ZCDP.rho(for: .epsilonDelta(epsilon: 1, delta: 1e-6)) }
        #expect(throws: VeilError.self) {
            try ZCDP.rho(for: .poissonSampled(samplingRate: 0.5, event: .gaussian(noiseMultiplier: 1)))
        }
    }

    @Test("conversion beats the classic bound and matches the RDP conversion of the line αρ")
    func conversion() throws {
        for rho in [0.01, 0.1, 1.0, 5.0] {
            let eps = try ZCDP.epsilon(rho: rho, delta: 1e-6)
            #expect(eps <= rho + 2 * (rho * log(1e6)).squareRoot())
            // Over a fine grid of orders the RDP conversion of ε_R(α) = αρ can only be ≥ the
            // continuous optimum, and close to it.
            let orders = (1...20_000).map { 1 + Double($0) / 100 }
            let rdp = try RDPConversion.epsilon(orders: orders, rdp: orders.map { $0 * rho }, delta: 1e-6)
            #expect(eps <= rdp.epsilon + 1e-12)
            #expect(eps >= rdp.epsilon - 1e-3 * rdp.epsilon)
            // δ at that ε is the target δ.
            let delta = try ZCDP.delta(rho: rho, epsilon: eps)
            #expect(abs(delta - 1e-6) / 1e-6 < 1e-3)
        }
    }
}

@Suite("Noise calibration")
struct NoiseCalibrationTests {
    @Test("RDP calibration within 1% of dp_accounting's σ, and conservative",
          arguments: ReferenceCases.shared.calibrationCases)
    func rdpCalibration(_ c: ReferenceCases.CalibrationCase) throws {
        let (sigma, epsilon) = try NoiseCalibration.noiseMultiplier(
            targetEpsilon: c.targetEpsilon, samplingRate: c.samplingRate, steps: c.steps, delta: c.delta,
            accountant: RDPAccountant())
        #expect(abs(sigma - c.rdpNoiseMultiplier) / c.rdpNoiseMultiplier < 0.01)
        #expect(epsilon <= c.targetEpsilon)
        let recomputed = try RDPAccountant().epsilon(
            for: NoiseCalibration.dpsgdEvent(samplingRate: c.samplingRate, noiseMultiplier: sigma, steps: c.steps),
            delta: c.delta)
        #expect(recomputed == epsilon)
        // 0.1% less noise would overshoot the target: the search found the smallest σ.
        let smaller = try RDPAccountant().epsilon(
            for: NoiseCalibration.dpsgdEvent(samplingRate: c.samplingRate, noiseMultiplier: sigma * 0.999, steps: c.steps),
            delta: c.delta)
        #expect(smaller > c.targetEpsilon)
    }

    @Test("bad targets are refused with the parameter's name")
    func badInput() {
        for (eps, q, steps, delta, name) in [(0.0, 0.1, 10, 1e-5, "target epsilon"), (1.0, 0.0, 10, 1e-5, "sampling rate"),
                                             (1.0, 0.1, 0, 1e-5, "steps"), (1.0, 0.1, 10, 1.0, "delta")] {
            do {
                _ = try NoiseCalibration.noiseMultiplier(targetEpsilon: eps, samplingRate: q, steps: steps,
                                                         delta: delta, accountant: RDPAccountant())
                Issue.record("accepted \(name)")
            } catch let error as VeilError {
                #expect(error.code == .invalidParameter)
                #expect(error.message.hasPrefix(name))
            } catch { Issue.record("unexpected \(error)") }
        }
    }
}
