import Foundation
import Mechanisms
import PrivacyAudit
import Testing

/// The one-run bound (Steinke, Nasr, Jagielski 2023) against reference values computed with SciPy's binomial
/// distribution, and on one run of 2,000 randomised-response canaries.
@Suite("One-run audit bound")
struct OneRunAuditTests {
    @Test("ε̂ matches the SciPy computation of the same theorem",
          arguments: [(1000, 600, 600, 1e-5, 5.270399463514697), (100, 100, 100, 1e-5, 3.490215955326397),
                      (1000, 1000, 731, 0.0, 0.8806029966558528), (1000, 200, 180, 0.0, 1.7988652649778913),
                      (1000, 200, 180, 1e-4, 1.7716147054128615)])
    func reference(canaries: Int, guesses: Int, correct: Int, delta: Double, expected: Double) throws {
        let audit = try OneRunAudit(canaries: canaries, guesses: guesses, correct: correct, delta: delta, confidence: 0.95)
        #expect(abs(audit.epsilon - expected) < 1e-5, "ε̂ = \(audit.epsilon)")
    }

    @Test("p-values: the binomial tail, plus the δ term")
    func pValues() throws {
        let pure = try OneRunAudit.pValue(canaries: 1000, guesses: 200, correct: 150, epsilon: 1, delta: 0)
        #expect(abs(pure - 0.3031877298305087) < 1e-9)
        let approximate = try OneRunAudit.pValue(canaries: 1000, guesses: 200, correct: 150, epsilon: 1, delta: 1e-3)
        #expect(abs(approximate - 0.42666599028012214) < 1e-9)
        #expect(try OneRunAudit.pValue(canaries: 10, guesses: 5, correct: 0, epsilon: 1, delta: 0) == 1)
    }

    @Test("One run of 2,000 canaries through randomised response: ε = 1 is not exceeded; ε = 3 claimed as 1 is caught")
    func randomizedResponseCanaries() throws {
        // Each canary's inclusion bit goes through randomised response; the auditor guesses the report.
        // False failure: the honest bound exceeds ε with probability ≤ 0.05; the mutant's expected ε̂ is about 2.7.
        var source = InsecureSeededRandomSource(seed: 77)
        func rightGuesses(epsilon: Double) throws -> Int {
            let mechanism = try BinaryRandomizedResponse(epsilon: epsilon)
            return (0..<2000).reduce(0) { count, _ in
                let included = source.bit()
                return count + (mechanism.respond(included, using: &source) == included ? 1 : 0)
            }
        }
        let honest = try OneRunAudit(canaries: 2000, guesses: 2000, correct: try rightGuesses(epsilon: 1))
        #expect(honest.epsilon <= 1 && honest.epsilon > 0.7, "ε̂ = \(honest.epsilon)")
        let broken = try OneRunAudit(canaries: 2000, guesses: 2000, correct: try rightGuesses(epsilon: 3))
        #expect(broken.epsilon > 1, "ε̂ = \(broken.epsilon)")
    }

    @Test("Counts out of range are refused")
    func refusals() {
        #expect(throws: VeilError(.invalidParameter, "guesses must be in 0...10, got 11")) {
            try OneRunAudit(canaries: 10, guesses: 11, correct: 0)
        }
        #expect(throws: VeilError(.invalidParameter, "correct guesses must be in 0...5, got 6")) {
            try OneRunAudit(canaries: 10, guesses: 5, correct: 6)
        }
    }
}
