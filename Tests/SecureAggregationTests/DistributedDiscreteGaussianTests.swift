import Accounting
import Foundation
import Mechanisms
import Testing
@testable import SecureAggregation

/// The distributed discrete Gaussian: encode → modular sum → decode within its stated error bound,
/// the accounting against the paper's formulas recomputed here, and refusal of overflowing parameters.
@Suite("Distributed discrete Gaussian")
struct DistributedDiscreteGaussianTests {
    @Test("The rotation is orthonormal and inverts exactly (up to rounding)")
    func rotation() {
        let seed = [UInt8](repeating: 3, count: 32)
        let h = RandomizedHadamard(dimension: 5, seed: seed)
        #expect(h.paddedDimension == 8)
        let x = [1.0, -2.0, 3.0, 0.5, 4.0]
        let y = h.rotate(x)
        let normX = x.reduce(0) { $0 + $1 * $1 }, normY = y.reduce(0) { $0 + $1 * $1 }
        #expect(abs(normX - normY) < 1e-12)
        #expect(zip(h.unrotate(y), x).allSatisfy { abs($0 - $1) < 1e-12 })
        // H·D·e₁/√8: every coordinate ±1/√8.
        #expect(h.rotate([1, 0, 0, 0, 0]).allSatisfy { abs(abs($0) - 1 / 8.0.squareRoot()) < 1e-15 })
    }

    @Test("Conditional rounding never exceeds Δ₂, and is unbiased on average")
    func conditionalRounding() {
        var source = InsecureSeededRandomSource(seed: 71)
        // Scaled clip 10 in d = 64: Δ₂ with β = e^−1/2.
        let bound = DistributedDiscreteGaussianParameters.roundedNormBound(scaledClipNorm: 10, beta: exp(-0.5), dimension: 64)
        let plain: Double = 10 + 8, conditional: Double = 100 + 16 + 1 * (10 + 4)     // √(2 log(1/β)) = 1
        let expected = min(plain, conditional.squareRoot())
        #expect(abs(bound - expected) < 1e-12)
        var mean = [Double](repeating: 0, count: 64)
        let x = (0..<64).map { i in 10 / 8.0 * (i % 2 == 0 ? 1 : -1) * 0.9 + 0.3 }
        let trials = 2_000
        for _ in 0..<trials {
            let r = DistributedDiscreteGaussian.roundConditionally(x, normBound: bound, using: &source)
            #expect(r.reduce(0) { $0 + Double($1 * $1) } <= bound * bound)
            for i in r.indices { mean[i] += Double(r[i]) / Double(trials) }
        }
        // Conditioning biases slightly towards smaller norms; the mean stays within 0.1 per coordinate.
        #expect(zip(mean, x).allSatisfy { abs($0 - $1) < 0.1 })
    }

    @Test("encode → SecAgg sum mod 2^b → decode: error within the stated bound (failure probability ≤ 2e-6)")
    func roundTrip() throws {
        let n = 12, dimension = 100
        let parameters = try DistributedDiscreteGaussianParameters(
            dimension: dimension, clipNorm: 1, granularity: 1.0 / 1024, noiseStddev: 1.0 / 128, clients: n, bitWidth: 24,
            overflowProbability: 1e-6)
        let ddg = try DistributedDiscreteGaussian(parameters: parameters)
        var source = InsecureSeededRandomSource(seed: 81)
        let seed = KeyDerivation.randomBytes(32, using: &source)
        var updates: [[Double]] = []
        for c in 0..<n {
            var u = (0..<dimension).map { _ in Double(source.next() >> 11) * 0x1p-53 - 0.5 }
            if c == 3 { u[0] = .nan }                 // non-finite: clipped to zero
            if c == 4 { u = u.map { $0 * 100 } }      // far beyond the clip norm
            updates.append(u)
        }
        let encodings = try updates.map { try ddg.encode($0, rotationSeed: seed, using: &source) }
        let configuration = try SecAggConfiguration(clientCount: n, vectorLength: parameters.paddedDimension, bitWidth: 24,
                                                    neighbours: n - 1, threshold: n / 2 + 1, minimumSurvivors: n / 2 + 1)
        let outcome = try SecAggSimulation.run(configuration: configuration, inputs: encodings, using: &source)
        let decoded = try ddg.decode(outcome.sum, rotationSeed: seed)
        // The true sum of the clipped updates.
        var truth = [Double](repeating: 0, count: dimension)
        for u in updates {
            let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let clipped = norm.isFinite ? u.map { $0 * min(1, 1 / norm) } : [Double](repeating: 0, count: dimension)
            for i in truth.indices { truth[i] += clipped[i] }
        }
        // Stated bound, in L2: γ·(n·√d [rounding] + √d·z [noise, every coordinate within z with
        // probability ≥ 1 − 1e-6]); clamping changes nothing with probability ≥ 1 − 1e-6 per client.
        let d = Double(parameters.paddedDimension)
        let bound = parameters.granularity * (Double(n) * d.squareRoot() + d.squareRoot() * parameters.noiseBound)
        let error = zip(decoded, truth).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        #expect(error <= bound, "error \(error) above the bound \(bound)")
        // And the estimate is informative: far closer than the sum's own size.
        let size = truth.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(error < size / 4)
    }

    @Test("Parameters that could exceed the modulus are refused")
    func overflowRefused() throws {
        // 1,000 clients each contributing up to B per coordinate cannot fit in 12 bits.
        #expect { try DistributedDiscreteGaussianParameters(dimension: 1_000, clipNorm: 1, granularity: 1.0 / 256,
                                                             noiseStddev: 1, clients: 1_000, bitWidth: 12) }
            throws: { ($0 as? VeilError)?.code == .invalidParameter }
        // The same with 32 bits fits, and the check is tight: B and z as documented.
        let ok = try DistributedDiscreteGaussianParameters(dimension: 1_000, clipNorm: 1, granularity: 1.0 / 256,
                                                           noiseStddev: 1, clients: 1_000, bitWidth: 32)
        let d = 1024.0, p = 1e-9
        let b = Int(min(ok.roundedNormBound.rounded(.down), (256 * (2 * log(2 * d / p) / d).squareRoot()).rounded(.up) + 1))
        #expect(ok.coordinateBound == b)
        // z is computed from the clients' variance as drawn: σ²/(γ²n) = 256²/1,000, rounded up by at most a
        // factor (1 + 2^−29) to the sampler's dyadic standard deviation.
        let s2 = ok.localVariance.doubleValue
        #expect(s2 >= 256.0 * 256 / 1_000 && s2 <= 256.0 * 256 / 1_000 * (1 + 0x1p-28))
        let z = (2 * 1_000 * s2 * log(2 * d / p)).squareRoot()
        #expect(abs(ok.noiseBound - z) < 1e-12 * z)
        // The smallest bit width accepted is the first with clients·B + z < 2^(b−1) − 1.
        let needed = Double(1_000 * b) + z
        let minimumBits = (2...64).first { Double(sign: .plus, exponent: $0 - 1, significand: 1) - 1 > needed }!
        #expect(throws: VeilError.self) {
            try DistributedDiscreteGaussianParameters(dimension: 1_000, clipNorm: 1, granularity: 1.0 / 256, noiseStddev: 1,
                                                      clients: 1_000, bitWidth: minimumBits - 1)
        }
        _ = try DistributedDiscreteGaussianParameters(dimension: 1_000, clipNorm: 1, granularity: 1.0 / 256, noiseStddev: 1,
                                                      clients: 1_000, bitWidth: minimumBits)
        // A granularity so fine that scaled values leave the exact integer range (c/γ = 2^64) is refused,
        // although the flattened coordinates alone (≈ 2^62) would fit 64 bits.
        #expect(throws: VeilError.self) {
            try DistributedDiscreteGaussianParameters(dimension: 1_000, clipNorm: 1, granularity: 0x1p-64, noiseStddev: 0x1p-40,
                                                      clients: 1, bitWidth: 64)
        }
    }

    /// τ, ε and ε(α) recomputed term by term from Kairouz, Liu, Steinke 2021 (Theorem 1, Proposition 14).
    @Test("Accounting equals the paper's formulas recomputed independently", arguments: [
        (Double(40), 1.0, 100, 1024), (300, 2.5, 1_000, 65_536), (10, 0.6, 20, 16),
    ])
    func accountingFormulas(delta2: Double, sigma: Double, n: Int, d: Int) throws {
        let accounting = try DistributedDiscreteGaussianAccounting(l2Sensitivity: delta2, localStddev: sigma, clients: n, dimension: d)
        var tau = 0.0
        for k in stride(from: n - 1, through: 1, by: -1) {       // summed in the other order
            tau += 10 * exp(-2 * pow(Double.pi * sigma, 2) * Double(k) / Double(k + 1))
        }
        #expect(abs(accounting.tau - tau) <= 1e-12 * max(tau, 1e-300))
        let totalSigma = sigma * Double(n).squareRoot()
        let eps = min((pow(delta2 / totalSigma, 2) + 2 * tau * Double(d)).squareRoot(),
                      delta2 / totalSigma + tau * Double(d).squareRoot())
        #expect(abs(accounting.concentratedEpsilon - eps) < 1e-12 * eps)
        #expect(abs(accounting.rho - eps * eps / 2) < 1e-12 * eps * eps)
        let delta1 = delta2 * min(Double(d).squareRoot(), delta2)
        for alpha in [1.5, 2, 8, 64] {
            let a = alpha * delta2 * delta2 / (2 * totalSigma * totalSigma) + tau * Double(d)
            let b = alpha / 2 * (delta2 * delta2 / (totalSigma * totalSigma) + 2 * delta1 * tau / totalSigma + tau * tau * Double(d))
            let c = alpha / 2 * pow(delta2 / totalSigma + tau * Double(d).squareRoot(), 2)
            #expect(abs(accounting.rdp(order: alpha) - min(a, b, c)) < 1e-12 * min(a, b, c))
        }
    }

    @Test("With negligible τ the sum is accounted as one discrete Gaussian of variance nσ²")
    func matchesCentralDiscreteGaussian() throws {
        // σ = 3 per client: τ ≈ 10·n·e^{−2π²·9/2} ≈ 10^−37·n, negligible.
        let accounting = try DistributedDiscreteGaussianAccounting(l2Sensitivity: 20, localStddev: 3, clients: 100, dimension: 4096)
        #expect(accounting.tau < 1e-30)
        let central = try ZCDP.rho(for: .discreteGaussian(sigma: 30, sensitivity: 20))
        #expect(abs(accounting.rho - central) < 1e-9 * central)
        // And the (ε, δ) conversion is no worse than the zCDP conversion of that ρ.
        #expect(try accounting.epsilon(delta: 1e-5) <= ZCDP.epsilon(rho: central, delta: 1e-5) * (1 + 1e-9))
    }

    @Test("Accounting refuses σ below 1/2 and counts only guaranteed clients")
    func accountingConditions() throws {
        #expect(throws: VeilError.self) { try DistributedDiscreteGaussianAccounting(l2Sensitivity: 1, localStddev: 0.4, clients: 10, dimension: 8) }
        let parameters = try DistributedDiscreteGaussianParameters(dimension: 100, clipNorm: 1, granularity: 1.0 / 64,
                                                                   noiseStddev: 2, clients: 100, bitWidth: 32)
        #expect(throws: VeilError.self) { try DistributedDiscreteGaussianAccounting(parameters: parameters, minimumClients: 101) }
        let all = try DistributedDiscreteGaussianAccounting(parameters: parameters, minimumClients: 100)
        let half = try DistributedDiscreteGaussianAccounting(parameters: parameters, minimumClients: 50)
        #expect(half.rho > all.rho)     // fewer clients' noise: less privacy
    }
}
