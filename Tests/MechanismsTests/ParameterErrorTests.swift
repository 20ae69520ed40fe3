import Testing
@testable import Mechanisms

/// Every constructor refuses out-of-range parameters with an `invalid_parameter` error whose
/// message names the parameter and the allowed range.
@Suite("Parameter errors")
struct ParameterErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let parameter: String
        let allowed: String
        let make: @Sendable () throws -> Void
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "Laplace ε = 0", parameter: "epsilon", allowed: "> 0") { _ = try DiscreteLaplaceMechanism(epsilon: 0) },
        Case(label: "Laplace ε < 0", parameter: "epsilon", allowed: "> 0") { _ = try DiscreteLaplaceMechanism(epsilon: -1) },
        Case(label: "Laplace ε = ∞", parameter: "epsilon", allowed: "finite") { _ = try DiscreteLaplaceMechanism(epsilon: .infinity) },
        Case(label: "Laplace ε = NaN", parameter: "epsilon", allowed: "finite") { _ = try DiscreteLaplaceMechanism(epsilon: .nan) },
        Case(label: "Laplace Δ = 0", parameter: "sensitivity", allowed: "≥ 1") { _ = try DiscreteLaplaceMechanism(epsilon: 1, sensitivity: 0) },
        Case(label: "Laplace Δ < 0", parameter: "sensitivity", allowed: "≥ 1") { _ = try DiscreteLaplaceMechanism(epsilon: 1, sensitivity: -2) },
        Case(label: "Laplace level = 1", parameter: "confidence_level", allowed: "(0, 1)") { _ = try DiscreteLaplaceMechanism(epsilon: 1, confidenceLevel: 1) },
        Case(label: "granular Laplace Δ = 0", parameter: "sensitivity", allowed: "> 0") { _ = try GranularLaplaceMechanism(epsilon: 1, sensitivity: 0) },
        Case(label: "granular Laplace Δ = −1", parameter: "sensitivity", allowed: "> 0") { _ = try GranularLaplaceMechanism(epsilon: 1, sensitivity: -1) },
        Case(label: "granular Laplace Δ = ∞", parameter: "sensitivity", allowed: "finite") { _ = try GranularLaplaceMechanism(epsilon: 1, sensitivity: .infinity) },
        Case(label: "granular Laplace Δ = NaN", parameter: "sensitivity", allowed: "finite") { _ = try GranularLaplaceMechanism(epsilon: 1, sensitivity: .nan) },
        Case(label: "Gaussian δ = 0", parameter: "delta", allowed: "(0, 1)") { _ = try DiscreteGaussianMechanism(epsilon: 1, delta: 0) },
        Case(label: "Gaussian δ = 1", parameter: "delta", allowed: "(0, 1)") { _ = try DiscreteGaussianMechanism(epsilon: 1, delta: 1) },
        Case(label: "Gaussian δ < 0", parameter: "delta", allowed: "(0, 1)") { _ = try GranularGaussianMechanism(epsilon: 1, delta: -1e-5, sensitivity: 1) },
        Case(label: "Gaussian ε = 0", parameter: "epsilon", allowed: "> 0") { _ = try GranularGaussianMechanism(epsilon: 0, delta: 1e-5, sensitivity: 1) },
        Case(label: "Gaussian Δ = 0", parameter: "sensitivity", allowed: "> 0") { _ = try GranularGaussianMechanism(epsilon: 1, delta: 1e-5, sensitivity: 0) },
        Case(label: "classic Gaussian ε = 1", parameter: "epsilon", allowed: "(0, 1)") { _ = try DiscreteGaussianMechanism(epsilon: 1, delta: 1e-5, calibration: .classic) },
        Case(label: "Gaussian σ = 0", parameter: "sigma", allowed: "> 0") { _ = try DiscreteGaussianMechanism(sigma: 0) },
        Case(label: "Gaussian ρ < 0", parameter: "rho", allowed: "> 0") { _ = try DiscreteGaussianMechanism(rho: -1) },
        Case(label: "sampler scale = 0", parameter: "discrete_laplace scale", allowed: "> 0") { _ = try DiscreteLaplaceSampler(scale: 0.0) },
        Case(label: "sampler scale too large", parameter: "discrete_laplace scale", allowed: "2^52") { _ = try DiscreteLaplaceSampler(scale: 0x1p60) },
        Case(label: "sampler σ² = 0", parameter: "discrete_gaussian sigma_squared", allowed: "(0, 2^100]") { _ = try DiscreteGaussianSampler(sigmaSquared: Rational.zero) },
        Case(label: "Bernoulli p > 1", parameter: "bernoulli probability", allowed: "[0, 1]") { _ = try BernoulliSampler(probability: Rational(3, 2)) },
        Case(label: "Bernoulli exp γ < 0", parameter: "bernoulli_exp gamma", allowed: "≥ 0") { _ = try BernoulliExpSampler(gamma: Rational(-1, 2)) },
        Case(label: "permute-and-flip no candidates", parameter: "candidate count", allowed: "≥ 1") {
            var source = InsecureSeededRandomSource(seed: 1)
            _ = try PermuteAndFlip(epsilon: 1, sensitivity: 1).select(scores: [], using: &source)
        },
        Case(label: "permute-and-flip NaN score", parameter: "score[1]", allowed: "finite") {
            var source = InsecureSeededRandomSource(seed: 1)
            _ = try PermuteAndFlip(epsilon: 1, sensitivity: 1).select(scores: [1, .nan], using: &source)
        },
        Case(label: "permute-and-flip Δ = 0", parameter: "sensitivity", allowed: "> 0") { _ = try PermuteAndFlip(epsilon: 1, sensitivity: 0) },
        Case(label: "noisy max no candidates", parameter: "candidate count", allowed: "≥ 1") {
            var source = InsecureSeededRandomSource(seed: 1)
            _ = try ReportNoisyMax(epsilon: 1).select(scores: [], using: &source)
        },
        Case(label: "noisy max ε = 0", parameter: "epsilon", allowed: "> 0") { _ = try ReportNoisyMax(epsilon: 0) },
        Case(label: "sparse vector c = 0", parameter: "max_positives", allowed: "≥ 1") { _ = try SparseVector(epsilon: 1, sensitivity: 1, threshold: 0, maxPositives: 0) },
        Case(label: "sparse vector threshold NaN", parameter: "threshold", allowed: "finite") { _ = try SparseVector(epsilon: 1, sensitivity: 1, threshold: .nan) },
        Case(label: "randomised response ε = 0", parameter: "epsilon", allowed: "> 0") { _ = try BinaryRandomizedResponse(epsilon: 0) },
        Case(label: "k-ary response k = 1", parameter: "categories", allowed: "≥ 2") { _ = try KaryRandomizedResponse(epsilon: 1, categories: 1) },
        Case(label: "k-ary response category out of range", parameter: "category", allowed: "0..<3") {
            var source = InsecureSeededRandomSource(seed: 1)
            _ = try KaryRandomizedResponse(epsilon: 1, categories: 3).respond(3, using: &source)
        },
        Case(label: "granular release of ∞", parameter: "value", allowed: "finite") {
            var source = InsecureSeededRandomSource(seed: 1)
            _ = try GranularLaplaceMechanism(epsilon: 1, sensitivity: 1).release(.infinity, using: &source)
        },
        Case(label: "interval level 0", parameter: "confidence_level", allowed: "(0, 1)") { _ = try NoiseQuantile.discreteGaussianHalfWidth(sigma: 1, level: 0) },
        Case(label: "Laplace ε = 0x1p-1063 (scale Δ/ε not finite)", parameter: "epsilon", allowed: "at most 2^52") { _ = try DiscreteLaplaceMechanism(epsilon: 0x1p-1063) },
        Case(label: "granular Laplace ε = 0x1p-1063", parameter: "noise scale", allowed: "finite") { _ = try GranularLaplaceMechanism(epsilon: 0x1p-1063, sensitivity: 1) },
        Case(label: "noisy max ε = 0x1p-1063", parameter: "epsilon", allowed: "at most 2^52") { _ = try ReportNoisyMax(epsilon: 0x1p-1063) },
        Case(label: "Laplace quantile at scale 2^53", parameter: "discrete_laplace scale", allowed: "(0, 2^52]") { _ = try NoiseQuantile.discreteLaplaceHalfWidth(scale: 0x1p53, level: 0.95) },
        Case(label: "Laplace quantile at scale 1e300", parameter: "discrete_laplace scale", allowed: "(0, 2^52]") { _ = try NoiseQuantile.discreteLaplaceHalfWidth(scale: 1e300, level: 0.95) },
        Case(label: "Gaussian quantile at σ = 1e300", parameter: "discrete_gaussian sigma", allowed: "(0, 2^52]") { _ = try NoiseQuantile.discreteGaussianHalfWidth(sigma: 1e300, level: 0.95) },
        Case(label: "Gaussian tail quantile at p = 0", parameter: "tail probability", allowed: "(0, 1)") { _ = try NoiseQuantile.discreteGaussianUpperQuantile(sigma: 3, tailProbability: 0) },
    ]

    @Test("Out-of-range parameters are refused with a message naming them", arguments: cases)
    func refused(_ c: Case) {
        do {
            try c.make()
            Issue.record("\(c.label) was accepted")
        } catch let error as VeilError {
            #expect(error.code == .invalidParameter)
            #expect(error.message.hasPrefix(c.parameter), "message: \(error.message)")
            #expect(error.message.contains(c.allowed), "message: \(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("Sparse vector refuses queries after c positive answers")
    func sparseVectorExhausted() throws {
        var svt = try SparseVector(epsilon: 1, sensitivity: 1, threshold: 0, maxPositives: 2)
        var source = InsecureSeededRandomSource(seed: 2)
        #expect(try svt.isAboveThreshold(1e6, using: &source))
        #expect(try !svt.isAboveThreshold(-1e6, using: &source))
        #expect(try svt.isAboveThreshold(1e6, using: &source))
        #expect(svt.isExhausted)
        #expect(throws: VeilError.self) { try svt.isAboveThreshold(0, using: &source) }
        do {
            _ = try svt.isAboveThreshold(0, using: &source)
        } catch let error as VeilError {
            #expect(error.code == .exhausted)
            #expect(error.message.contains("2 positive answers"))
        }
    }
}
