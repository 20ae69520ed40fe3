import Accounting
import Foundation
import Testing

/// Known-answer tests of the PLD accountant against `Resources/accountant_cases.json`: DP-SGD
/// (`SelfComposed(PoissonSampled(q, Gaussian(σ)), T)`, add-or-remove-one) at δ = 1e-5, where the
/// reference `pld_epsilon` comes from Google `dp_accounting` 0.6.0's pessimistic PLD accountant on
/// the same grid step Δ = 1e-4.
///
/// The full set runs in release builds (about 8 s). Debug builds are some ten times slower, so
/// there (compile-time `#if DEBUG`) only a representative subset of 40 runs: every sampling rate
/// and noise multiplier up to T = 1000 steps, leaving out T ≥ 10 000 and σ = 0.5 beyond one step
/// (the largest grids).
@Suite("PLD accountant against reference values")
struct PLDReferenceTests {
    static let cases: [ReferenceCases.Case] = {
        let all = ReferenceCases.shared.cases
        let withPLD = all.filter { $0.pldEpsilon != nil }
        #if DEBUG
        return withPLD.filter { $0.steps <= 1000 && !($0.noiseMultiplier == 0.5 && $0.steps > 1) }
        #else
        return withPLD
        #endif
    }()

    @Test("the reference file loads and has PLD values")
    func referenceFileLoads() throws {
        let all = ReferenceCases.shared.cases
        #expect(all.count == 90)
        #expect(all.filter { $0.pldEpsilon != nil }.count == 61)
        #if DEBUG
        #expect(Self.cases.count == 40)
        #else
        #expect(Self.cases.count == 61)
        #endif
    }

    @Test("ε matches dp_accounting's PLD ε within 0.1% and stays below the RDP upper bound",
          arguments: cases)
    func matchesReference(_ reference: ReferenceCases.Case) throws {
        let accountant = try PLDAccountant()
        let event = DPEvent.selfComposed(
            event: .poissonSampled(samplingRate: reference.samplingRate,
                                   event: .gaussian(noiseMultiplier: reference.noiseMultiplier)),
            count: reference.steps)
        let epsilon = try accountant.epsilon(for: event, delta: reference.delta)
        let expected = try #require(reference.pldEpsilon)
        let relative = (epsilon - expected) / expected
        // Both are pessimistic connect-the-dots values on the same grid; they agree to ~1e-7.
        #expect(Swift.abs(relative) < 1e-3, "\(reference): ε = \(epsilon), reference \(expected)")
        // RDP is an upper bound on the true ε; a tight PLD value lies below it.
        #expect(epsilon < reference.rdpEpsilonExact, "\(reference): ε = \(epsilon)")
        // The reported δ at the reported ε is the requested δ (the two queries are inverse).
        let delta = try accountant.delta(for: event, epsilon: epsilon)
        #expect(Swift.abs(delta - reference.delta) <= 1e-9 * reference.delta + 1e-15,
                "\(reference): δ(ε) = \(delta)")
    }
}
