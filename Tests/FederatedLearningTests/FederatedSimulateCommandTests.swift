import Foundation
import Testing
import _TestSupport

/// End-to-end runs of `veil federated simulate`.
@Suite("veil federated simulate")
struct FederatedSimulateCommandTests {
    private func object(_ text: String) throws -> [String: Any] {
        let line = try #require(text.split(separator: "\n").last)
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    private func setUp(_ name: String, clients: Int, perRound: Int, rounds: Int, rows: Int = 3000,
                       epsilon: Double? = 8, extraFederated: String = "") throws -> (folder: URL, pipeline: String, ledger: String) {
        let folder = try TemporaryDirectory.make(name)
        try FederatedTestData.writeCSV(rows: rows, in: folder)
        let pipeline = folder.appendingPathComponent("fed.yaml").path
        try FederatedTestData.pipeline(folder: folder, clients: clients, perRound: perRound, rounds: rounds, epsilon: epsilon,
                                       extraFederated: extraFederated)
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        let created = try runVeil(["budget", "create", "fed", "--epsilon", "10", "--delta", "1e-4", "--ledger", ledger])
        try #require(created.status == 0, "\(created.stderr)")
        return (folder, pipeline, ledger)
    }

    @Test("the run's client-level ε equals `veil account dpsgd` for the same (q, σ, T), and the ledger holds it")
    func epsilonMatchesAccountant() throws {
        let (folder, pipeline, ledger) = try setUp("fed-eps", clients: 200, perRound: 20, rounds: 6)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--json"], timeout: .seconds(120))
        try #require(run.status == 0, "\(run.stderr)")
        let result = try object(run.stdout)
        let epsilon = try #require(result["epsilon"] as? Double)
        let sigma = try #require(result["noise_multiplier"] as? Double)
        let q = try #require(result["sampling_rate"] as? Double)
        #expect(q == 0.1 && result["rounds"] as? Int == 6)
        let account = try runVeil(["account", "dpsgd", "--sampling-rate", "\(q)", "--noise-multiplier", "\(sigma)",
                                   "--steps", "6", "--delta", "1e-5", "--json"])
        try #require(account.status == 0, "\(account.stderr)")
        let expected = try #require(try object(account.stdout)["epsilon"] as? Double)
        #expect(abs(epsilon - expected) <= 1e-12 * expected)
        #expect(epsilon <= 8)
        // The ledger: the planned run was reserved and committed (nothing left open or refunded).
        let show = try runVeil(["budget", "show", "fed", "--ledger", ledger, "--json"])
        let status = try object(show.stdout)
        #expect(status["committed"] as? Int == 1 && status["open"] as? Int == 0 && status["refunded"] as? Int == 0)
        let spent = try #require(status["epsilon_spent"] as? Double)
        #expect(abs(spent - epsilon) < 1e-9)
    }

    @Test("--evaluate-every K adds the test accuracy to every K-th progress line and the last; 0 is refused")
    func evaluateEvery() throws {
        let (folder, pipeline, ledger) = try setUp("fed-evaluate", clients: 100, perRound: 20, rounds: 5)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--evaluate-every", "2", "--json"],
                              timeout: .seconds(120))
        try #require(run.status == 0, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("round ") }
        #expect(lines.count == 5)
        let evaluated = lines.filter { $0.contains("test accuracy ") }.map { String($0.split(separator: " ")[1]) }
        #expect(evaluated == ["2/5", "4/5", "5/5"], "\(lines)")
        let last = try #require(lines.last.flatMap { Double(String($0.split(separator: " ").last ?? "")) })
        #expect(abs(last - (try #require(try object(run.stdout)["test_accuracy"] as? Double))) < 1e-4)
        let zero = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--evaluate-every", "0"])
        #expect(zero.status == 2 && zero.stderr.contains("--evaluate-every"), "\(zero.stderr)")
    }

    @Test("1,000 simulated clients: progress per round with clients reached and dropped, a model that learns")
    func thousandClients() throws {
        let (folder, pipeline, ledger) = try setUp("fed-1000", clients: 1000, perRound: 200, rounds: 8)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--dropout", "0.3", "--json"],
                              timeout: .seconds(300))
        try #require(run.status == 0, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("round ") }
        #expect(lines.count == 8)
        // 200 expected clients, 30% dropping: both counts are far from 0 (binomial tails below 1e-20).
        for line in lines {
            func count(after label: String) -> Int? {
                let parts = String(line).components(separatedBy: label + " ")
                return parts.count == 2 ? Int(String(parts[1].prefix { $0.isNumber })) : nil
            }
            #expect(line.contains("ε "))
            #expect((count(after: "reached") ?? 0) > 50 && (count(after: "dropped") ?? 0) > 20, "\(line)")
        }
        // Linearly separable data, σC/(q·N) ≈ 0.005 per coordinate: accuracy ≥ 0.9 fails with
        // probability far below 1e-9 (the noise is three orders of magnitude below the weights).
        let result = try object(run.stdout)
        #expect(try #require(result["test_accuracy"] as? Double) >= 0.9)
    }

    @Test("clients from a column: progress shows expected clients only, never the counts found in the data")
    func columnClientsHideCounts() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        let pipeline = root.appendingPathComponent("pipelines/health-panel-logistic-federated-eps1.yaml").path
        let folder = try TemporaryDirectory.make("fed-column")
        defer { try? FileManager.default.removeItem(at: folder) }
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        _ = try runVeil(["budget", "create", "health_panel_federated", "--epsilon", "2", "--delta", "1e-5", "--ledger", ledger])
        let run = try runVeil(["federated", "simulate", pipeline, "--rounds", "2", "--ledger", ledger,
                               "--output", folder.appendingPathComponent("m.safetensors").path], timeout: .seconds(300))
        try #require(run.status == 0, "\(run.stderr)")
        let rounds = run.stdout.split(separator: "\n").filter { $0.hasPrefix("round ") }
        #expect(rounds.count == 2)
        #expect(rounds.allSatisfy { $0.contains("clients expected 600.0") && !$0.contains("reached") })
        #expect(!run.stdout.contains("6127 clients found") && !run.stderr.contains("reached"))
        #expect(run.stdout.contains("client-level ε"))
    }

    @Test("bad input exits 2 with one line; a run the budget cannot hold exits 3 and writes nothing")
    func refusals() throws {
        let (folder, pipeline, ledger) = try setUp("fed-bad", clients: 100, perRound: 10, rounds: 3)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--dropout", "1"])
        #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1)
        let yaml = try String(contentsOfFile: pipeline, encoding: .utf8)
        try yaml.replacingOccurrences(of: "clients_per_round: 10", with: "clients_per_round: 10\n  rounds_typo: 1")
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let typo = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger])
        #expect(typo.status == 2 && typo.stderr.contains("rounds_typo"))
        try yaml.replacingOccurrences(of: "target_epsilon: 8", with: "target_epsilon: 20")
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let refused = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger])
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path))
    }

    @Test("aggregation secagg: the summary names it, ε is DP-FedAvg's, and an aborted round exits 1 with the charge kept")
    func secureAggregation() throws {
        let (folder, pipeline, ledger) = try setUp("fed-secagg-cli", clients: 200, perRound: 20, rounds: 3, epsilon: 3,
                                                   extraFederated: "  aggregation: secagg")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--json"], timeout: .seconds(120))
        try #require(run.status == 0, "\(run.stderr)")
        let result = try object(run.stdout)
        #expect(result["aggregation"] as? String == "secagg")
        #expect(run.stderr.contains("aggregation: secure aggregation (SecAgg+, modulus 2^32)"))
        let aborted = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--output", folder.appendingPathComponent("p.safetensors").path,
                                 "--dropout", "0.95"], timeout: .seconds(120))
        // 95% of ~20 clients drop out inside the protocol: round 1 aborts (it needs half of them; the chance
        // that it does not is below 1e-9), nothing is written, and the reservation is committed, not refunded.
        #expect(aborted.status == 1, "\(aborted.stderr)")
        #expect(aborted.stderr.contains("round aborted, nothing released"))
        // No count of clients or shares: the round's population may be private (design rule 7).
        let abortLine = aborted.stderr.split(separator: "\n").first { $0.contains("round aborted") }
        #expect(abortLine?.contains { $0.isNumber } == false, "\(abortLine ?? "")")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("p.safetensors").path))
        let show = try runVeil(["budget", "show", "fed", "--ledger", ledger, "--json"])
        let status = try object(show.stdout)
        #expect(status["committed"] as? Int == 2 && status["open"] as? Int == 0 && status["refunded"] as? Int == 0)
    }

    @Test("--aggregation ddg: the summary and JSON name it and its accountant; bad aggregations exit 2 uncharged")
    func distributedGaussian() throws {
        let (folder, pipeline, ledger) = try setUp("fed-ddg-cli", clients: 200, perRound: 20, rounds: 3, epsilon: 3)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--aggregation", "ddg", "--json"],
                              timeout: .seconds(120))
        try #require(run.status == 0, "\(run.stderr)")
        let result = try object(run.stdout)
        #expect(result["aggregation"] as? String == "ddg" && result["accountant"] as? String == "ddg")
        #expect(try #require(result["epsilon"] as? Double) <= 3)
        #expect(run.stderr.contains("the server sees only a noisy sum"))
        let unknown = try runVeil(["federated", "simulate", pipeline, "--ledger", ledger, "--aggregation", "shamir"])
        #expect(unknown.status == 2 && unknown.stderr.contains("plain, secagg or ddg"))
        let nonPrivate = folder.appendingPathComponent("fedavg.yaml").path
        try FederatedTestData.pipeline(folder: folder, clients: 200, perRound: 20, rounds: 3, epsilon: nil)
            .write(toFile: nonPrivate, atomically: true, encoding: .utf8)
        let refused = try runVeil(["federated", "simulate", nonPrivate, "--ledger", ledger, "--aggregation", "ddg"])
        #expect(refused.status == 2 && refused.stderr.contains("privacy target"), "\(refused.stderr)")
        let show = try runVeil(["budget", "show", "fed", "--ledger", ledger, "--json"])
        #expect(try object(show.stdout)["committed"] as? Int == 1, "only the ddg run was charged")
    }
}

