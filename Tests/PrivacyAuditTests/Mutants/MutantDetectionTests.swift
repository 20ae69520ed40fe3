import Foundation
import Mechanisms
import PrivacyAudit
import Testing

/// The audit has teeth: each deliberately broken mechanism is flagged (ε̂ > claimed ε), and its correct
/// counterpart is not.
///
/// False alarms: a correct mechanism is flagged with probability at most α = 0.05 per audit (3 correct
/// audits here: at most 0.15 for seeds chosen at random). Misses: the smallest violation here (twice the
/// claimed ε) leaves a margin of about 0.7 above the claim at 20,000 runs per input, more than 10 standard
/// deviations of the bound. With the fixed seeds the outcome is deterministic.
@Suite("Mutants are caught")
struct MutantDetectionTests {
    static let trials = 20_000
    static let epsilon = 1.0

    static func audit<T: AuditTarget>(_ target: T, seed: UInt64) throws -> MechanismAudit {
        var source = InsecureSeededRandomSource(seed: seed)
        return try MechanismAudit(target, trials: trials, confidence: 0.95, using: &source)
    }

    @Test("Half the noise scale is flagged")
    func halvedNoise() throws {
        let audit = try Self.audit(try HalvedNoiseLaplace(epsilon: Self.epsilon), seed: 41)
        #expect(audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound)")
    }

    @Test("Sensitivity off by one is flagged")
    func sensitivityOffByOne() throws {
        let audit = try Self.audit(try SensitivityOffByOne(epsilon: Self.epsilon), seed: 42)
        #expect(audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound)")
    }

    @Test("A skipped clamp is flagged; the clamped sum is not")
    func clampSkipped() throws {
        let broken = try Self.audit(try ClampSkipped(epsilon: Self.epsilon, clamps: false), seed: 43)
        #expect(broken.exceedsClaim, "ε̂ = \(broken.epsilonLowerBound)")
        let correct = try Self.audit(try ClampSkipped(epsilon: Self.epsilon, clamps: true), seed: 44)
        #expect(!correct.exceedsClaim, "ε̂ = \(correct.epsilonLowerBound)")
    }

    @Test("Unbounded contributions of a unit are flagged; the bounded count is not")
    func unboundedContributions() throws {
        let broken = try Self.audit(try UnboundedContributions(epsilon: Self.epsilon, bounds: false), seed: 45)
        #expect(broken.exceedsClaim, "ε̂ = \(broken.epsilonLowerBound)")
        let correct = try Self.audit(try UnboundedContributions(epsilon: Self.epsilon, bounds: true), seed: 46)
        #expect(!correct.exceedsClaim, "ε̂ = \(correct.epsilonLowerBound)")
    }

    @Test("A quarter of the Gaussian σ is flagged at the claimed δ; the calibrated σ is not")
    func quarterSigma() throws {
        let broken = try Self.audit(try QuarterSigmaGaussian(epsilon: Self.epsilon, delta: 1e-5), seed: 47)
        #expect(broken.exceedsClaim, "ε̂ = \(broken.epsilonLowerBound)")
        let correct = try Self.audit(try DiscreteGaussianAuditTarget(epsilon: Self.epsilon, delta: 1e-5), seed: 48)
        #expect(!correct.exceedsClaim, "ε̂ = \(correct.epsilonLowerBound)")
    }
}
