import Foundation
@testable import Mechanisms
import Testing
@testable import SecureAggregation

/// The clients' share of the distributed discrete Gaussian: its parameter is the requested σ/(γ·√n) rounded up to a
/// short dyadic fraction, so that the exact sampler stays in machine words, and the noise drawn has that variance.
@Suite("Distributed discrete Gaussian: the clients' noise")
struct DistributedGaussianLocalNoiseTests {
    @Test("the local standard deviation is the smallest p/2^f covering the variance (known answers)")
    func samplerStddevKnownAnswers() {
        // √9 = 3 is representable: exactly 3.
        #expect(DistributedDiscreteGaussianParameters.samplerStddev(coveringVariance: Rational(9)) == Rational(3))
        // √(1/3) ≈ 0.577 (exponent −1, f = 30): p = 619,925,132, the smallest with p²/2^60 ≥ 1/3.
        #expect(DistributedDiscreteGaussianParameters.samplerStddev(coveringVariance: Rational(1) / Rational(3))
                == Rational(619_925_132) / Rational(1 << 30))
        // √2 ≈ 1.414 (exponent 0, f = 29): p = 759,250,125.
        #expect(DistributedDiscreteGaussianParameters.samplerStddev(coveringVariance: Rational(2))
                == Rational(759_250_125) / Rational(1 << 29))
        // Large variances keep integer steps: √(2^60 − 1) rounds up to 2^30.
        #expect(DistributedDiscreteGaussianParameters.samplerStddev(coveringVariance: Rational((1 << 60) - 1))
                == Rational(1 << 30))
    }

    @Test("parameters of a federated round: s covers the requested variance by at most 2^-29, in 64-bit words",
          arguments: [(2.8517, 0.4 / 64, 6_000), (0.889, 0.4 / 1_024, 600), (18.09, 0.5 / 16, 6_127)])
    func roundParameters(noiseStddev: Double, granularity: Double, clients: Int) throws {
        let parameters = try DistributedDiscreteGaussianParameters(
            dimension: 25_450, clipNorm: 0.4, granularity: granularity, noiseStddev: noiseStddev, clients: clients,
            bitWidth: 62)
        let scaled = Rational(exactly: noiseStddev)! / Rational(exactly: granularity)!
        let requested = scaled * scaled / Rational(clients)
        #expect(parameters.localVariance >= requested)
        #expect(parameters.localVariance == parameters.localStddev * parameters.localStddev)
        let excess = (parameters.localStddev.doubleValue / requested.doubleValue.squareRoot()) - 1
        #expect(excess >= 0 && excess < 0x1p-29)
        #expect(parameters.localStddev.numerator < 1 << 30)
        #expect((parameters.localStddev * Rational(1 << 62)).isInteger)     // a dyadic fraction
        // The sampler the encoder builds tests acceptance on 64-bit words; the unrounded quotient of Doubles would
        // have needed arbitrary precision at every draw.
        #expect(try DiscreteGaussianSampler(sigma: parameters.localStddev).arithmeticBits == 64)
        #expect(try DiscreteGaussianSampler(sigmaSquared: requested).arithmeticBits == 0)
    }

    @Test("a zero update's encoding is pure noise of variance s² (seeded; false failure < 1e-9)")
    func noiseVariance() throws {
        // d = 16,384 coordinates of a discrete Gaussian with s ≈ 3.46 (variance 12 requested): the sample variance
        // has relative standard deviation ≈ √(2/d) ≈ 1.1%, so a 7% band fails with probability below 1e-9.
        let parameters = try DistributedDiscreteGaussianParameters(
            dimension: 16_384, clipNorm: 1, granularity: 1.0 / 16, noiseStddev: 12.0.squareRoot() / 16, clients: 1,
            bitWidth: 32)
        let ddg = try DistributedDiscreteGaussian(parameters: parameters)
        var source = InsecureSeededRandomSource(seed: 2_026)
        let encoded = try ddg.encode([Double](repeating: 0, count: 16_384), rotationSeed: [UInt8](repeating: 9, count: 32),
                                     using: &source)
        let values = encoded.map { Double(Int32(truncatingIfNeeded: $0)) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        #expect(abs(mean) < 0.2)
        #expect(abs(variance / 12 - 1) < 0.07, "sample variance \(variance)")
    }
}
