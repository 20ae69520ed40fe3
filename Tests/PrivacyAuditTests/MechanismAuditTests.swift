import Foundation
import Mechanisms
import PrivacyAudit
import Testing

/// Every mechanism of the catalogue, audited on its worst-case neighbours with fixed seeds: none may be
/// flagged (ε̂ > claimed ε). For one seed chosen at random each audit is flagged with probability at most
/// α = 1 − confidence = 0.05 if the mechanism is correct, so this test's false-failure probability is at
/// most 10 × 0.05 (Bonferroni); with the fixed seeds it is deterministic.
@Suite("Mechanism audits")
struct MechanismAuditTests {
    static let trials = 20_000
    /// Permute-and-flip decides each stop with exact rational arithmetic: fewer runs keep the test at seconds.
    static func trials(for name: String) -> Int { name == "permute-and-flip" ? 5_000 : trials }

    @Test("No mechanism of the catalogue exceeds its claim", arguments: MechanismCatalog.names)
    func notFlagged(name: String) throws {
        let entry = try #require(MechanismCatalog.entries.first { $0.name == name })
        let target = try MechanismCatalog.target(named: name, epsilon: 1, delta: entry.needsDelta ? 1e-3 : 0)
        var source = InsecureSeededRandomSource(seed: UInt64(100 + MechanismCatalog.names.firstIndex(of: name)!))
        let audit = try MechanismAudit(target, trials: Self.trials(for: name), confidence: 0.95, using: &source)
        #expect(!audit.exceedsClaim, "\(name): ε̂ = \(audit.epsilonLowerBound) with \(audit.result.event.description)")
        #expect(audit.claim == (try PrivacyClaim(epsilon: 1, delta: entry.needsDelta ? 1e-3 : 0)))
    }

    @Test("Discrete Laplace at ε = 1: the audit finds most of ε (ε̂ ≥ 0.7 with 20,000 runs per input)")
    func laplaceIsTight() throws {
        var source = InsecureSeededRandomSource(seed: 7)
        let audit = try MechanismAudit(try DiscreteLaplaceAuditTarget(epsilon: 1), trials: Self.trials,
                                       confidence: 0.95, using: &source)
        #expect(audit.epsilonLowerBound >= 0.7, "ε̂ = \(audit.epsilonLowerBound)")
        #expect(audit.epsilonLowerBound <= 1)
    }

    @Test("The catalogue refuses an unknown name, a missing δ and a δ that does not apply")
    func catalogueRefusals() {
        #expect(throws: VeilError(.invalidParameter, "mechanism must be one of \(MechanismCatalog.names.joined(separator: ", ")), got laplace")) {
            try MechanismCatalog.target(named: "laplace", epsilon: 1)
        }
        #expect(throws: VeilError(.invalidParameter, "delta must be in the open interval (0, 1), got 0.0")) {
            try MechanismCatalog.target(named: "discrete-gaussian", epsilon: 1)
        }
        #expect(throws: VeilError(.invalidParameter, "discrete-laplace is ε-DP (δ = 0): a delta does not apply, got 1e-05")) {
            try MechanismCatalog.target(named: "discrete-laplace", epsilon: 1, delta: 1e-5)
        }
    }

    @Test("Progress is reported after every run, ending at twice the trials")
    func progress() throws {
        var source = InsecureSeededRandomSource(seed: 3)
        var calls = 0
        var last = (0, 0)
        _ = try MechanismAudit(try DiscreteLaplaceAuditTarget(epsilon: 1), trials: 10, using: &source) { done, all in
            calls += 1
            last = (done, all)
        }
        #expect(calls == 10)
        #expect(last == (20, 20))
    }
}
