import Foundation
import Mechanisms
import PrivacyAudit
import Testing

/// ε̂ = ln((p_L − δ)/q_U) from event counts, and the event selection on deterministic samples.
@Suite("Empirical ε lower bound")
struct EpsilonLowerBoundTests {
    @Test("A perfect separation in 100 runs proves ln(p_L/q_U) with p_L = (α/2)^(1/100) and q_U = 1 − p_L")
    func perfectSeparation() throws {
        let bound = try EpsilonLowerBound(pCount: 100, qCount: 0, trials: 100, delta: 0, confidence: 0.95)
        #expect(abs(bound.epsilon - 3.2813463490987864) < 1e-9)
        #expect(abs(bound.pLower - pow(0.025, 0.01)) < 1e-12)
        #expect(abs(bound.qUpper - (1 - pow(0.025, 0.01))) < 1e-12)
    }

    @Test("80 of 100 against 20 of 100: ln(p_L/q_U) at δ = 0 and ln((p_L − 0.1)/q_U) at δ = 0.1 (SciPy reference)")
    func withAndWithoutDelta() throws {
        let pure = try EpsilonLowerBound(pCount: 80, qCount: 20, trials: 100, delta: 0, confidence: 0.95)
        #expect(abs(pure.epsilon - 0.8864513384657862) < 1e-9)
        let approximate = try EpsilonLowerBound(pCount: 80, qCount: 20, trials: 100, delta: 0.1, confidence: 0.95)
        #expect(abs(approximate.epsilon - 0.7342186624515707) < 1e-9)
    }

    @Test("An event that proves nothing gives 0, never a negative ε̂")
    func nothingProven() throws {
        #expect(try EpsilonLowerBound(pCount: 30, qCount: 70, trials: 100, delta: 0, confidence: 0.95).epsilon == 0)
        #expect(try EpsilonLowerBound(pCount: 1, qCount: 0, trials: 100, delta: 0.5, confidence: 0.95).epsilon == 0)
    }

    @Test("Samples that separate perfectly: the selected event separates, and ε̂ is the bound of its 100 + 100 held-out runs")
    func selectionSeparates() throws {
        let original = [Double](repeating: 1, count: 200)
        let neighbour = [Double](repeating: 0, count: 200)
        let audit = try EventSelectionAudit(original: original, neighbour: neighbour, delta: 0, confidence: 0.95)
        let expected = try EpsilonLowerBound(pCount: 100, qCount: 0, trials: 100, delta: 0, confidence: 0.95)
        #expect(audit.bound == expected)
        #expect(audit.event.contains(audit.event.favoured == .original ? 1 : 0))
        #expect(!audit.event.contains(audit.event.favoured == .original ? 0 : 1))
    }

    @Test("Identical samples prove nothing; NaN runs are in no event")
    func identicalSamples() throws {
        let values = (0..<300).map { Double($0 % 7) }
        let audit = try EventSelectionAudit(original: values, neighbour: values, delta: 0, confidence: 0.95)
        #expect(audit.epsilon == 0)
        let nan = try EventSelectionAudit(original: [Double](repeating: .nan, count: 10),
                                          neighbour: [Double](repeating: 1, count: 10), delta: 0, confidence: 0.95)
        let expected = try EpsilonLowerBound(pCount: 5, qCount: 0, trials: 5, delta: 0, confidence: 0.95)
        #expect(nan.bound == expected)
    }

    @Test("The estimation half is not the selection half: a pattern only in the first half proves nothing")
    func heldOut() throws {
        // First half: the inputs differ; second half: identical. Selection finds the event, estimation refutes it.
        let original = [Double](repeating: 1, count: 50) + [Double](repeating: 0, count: 50)
        let neighbour = [Double](repeating: 0, count: 100)
        let audit = try EventSelectionAudit(original: original, neighbour: neighbour, delta: 0, confidence: 0.95)
        #expect(audit.selectionEpsilon > 2)
        #expect(audit.epsilon == 0)
    }

    @Test("Unequal or too few samples and a claim out of range are refused")
    func refusals() {
        #expect(throws: VeilError(.invalidParameter, "neighbour sample count must be equal to the original sample count 3, got 2")) {
            try EventSelectionAudit(original: [1, 2, 3], neighbour: [1, 2], delta: 0, confidence: 0.95)
        }
        #expect(throws: VeilError(.invalidParameter, "trials must be at least 2 (one per half), got 1")) {
            try EventSelectionAudit(original: [1], neighbour: [1], delta: 0, confidence: 0.95)
        }
        #expect(throws: VeilError(.invalidParameter, "delta must be in the interval [0, 1), got 1.0")) {
            try EpsilonLowerBound(pCount: 1, qCount: 1, trials: 2, delta: 1, confidence: 0.95)
        }
    }
}
