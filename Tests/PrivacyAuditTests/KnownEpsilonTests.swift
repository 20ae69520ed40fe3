import Foundation
import Mechanisms
import PrivacyAudit
import Testing

/// The audit on randomised response, whose optimal event is known and tight (probability ratio exactly e^ε):
/// the bound must stay below the true ε and approach it as the trials grow.
///
/// False-failure probability: each audited bound exceeds the true ε with probability at most
/// α = 1 − confidence = 0.01, so the "never exceeds" checks of one test (3 bounds) fail with probability
/// at most 0.03 for an arbitrary seed; with the fixed seeds below the outcome is deterministic. The
/// "approaches" check allows a gap of 0.1 at 100,000 runs per input, where the bound's expected gap to ε is
/// about 0.03 (Clopper–Pearson at α/2 = 0.005 on 50,000 held-out runs) and its standard deviation about 0.01.
@Suite("Known-ε validation on randomised response")
struct KnownEpsilonTests {
    static let confidence = 0.99
    static let trialLadder = [1_000, 10_000, 100_000]

    @Test("Binary randomised response: ε̂ ≤ ε at every trial count, increasing, within 0.1 of ε at 100,000",
          arguments: [(0.5, UInt64(11)), (1.0, 12), (2.0, 13)])
    func binary(epsilon: Double, seed: UInt64) throws {
        let target = try BinaryRandomizedResponseAuditTarget(epsilon: epsilon)
        try checkLadder(target, epsilon: epsilon, seed: seed)
    }

    @Test("4-ary randomised response: ε̂ ≤ ε at every trial count, increasing, within 0.1 of ε at 100,000")
    func kary() throws {
        let target = try KaryRandomizedResponseAuditTarget(epsilon: 1, categories: 4)
        try checkLadder(target, epsilon: 1, seed: 21)
    }

    func checkLadder<T: AuditTarget>(_ target: T, epsilon: Double, seed: UInt64) throws {
        var source = InsecureSeededRandomSource(seed: seed)
        var previous = 0.0
        for trials in Self.trialLadder {
            let audit = try MechanismAudit(target, trials: trials, confidence: Self.confidence, using: &source)
            #expect(audit.epsilonLowerBound <= epsilon, "\(trials) trials: ε̂ = \(audit.epsilonLowerBound)")
            #expect(!audit.exceedsClaim)
            #expect(audit.epsilonLowerBound > previous, "\(trials) trials: ε̂ = \(audit.epsilonLowerBound) ≤ \(previous)")
            previous = audit.epsilonLowerBound
        }
        #expect(previous >= epsilon - 0.1, "ε̂ = \(previous) at \(Self.trialLadder.last!) trials")
    }
}
