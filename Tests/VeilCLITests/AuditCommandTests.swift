import _TestSupport
import Foundation
import Testing

/// `veil audit`: the reports, the exit codes and the refusals, from the built binary. The audits run on the OS CSPRNG
/// (the command has no seed), so each one asks for confidence 1 − 10⁻⁶: a correct mechanism is then flagged with
/// probability at most 10⁻⁶ per test. At the default confidence of 0.95 these tests failed one run in twenty.
@Suite("veil audit")
struct AuditCommandTests {
    /// Confidence of the audits run here.
    static let confidence = "0.999999"

    @Test("audit mechanism --json: the claim, the trials and a bound between 0 and ε (secure noise; false failure ≤ 1e-6)")
    func mechanismJSON() throws {
        let run = try runVeil(["audit", "mechanism", "randomized-response", "--epsilon", "1", "--trials", "4000",
                               "--confidence", Self.confidence, "--json"])
        try #require(run.status == 0, "exit \(run.status): \(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["mechanism"] as? String == "randomized-response")
        #expect(object["claimed_epsilon"] as? Double == 1)
        #expect(object["trials"] as? Double == 4000)
        #expect(object["confidence"] as? Double == 0.999999)
        #expect(object["exceeds_claim"] as? Bool == false)
        let bound = try #require(object["epsilon_lower_bound"] as? Double)
        #expect(bound > 0.5 && bound <= 1, "ε̂ = \(bound)")
    }

    @Test("audit mechanism prints the claim, the bound and the verdict (secure noise; false failure ≤ 1e-6)")
    func mechanismText() throws {
        let run = try runVeil(["audit", "mechanism", "discrete-laplace", "--epsilon", "1", "--trials", "2000",
                               "--confidence", Self.confidence])
        try #require(run.status == 0, "exit \(run.status): \(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "discrete-laplace: count 0 vs 1 (Δ = 1)")
        #expect(lines.contains("claimed: ε 1, δ 0"))
        #expect(lines.last == "verdict: no violation found (an audit bounds ε from below; it cannot prove privacy)")
    }

    @Test("Bad input exits 2 with one line: an unknown mechanism, a missing δ, a δ that does not apply, too few trials")
    func refusals() throws {
        let unknown = try runVeil(["audit", "mechanism", "laplace", "--epsilon", "1"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("error: mechanism must be one of discrete-laplace, discrete-gaussian,"))
        let missingDelta = try runVeil(["audit", "mechanism", "discrete-gaussian", "--epsilon", "1"])
        #expect(missingDelta.status == 2)
        #expect(missingDelta.stderr == "error: delta must be in the open interval (0, 1), got 0.0\n")
        let extraDelta = try runVeil(["audit", "mechanism", "permute-and-flip", "--epsilon", "1", "--delta", "1e-5"])
        #expect(extraDelta.status == 2)
        #expect(extraDelta.stderr == "error: permute-and-flip is ε-DP (δ = 0): a delta does not apply, got 1e-05\n")
        let fewTrials = try runVeil(["audit", "mechanism", "discrete-laplace", "--epsilon", "1", "--trials", "1"])
        #expect(fewTrials.status == 2)
        #expect(fewTrials.stderr == "error: trials must be an integer from 2 to 100000000, got 1\n")
        let hugeTrials = try runVeil(["audit", "query", "--db",
                                      RepositoryFolder.datasets.appendingPathComponent("health_panel.sqlite").path,
                                      "--metadata",
                                      RepositoryFolder.datasets.appendingPathComponent("health_panel.privacy.yaml").path,
                                      "--epsilon", "1", "--trials",
                                      "\(Int.max)", "SELECT COUNT(*) FROM visits"])
        #expect(hugeTrials.status == 2)
        #expect(hugeTrials.stderr == "error: trials must be an integer from 2 to 100000000, got \(Int.max)\n")
    }

    @Test("audit query on the shipped panel: bounds per column, no released value, progress on stderr, nothing charged (false failure ≤ 1e-6)")
    func queryOnPanel() throws {
        let folder = try TemporaryFolder("audit")
        let run = try runVeil(["audit", "query", "--db", RepositoryFolder.datasets.appendingPathComponent("health_panel.sqlite").path,
                               "--metadata", RepositoryFolder.datasets.appendingPathComponent("health_panel.privacy.yaml").path,
                               "--epsilon", "1", "--trials", "20", "--confidence", Self.confidence, "--json",
                               "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"], currentDirectory: folder.url)
        try #require(run.status == 0, "exit \(run.status): \(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["removed_unit"] as? String == "heaviest")
        #expect(object["cells"] as? Double == 5)
        let columns = try #require(object["columns"] as? [[String: Any]])
        #expect(columns.map { $0["column"] as? String } == ["n"])
        #expect(object["exceeds_claim"] as? Bool == false)
        #expect(run.stderr.hasSuffix("audit query: 40/40 runs\n"))
        // The runs charge a throw-away ledger: none appears where veil ran.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)
    }

    @Test("audit training on the shipped health-panel pipeline: the planned claim, counts only, progress on stderr, nothing written (false failure ≤ 1e-6)")
    func trainingOnPanel() throws {
        let folder = try TemporaryFolder("audit-training")
        let pipeline = RepositoryFolder.root.appendingPathComponent("pipelines/health-panel-logistic-eps1.yaml").path
        let run = try runVeil(["audit", "training", pipeline, "--canaries", "200", "--confidence", Self.confidence,
                               "--json"], currentDirectory: folder.url)
        try #require(run.status == 0, "exit \(run.status): \(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["claimed_epsilon", "claimed_delta", "canaries", "canaries_included", "guesses",
                                     "correct_guesses", "confidence", "epsilon_lower_bound", "steps",
                                     "training_seconds", "exceeds_claim"])
        let claimed = try #require(object["claimed_epsilon"] as? Double)
        #expect(abs(claimed - 1) < 1e-3 && object["claimed_delta"] as? Double == 1e-5)
        #expect(object["canaries"] as? Double == 200 && object["guesses"] as? Double == 40)
        #expect(object["exceeds_claim"] as? Bool == false)
        #expect(run.stderr.contains("step ") && run.stderr.contains(" ε "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)
    }

    @Test("audit training refusals: a non-private pipeline without --epsilon, --delta alone, odd guesses")
    func trainingRefusals() throws {
        let nonPrivate = RepositoryFolder.root.appendingPathComponent("pipelines/health-panel-logistic-nonprivate.yaml").path
        let unclaimed = try runVeil(["audit", "training", nonPrivate])
        #expect(unclaimed.status == 2)
        #expect(unclaimed.stderr == "error: a training run without differential privacy claims no ε: give the ε (and δ) "
                + "to audit it against\n")
        let deltaAlone = try runVeil(["audit", "training", nonPrivate, "--delta", "1e-5"])
        #expect(deltaAlone.status == 2)
        #expect(deltaAlone.stderr.contains("--delta needs --epsilon: the claim audited is one (ε, δ) pair"))
        let odd = try runVeil(["audit", "training", nonPrivate, "--epsilon", "1", "--canaries", "10", "--guesses", "3"])
        #expect(odd.status == 2)
        #expect(odd.stderr == "error: guesses must be even, in 2...10 (the canaries), got 3\n")
    }

    @Test("audit federated on bar images: canary clients, the report's lines, no model file left, no budget needed")
    func federatedOnBarImages() throws {
        let folder = try TemporaryFolder("audit-federated")
        try BarImages.writeSplits(in: folder, trainCount: 120, testCount: 100)
        try """
            \(BarImages.dataSection(size: 120))
            model:
              architecture: logistic
            privacy:
              target_epsilon: 2
              delta: 1e-5
              clip_norm: 1
            training:
              epochs: 1
              expected_batch_size: 4
              optimizer: sgd
              learning_rate: 0.1
            federated:
              clients: {split: iid, count: 12, seed: 1}
              rounds: 3
              clients_per_round: 6
            output: model.safetensors
            """.write(toFile: folder.path("fed.yaml"), atomically: true, encoding: .utf8)
        // Four guesses cannot prove any ε > 0 at confidence 1 − 10⁻⁶ (four right of four has p-value 1/16 at ε = 0).
        let run = try runVeil(["audit", "federated", folder.path("fed.yaml"), "--canaries", "20",
                               "--examples-per-canary", "5", "--guesses", "4", "--confidence", Self.confidence],
                              currentDirectory: folder.url)
        try #require(run.status == 0, "exit \(run.status): \(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("federated audit: 20 canary clients of 5 wrong-label test examples, ") == true)
        #expect(lines.contains { $0.hasPrefix("claimed: client-level ε 1.99") && $0.hasSuffix(", δ 1e-05") })
        #expect(lines.contains { $0.hasPrefix("audited: ε ≥ 0 at 99.9999% confidence (") })
        #expect(run.stderr.contains("round 3/3"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("model.safetensors")))
    }
}
