import FederatedLearning
import Foundation
import Mechanisms
@testable import PrivacyAudit
import PrivateTraining
import Testing

/// The one-run audit of federated runs with canary clients, on synthetic CSV data a logistic model can
/// memorise: 256 dimensions, four classes, 16 real clients of 4 examples, and 128 canary clients of one
/// held-out example each (80 clients declared, about as many as take part), every client in every round. FedAvg claimed as ε = 1 must be caught; DP-FedAvg
/// calibrated to ε = 1 must not.
@Suite("One-run federated audit")
struct FederatedAuditTests {
    static let dimensions = 256

    /// Rows with features uniform on [−1, 1] and a label from a fixed linear rule.
    static func csv(rows: Int, seed: UInt64) -> String {
        var source = InsecureSeededRandomSource(seed: seed)
        var rule = InsecureSeededRandomSource(seed: 1)
        let weights = (0..<(dimensions * 4)).map { _ in Double.random(in: -1...1, using: &rule) }
        var lines = [((0..<dimensions).map { "f\($0)" } + ["label"]).joined(separator: ",")]
        for _ in 0..<rows {
            let x = (0..<dimensions).map { _ in Double.random(in: -1...1, using: &source) }
            let scores = (0..<4).map { c in (0..<dimensions).reduce(0.0) { $0 + weights[c * dimensions + $1] * x[$1] } }
            let label = scores.indices.max { scores[$0] < scores[$1] }!
            lines.append((x.map { String(format: "%.6f", $0) } + ["\(label)"]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func pipeline(in folder: URL, privacy: String) throws -> FederatedPipeline {
        try csv(rows: 64, seed: 2).write(to: folder.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        try csv(rows: 200, seed: 3).write(to: folder.appendingPathComponent("test.csv"), atomically: true, encoding: .utf8)
        return try FederatedPipeline.parse(yaml: """
            data:
              format: csv
              train: train.csv
              test: test.csv
              label_column: label
              classes: 4
              size: 64
            model:
              architecture: logistic
            \(privacy)
            training:
              epochs: 10
              expected_batch_size: 1
              optimizer: sgd
              learning_rate: 0.5
            federated:
              clients:
                split: iid
                count: 16
                seed: 4
              declared_clients: 80
              rounds: 80
              clients_per_round: 80
              server_learning_rate: 1
            output: model.safetensors
            """, baseDirectory: folder.path)
    }

    static func audit(privacy: String, claim: PrivacyClaim?, seed: UInt64) throws -> FederatedAudit {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-fed-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var source = InsecureSeededRandomSource(seed: seed)
        let audit = try FederatedAudit(pipeline: try pipeline(in: folder, privacy: privacy), claim: claim,
                                       canaries: 128, examplesPerCanary: 1, guesses: 64, using: &source)
        // The throw-away model file is written inside the audit's own temporary folder, never to `output`.
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path))
        return audit
    }

    // Fixed seeds. Over eight other seeds FedAvg had 63–64 of 64 guesses right (ε̂ ≥ 2.55; 54 already prove
    // ε > 1) and the honest run 30–39 (ε̂ = 0); by the paper's theorem the honest run's bound exceeds its ε with
    // probability at most 5% over seeds.

    @Test("FedAvg without clipping or noise, claimed as ε = 1, is caught")
    func fedAvgCaught() throws {
        let audit = try Self.audit(privacy: "privacy: {non_private: true}", claim: try PrivacyClaim(epsilon: 1), seed: 31)
        #expect(audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound), \(audit.result.correct)/64 right")
        #expect(audit.rounds == 80 && audit.examplesPerCanary == 1)
    }

    @Test("DP-FedAvg calibrated to ε = 1 is not flagged, and its planned ε is the claim")
    func honestRunPasses() throws {
        let audit = try Self.audit(privacy: """
            privacy:
              target_epsilon: 1
              delta: 1e-5
              clip_norm: 1
            """, claim: nil, seed: 32)
        #expect(!audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound), \(audit.result.correct)/64 right")
        #expect(abs(audit.claim.epsilon - 1) < 1e-3 && audit.claim.delta == 1e-5)
    }

    @Test("Too few held-out examples for the canary clients are refused before any round")
    func poolTooSmall() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-fed-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var source = InsecureSeededRandomSource(seed: 1)
        let pipeline = try Self.pipeline(in: folder, privacy: "privacy: {non_private: true}")
        #expect(throws: VeilError(.invalidInput, "50 canary clients of 5 examples need 250 held-out examples; the test "
                                  + "split has 200")) {
            try FederatedAudit(pipeline: pipeline, claim: try PrivacyClaim(epsilon: 1), canaries: 50,
                               examplesPerCanary: 5, guesses: 10, using: &source)
        }
        // A product past Int.max is refused, not trapped on.
        #expect(throws: VeilError(.invalidParameter, "examples per canary must be small enough that canaries × examples "
                                  + "per canary fits in an integer, got \(Int.max / 2)")) {
            try FederatedAudit(pipeline: pipeline, claim: try PrivacyClaim(epsilon: 1), canaries: 4,
                               examplesPerCanary: Int.max / 2, guesses: 2, using: &source)
        }
    }

    @Test("Canary clients: each client's examples are included together")
    func groups() throws {
        let pool = try TrainingAuditTests.synthetic(rows: 60, seed: 3)
        var source = InsecureSeededRandomSource(seed: 8)
        let canaries = CanarySet(pool: pool, count: 20, groupSize: 3, using: &source)
        #expect(canaries.labels.count == 60 && canaries.included.count == 20)
        let expected = canaries.included.indices.filter { canaries.included[$0] }.flatMap { [3 * $0, 3 * $0 + 1, 3 * $0 + 2] }
        #expect(canaries.includedRows == expected)
    }
}
