import Accounting
import Foundation
import Testing

/// Composition by FFT: composed Gaussians against the equivalent single Gaussian, the direct and
/// FFT paths against each other, infinity masses, and the identity cases.
@Suite("PLD composition")
struct PLDCompositionTests {
    let step = 1e-4

    @Test("k Gaussians of noise σ compose to one Gaussian of noise σ/√k, from above",
          arguments: [(2.0, 4), (3.0, 16), (10.0, 100)])
    func selfComposedGaussians(sigma: Double, count: Int) throws {
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        let equivalent = sigma / Double(count).squareRoot()
        for delta in [1e-3, 1e-6] {
            let exact = PLDClosedFormTests.exactGaussianEpsilon(sigma: equivalent, delta: delta)
            let composed = try accountant.epsilon(
                for: .selfComposed(event: .gaussian(noiseMultiplier: sigma), count: count), delta: delta)
            #expect(composed >= exact - 1e-9, "σ=\(sigma) k=\(count) δ=\(delta): \(composed) < exact \(exact)")
            #expect(composed <= exact * 1.001 + step, "σ=\(sigma) k=\(count) δ=\(delta): \(composed) vs \(exact)")
        }
    }

    @Test("different Gaussians compose to the Gaussian of noise (Σ σᵢ⁻²)^(−1/2)")
    func composedDistinctGaussians() throws {
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        let sigmas = [1.5, 2.0, 3.0, 2.5]
        let equivalent = 1 / sigmas.reduce(0) { $0 + 1 / ($1 * $1) }.squareRoot()
        let event = DPEvent.composed(sigmas.map { .gaussian(noiseMultiplier: $0) })
        for epsilon in [0.1, 0.5, 1.0, 2.0] {
            let exact = PLDClosedFormTests.exactGaussianDelta(sigma: equivalent, epsilon: epsilon)
            let delta = try accountant.delta(for: event, epsilon: epsilon)
            #expect(delta >= exact * (1 - 1e-9), "ε=\(epsilon): \(delta) < exact \(exact)")
            #expect(delta <= exact * 1.001, "ε=\(epsilon): \(delta) vs exact \(exact)")
        }
    }

    @Test("composing a PLD with itself directly agrees with raising its transform to a power")
    func composedMatchesSelfComposed() throws {
        let base = try PrivacyLossDistribution(
            event: .poissonSampled(samplingRate: 0.1, event: .gaussian(noiseMultiplier: 1.0)),
            direction: .remove, valueDiscretizationInterval: step)
        var repeated = try PrivacyLossDistribution.identity(valueDiscretizationInterval: step)
        for _ in 0..<5 { repeated = try repeated.composed(with: base) }
        let powered = try base.selfComposed(5)
        for delta in [1e-3, 1e-5, 1e-7] {
            let a = repeated.epsilon(forDelta: delta), b = powered.epsilon(forDelta: delta)
            #expect(abs(a - b) <= 1e-7 * max(1, a), "δ=\(delta): \(a) vs \(b)")
        }
        #expect(abs(repeated.finiteMass - powered.finiteMass) < 1e-9)
        // Without a window (tail mass 0) the power keeps the whole support and matches too.
        let exact = try base.selfComposed(5, tailMassTruncation: 0)
        #expect(exact.lowestIndex >= 5 * base.lowestIndex)
        #expect(exact.lowestIndex + exact.probabilities.count <= 5 * (base.lowestIndex + base.probabilities.count - 1) + 1)
        #expect(abs(exact.finiteMass - 1) < 1e-9)
        #expect(abs(exact.epsilon(forDelta: 1e-5) - powered.epsilon(forDelta: 1e-5)) <= 1e-7)
        #expect(throws: VeilError.self) { try base.selfComposed(5, tailMassTruncation: -1) }
        #expect(throws: VeilError.self) { try base.composed(with: base, tailMassTruncation: .nan) }
    }

    @Test("mixed events compose, and nested self-compositions multiply their counts")
    func mixedAndNested() throws {
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        let sampled = DPEvent.poissonSampled(samplingRate: 0.02, event: .gaussian(noiseMultiplier: 1.2))
        let nested = try accountant.epsilon(for: .selfComposed(event: .selfComposed(event: sampled, count: 50), count: 20), delta: 1e-5)
        let flat = try accountant.epsilon(for: .selfComposed(event: sampled, count: 1000), delta: 1e-5)
        #expect(abs(nested - flat) <= 1e-6 * flat)

        let mixed = DPEvent.composed([
            .selfComposed(event: sampled, count: 300),
            .laplace(noiseMultiplier: 10),
            .discreteGaussian(sigma: 4, sensitivity: 1),
            .epsilonDelta(epsilon: 0.1, delta: 1e-7),
        ])
        let total = try accountant.epsilon(for: mixed, delta: 1e-5)
        let part = try accountant.epsilon(for: .selfComposed(event: sampled, count: 300), delta: 1e-5)
        // Adding mechanisms costs privacy, but less than the sum of their pure ε's.
        #expect(total > part)
        #expect(total < part + 0.1 + 0.1 + 1.0)
    }

    @Test("infinity masses compose as 1 − Π(1 − mᵢ)")
    func infinityMasses() throws {
        let pair = try PrivacyLossDistribution(event: .epsilonDelta(epsilon: 0.5, delta: 1e-3),
                                               direction: .remove, valueDiscretizationInterval: step)
        #expect(pair.infinityMass == 1e-3)
        let tenfold = try pair.selfComposed(10)
        let expected: Double = 1 - pow(1 - 1e-3, 10.0)
        #expect(abs(tenfold.infinityMass - expected) <= 1e-14)
        // Above every finite loss only the infinity mass is left.
        #expect(abs(tenfold.delta(forEpsilon: 5.0 + 10 * step) - expected) <= 1e-14)
        let other = try PrivacyLossDistribution(event: .epsilonDelta(epsilon: 0.2, delta: 2e-3),
                                                direction: .remove, valueDiscretizationInterval: step)
        let both = try pair.composed(with: other)
        #expect(abs(both.infinityMass - (1 - (1 - 1e-3) * (1 - 2e-3))) <= 1e-15)
    }

    @Test("nothing released costs nothing")
    func identities() throws {
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        for event: DPEvent in [.noOp,
                               .selfComposed(event: .gaussian(noiseMultiplier: 1), count: 0),
                               .poissonSampled(samplingRate: 0, event: .laplace(noiseMultiplier: 1))] {
            #expect(try accountant.epsilon(for: event, delta: 1e-6) == 0)
            #expect(try accountant.delta(for: event, epsilon: 0) == 0)
        }
        let identity = try PrivacyLossDistribution.identity(valueDiscretizationInterval: step)
        #expect(identity.probabilities == [1] && identity.lowestIndex == 0 && identity.infinityMass == 0)
        let gaussian = try PrivacyLossDistribution(event: .gaussian(noiseMultiplier: 1), direction: .remove,
                                                   valueDiscretizationInterval: step)
        #expect(try gaussian.selfComposed(1) == gaussian)
        #expect(try gaussian.selfComposed(0) == identity)
    }

    @Test("a Poisson sample of a Poisson sample is one Poisson sample at the product rate")
    func nestedSampling() throws {
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        let nested = DPEvent.poissonSampled(samplingRate: 0.5,
                                            event: .poissonSampled(samplingRate: 0.1, event: .gaussian(noiseMultiplier: 1)))
        let single = DPEvent.poissonSampled(samplingRate: 0.05, event: .gaussian(noiseMultiplier: 1))
        #expect(try accountant.epsilon(for: nested, delta: 1e-6) == accountant.epsilon(for: single, delta: 1e-6))
    }
}

@Suite("PLD values")
struct PLDValueTests {
    @Test("a PLD survives a JSON round trip, and decoding validates")
    func codableRoundTrip() throws {
        let pld = try PrivacyLossDistribution(event: .laplace(noiseMultiplier: 2), direction: .remove,
                                              valueDiscretizationInterval: 1e-3)
        let data = try JSONEncoder().encode(pld)
        let decoded = try JSONDecoder().decode(PrivacyLossDistribution.self, from: data)
        #expect(decoded == pld)
        let bad = Data(#"{"value_discretization_interval":0.001,"lowest_index":0,"probabilities":[0.7,0.7],"infinity_mass":0}"#.utf8)
        #expect(throws: VeilError.self) { try JSONDecoder().decode(PrivacyLossDistribution.self, from: bad) }
    }
}
