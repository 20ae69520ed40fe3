import Accounting
import Foundation
import Testing

/// Checks of single mechanisms against closed-form or directly summed privacy profiles: the PLD
/// accountant's δ(ε) must never be below the exact one, and only slightly above it.
@Suite("PLD accountant against exact privacy profiles")
struct PLDClosedFormTests {
    // MARK: Gaussian

    /// Standard normal CDF.
    static func phi(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// The Gaussian mechanism's exact profile (Balle & Wang 2018, the analytic Gaussian mechanism):
    /// `δ(ε) = Φ(−εσ + 1/(2σ)) − e^ε Φ(−εσ − 1/(2σ))`.
    static func exactGaussianDelta(sigma: Double, epsilon: Double) -> Double {
        phi(-epsilon * sigma + 1 / (2 * sigma)) - exp(epsilon) * phi(-epsilon * sigma - 1 / (2 * sigma))
    }

    /// The ε with `exactGaussianDelta(σ, ε) = δ`, by bisection.
    static func exactGaussianEpsilon(sigma: Double, delta: Double) -> Double {
        var lo = 0.0, hi = 200.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if exactGaussianDelta(sigma: sigma, epsilon: mid) > delta { lo = mid } else { hi = mid }
        }
        return hi
    }

    @Test("Gaussian δ(ε) is at least the exact δ and within 0.01% of it",
          arguments: [0.5, 1.0, 2.0, 5.0])
    func gaussianDelta(sigma: Double) throws {
        let accountant = try PLDAccountant()
        for epsilon in [0.0, 0.05, 0.5, 1.0, 2.0, 4.0] {
            let exact = Self.exactGaussianDelta(sigma: sigma, epsilon: epsilon)
            guard exact > 1e-14 else { continue }
            let delta = try accountant.delta(for: .gaussian(noiseMultiplier: sigma), epsilon: epsilon)
            #expect(delta >= exact * (1 - 1e-12), "σ=\(sigma) ε=\(epsilon): \(delta) < exact \(exact)")
            #expect(delta <= exact * (1 + 1e-4), "σ=\(sigma) ε=\(epsilon): \(delta) vs exact \(exact)")
        }
    }

    @Test("Gaussian ε(δ) is at least the exact ε and within one grid step of it",
          arguments: [0.5, 1.0, 2.0, 5.0])
    func gaussianEpsilon(sigma: Double) throws {
        let step = 1e-4
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        for delta in [1e-3, 1e-5, 1e-8] {
            let exact = Self.exactGaussianEpsilon(sigma: sigma, delta: delta)
            let epsilon = try accountant.epsilon(for: .gaussian(noiseMultiplier: sigma), delta: delta)
            #expect(epsilon >= exact - 1e-9, "σ=\(sigma) δ=\(delta): \(epsilon) < exact \(exact)")
            #expect(epsilon <= exact + step, "σ=\(sigma) δ=\(delta): \(epsilon) vs exact \(exact)")
        }
    }

    @Test("Poisson-subsampled Gaussian: each direction matches its exact single-step profile")
    func subsampledGaussianDirections() throws {
        let step = 1e-4
        for (q, sigma) in [(0.01, 0.8), (0.2, 1.0), (0.5, 2.0)] {
            let event = DPEvent.poissonSampled(samplingRate: q, event: .gaussian(noiseMultiplier: sigma))
            let remove = try PrivacyLossDistribution(event: event, direction: .remove, valueDiscretizationInterval: step)
            let add = try PrivacyLossDistribution(event: event, direction: .add, valueDiscretizationInterval: step)
            for epsilon in [0.01, 0.1, 0.5, 1.0] {
                // remove: P = (1−q)N(0,σ²) + qN(1,σ²), Q = N(0,σ²); region x > x*.
                let ellRemove = log((exp(epsilon) - 1 + q) / q)
                let xRemove = sigma * sigma * ellRemove + 0.5
                let exactRemove = (1 - q) * Self.phi(-xRemove / sigma) + q * Self.phi(-(xRemove - 1) / sigma)
                    - exp(epsilon) * Self.phi(-xRemove / sigma)
                // add: P = N(0,σ²), Q = (1−q)N(0,σ²) + qN(1,σ²); region x < x* (empty if e^{−ε} ≤ 1−q).
                var exactAdd = 0.0
                if exp(-epsilon) > 1 - q {
                    let xAdd = sigma * sigma * log((exp(-epsilon) - 1 + q) / q) + 0.5
                    exactAdd = Self.phi(xAdd / sigma)
                        - exp(epsilon) * ((1 - q) * Self.phi(xAdd / sigma) + q * Self.phi((xAdd - 1) / sigma))
                }
                for (pld, exact, name) in [(remove, exactRemove, "remove"), (add, exactAdd, "add")] {
                    let delta = pld.delta(forEpsilon: epsilon)
                    #expect(delta >= exact - 1e-15, "q=\(q) σ=\(sigma) ε=\(epsilon) \(name): \(delta) < \(exact)")
                    #expect(delta <= exact * (1 + 1e-4) + 1e-14, "q=\(q) σ=\(sigma) ε=\(epsilon) \(name): \(delta) vs \(exact)")
                }
            }
            // The accountant reports the worse direction.
            let accountant = try PLDAccountant(valueDiscretizationInterval: step)
            let reported = try accountant.delta(for: event, epsilon: 0.5)
            #expect(reported == max(remove.delta(forEpsilon: 0.5), add.delta(forEpsilon: 0.5)))
        }
    }

    // MARK: Laplace

    @Test("Laplace: δ(ε) = 1 − e^{(ε − 1/b)/2} from above, and ε at δ → 0 is 1/b up to Δ",
          arguments: [0.7, 1.0, 2.3])
    func laplace(scale: Double) throws {
        let step = 1e-4
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        let event = DPEvent.laplace(noiseMultiplier: scale)
        for fraction in [0.0, 0.3, 0.9] {
            let epsilon = fraction / scale
            let exact = -expm1((epsilon - 1 / scale) / 2)
            let delta = try accountant.delta(for: event, epsilon: epsilon)
            #expect(delta >= exact * (1 - 1e-12), "b=\(scale) ε=\(epsilon): \(delta) < \(exact)")
            #expect(delta <= exact * (1 + 1e-4), "b=\(scale) ε=\(epsilon): \(delta) vs \(exact)")
        }
        let epsilon = try accountant.epsilon(for: event, delta: 1e-12)
        #expect(epsilon >= 1 / scale - 1e-9)
        #expect(epsilon <= 1 / scale + step)
        #expect(try accountant.delta(for: event, epsilon: 1 / scale + step) == 0)
    }

    // MARK: (ε, δ) pairs

    @Test("epsilonDelta(ε, δ) alone certifies ε at δ, up to one grid step",
          arguments: [(0.1, 1e-6), (1.0, 1e-5), (2.5, 0.0), (0.0, 0.01), (50.0, 1e-6)])
    func epsilonDeltaPair(epsilon: Double, delta: Double) throws {
        let step = 1e-4
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        let event = DPEvent.epsilonDelta(epsilon: epsilon, delta: delta)
        // With δ = 0 query at 1e-9 instead; the exact answer is then slightly below ε:
        // the atom at loss ε (mass (1−δ)/(1+e^{−ε})) gives δ(ε′) = mass·(1 − e^{ε′−ε}) for ε′ < ε.
        let queryDelta = max(delta, 1e-9)
        let atMassEpsilon = (1 - delta) / (1 + exp(-epsilon))
        let exact = delta > 0 ? epsilon : max(0, epsilon + log1p(-queryDelta / atMassEpsilon))
        let reported = try accountant.epsilon(for: event, delta: queryDelta)
        #expect(reported >= exact - 1e-12)
        #expect(reported <= epsilon + step)
        let reportedDelta = try accountant.delta(for: event, epsilon: epsilon)
        #expect(reportedDelta >= delta)
        #expect(reportedDelta <= delta + 1e-4)
        #expect(try accountant.delta(for: event, epsilon: epsilon + step) <= delta + 1e-15)
    }

    @Test("a Poisson-sampled (ε, δ) pair matches the directly summed profile of its canonical pair")
    func subsampledEpsilonDelta() throws {
        let accountant = try PLDAccountant()
        for (pairEpsilon, pairDelta) in [(1.0, 1e-6), (0.3, 0.0), (40.0, 1e-8)] {
            let decay = exp(-pairEpsilon)
            let high = (1 - pairDelta) / (1 + decay), low = (1 - pairDelta) * decay / (1 + decay)
            let p0 = [0, low, high, pairDelta], p1 = [pairDelta, high, low, 0]
            for q in [0.1, 0.7] {
                let mixture = zip(p0, p1).map { (1 - q) * $0 + q * $1 }
                let event = DPEvent.poissonSampled(samplingRate: q, event: .epsilonDelta(epsilon: pairEpsilon, delta: pairDelta))
                for epsilon in [0.0, 0.05, 0.2, 1.0] {
                    let exact = max(Self.summedDelta(mixture, p0, epsilon: epsilon), Self.summedDelta(p0, mixture, epsilon: epsilon))
                    let delta = try accountant.delta(for: event, epsilon: epsilon)
                    #expect(delta >= exact * (1 - 1e-12), "(\(pairEpsilon), \(pairDelta)) q=\(q) ε=\(epsilon): \(delta) < \(exact)")
                    #expect(delta <= exact * (1 + 1e-3) + 1e-12, "(\(pairEpsilon), \(pairDelta)) q=\(q) ε=\(epsilon): \(delta) vs \(exact)")
                }
            }
        }
    }

    @Test("a Poisson-sampled Laplace mechanism at ε = 0 has δ = q·(1 − e^{−1/(2b)}) (total variation)")
    func subsampledLaplaceTotalVariation() throws {
        let accountant = try PLDAccountant()
        for (q, scale) in [(0.3, 0.8), (0.05, 2.0)] {
            let exact = q * -expm1(-1 / (2 * scale))
            let delta = try accountant.delta(for: .poissonSampled(samplingRate: q, event: .laplace(noiseMultiplier: scale)), epsilon: 0)
            #expect(delta >= exact * (1 - 1e-12))
            #expect(delta <= exact * (1 + 1e-9))
        }
    }

    // MARK: Discrete mechanisms

    /// `δ(ε) = Σ_k max(0, P(k) − e^ε Q(k))` summed directly.
    static func summedDelta(_ p: [Double], _ q: [Double], epsilon: Double) -> Double {
        zip(p, q).reduce(0) { $0 + max(0, $1.0 - exp(epsilon) * $1.1) }
    }

    @Test("discrete Gaussian and discrete Laplace match directly summed profiles, both directions of a Poisson sample")
    func discreteMechanisms() throws {
        let step = 1e-4
        let accountant = try PLDAccountant(valueDiscretizationInterval: step)
        let range = -400...400
        for (name, sensitivity, weight) in [
            ("discrete Gaussian σ=3 Δ=2", 2, { (k: Int) in exp(-Double(k * k) / (2 * 9.0)) }),
            ("discrete Laplace t=1.5 Δ=3", 3, { (k: Int) in exp(-Double(abs(k)) / 1.5) }),
        ] {
            let z = range.reduce(0.0) { $0 + weight($1) }
            let p0 = range.map { weight($0) / z }
            let p1 = range.map { weight($0 - sensitivity) / z }
            let base: DPEvent = sensitivity == 2 ? .discreteGaussian(sigma: 3, sensitivity: 2)
                                                 : .discreteLaplace(scale: 1.5, sensitivity: 3)
            for q in [1.0, 0.3] {
                let mixture = zip(p0, p1).map { (1 - q) * $0 + q * $1 }
                let event: DPEvent = q == 1 ? base : .poissonSampled(samplingRate: q, event: base)
                for epsilon in [0.0, 0.2, 0.7, 1.5] {
                    let exact = max(Self.summedDelta(mixture, p0, epsilon: epsilon), Self.summedDelta(p0, mixture, epsilon: epsilon))
                    let delta = try accountant.delta(for: event, epsilon: epsilon)
                    #expect(delta >= exact * (1 - 1e-9), "\(name) q=\(q) ε=\(epsilon): \(delta) < \(exact)")
                    #expect(delta <= exact * (1 + 1e-3) + 1e-12, "\(name) q=\(q) ε=\(epsilon): \(delta) vs \(exact)")
                }
            }
        }
        // Pure DP of the discrete Laplace: ε = Δ/t at δ → 0.
        let pure = try accountant.epsilon(for: .discreteLaplace(scale: 1.5, sensitivity: 3), delta: 1e-12)
        #expect(pure >= 2 - 1e-9 && pure <= 2 + step)
    }
}
