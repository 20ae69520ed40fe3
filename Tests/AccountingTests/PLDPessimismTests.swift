import Accounting
import Foundation
import Testing

/// Pessimism: the accountant never under-reports, so a coarser grid (whose points are a subset of
/// the finer grid's) can only report a larger ε, and the reported pairs stay consistent.
@Suite("PLD pessimism")
struct PLDPessimismTests {
    static let events: [(String, DPEvent)] = [
        ("DP-SGD q=0.01 σ=1 T=1000",
         .selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1)), count: 1000)),
        ("Laplace b=3 ×20", .selfComposed(event: .laplace(noiseMultiplier: 3), count: 20)),
        ("Poisson q=0.1 Laplace b=0.5 ×50",
         .selfComposed(event: .poissonSampled(samplingRate: 0.1, event: .laplace(noiseMultiplier: 0.5)), count: 50)),
        ("discrete Gaussian σ=2 ×10", .selfComposed(event: .discreteGaussian(sigma: 2, sensitivity: 1), count: 10)),
        ("Poisson q=0.2 (ε=1, δ=1e-6) ×30",
         .selfComposed(event: .poissonSampled(samplingRate: 0.2, event: .epsilonDelta(epsilon: 1, delta: 1e-6)), count: 30)),
    ]

    @Test("a coarser grid never reports a smaller ε", arguments: events.indices)
    func coarserIsLarger(_ index: Int) throws {
        let (name, event) = Self.events[index]
        var previous = -Double.infinity
        for step in [1e-4, 1e-3, 1e-2] {
            let epsilon = try PLDAccountant(valueDiscretizationInterval: step).epsilon(for: event, delta: 1e-6)
            // Nested grids: the coarse connect-the-dots pair dominates the fine one. The slack
            // covers differences at the level of the 1e-15 tail truncations and FFT rounding.
            #expect(epsilon >= previous * (1 - 1e-8), "\(name): Δ=\(step) gives \(epsilon) < \(previous)")
            previous = epsilon
        }
    }

    @Test("a coarser grid never reports a smaller δ", arguments: events.indices)
    func coarserDeltaIsLarger(_ index: Int) throws {
        let (name, event) = Self.events[index]
        let fine = try PLDAccountant(valueDiscretizationInterval: 1e-4).delta(for: event, epsilon: 1.0)
        let coarse = try PLDAccountant(valueDiscretizationInterval: 1e-2).delta(for: event, epsilon: 1.0)
        #expect(coarse >= fine * (1 - 1e-9), "\(name): \(coarse) < \(fine)")
    }

    @Test("δ(ε) is non-increasing and ε(δ) inverts it")
    func profileIsMonotone() throws {
        let pld = try PrivacyLossDistribution(
            event: .selfComposed(event: .poissonSampled(samplingRate: 0.05, event: .gaussian(noiseMultiplier: 0.9)), count: 200),
            direction: .remove, valueDiscretizationInterval: 1e-3)
        var last = 1.0
        for i in 0...400 {
            let delta = pld.delta(forEpsilon: Double(i) * 0.01)
            #expect(delta <= last)
            last = delta
        }
        for delta in [1e-2, 1e-4, 1e-6, 1e-9] {
            let epsilon = pld.epsilon(forDelta: delta)
            #expect(abs(pld.delta(forEpsilon: epsilon) - delta) <= 1e-9 * delta)
            #expect(pld.delta(forEpsilon: epsilon * 0.999) > delta)
        }
    }

    @Test("the discretised PLD keeps all probability mass (moved, never dropped)")
    func massIsKept() throws {
        for direction in NeighbouringDirection.allCases {
            let pld = try PrivacyLossDistribution(
                event: .poissonSampled(samplingRate: 0.05, event: .gaussian(noiseMultiplier: 0.7)),
                direction: direction, valueDiscretizationInterval: 1e-4)
            #expect(abs(pld.finiteMass + pld.infinityMass - 1) < 1e-12)
            // Connect-the-dots keeps the Q-mass Σ p e^{−ℓ} too (≤ 1 with the truncated tails).
            let qMass = pld.probabilities.enumerated().reduce(0.0) {
                $0 + $1.element * exp(-pld.loss(atIndex: pld.lowestIndex + $1.offset))
            }
            #expect(qMass <= 1 + 1e-12)
            #expect(qMass >= 1 - 1e-9)
        }
    }
}
