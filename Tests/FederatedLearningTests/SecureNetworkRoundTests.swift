import FederatedLearning
import Foundation
import Mechanisms
import SecureAggregation
import Testing
import _TestSupport

/// Secure aggregation over the network: the coordinator's refusals, and a server with 20 `veil federated join`
/// processes of which 30% leave mid-protocol.
@Suite("Federated network: secure aggregation")
struct SecureNetworkRoundTests {
    @Test("SecAgg+ messages from unknown, unsampled, late or duplicate senders and malformed ones are refused; the round goes on")
    func refusals() async throws {
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 3, vectorLength: 4, bitWidth: 24)
        var source = InsecureSeededRandomSource(seed: 5)
        let server = try SecAggServer(configuration: configuration, using: &source)
        let coordinator = RoundCoordinator()
        await coordinator.open(round: 2, clients: ["a", "b", "c"], model: Data([1]), relay: SecAggRelay(server: server))
        #expect(await coordinator.secureIndex(for: "b") == 1)
        #expect(await coordinator.secureIndex(for: "z") == nil)
        // The model is handed out once per client, while keys are advertised.
        guard case .train = await coordinator.task(for: "a") else { Issue.record("no model for a"); return }
        guard case .wait = await coordinator.task(for: "a") else { Issue.record("a got the model twice"); return }
        func status(_ client: String, _ round: Int, _ bytes: [UInt8]) async -> Int {
            do {
                try await coordinator.receiveSecure(client: client, round: round, bytes: bytes)
                return 200
            } catch let refusal as RoundCoordinator.Refusal {
                return refusal.status
            } catch {
                return -1
            }
        }
        let keys = (0..<3).map { i in
            try! SecAggClient(index: UInt32(i), configuration: configuration, roundID: server.roundID, using: &source)
        }
        let advertise = { (i: Int) in SecAggMessage.advertiseKeys(keys[i].advertiseKeys()).encoded() }
        #expect(await status("a", 2, advertise(0)) == 200)
        #expect(await status("a", 2, advertise(0)) == 409, "duplicate")
        #expect(await status("b", 1, advertise(1)) == 409, "an earlier round")
        #expect(await status("z", 2, advertise(1)) == 403, "not sampled")
        #expect(await status("b", 2, advertise(0)) == 422, "names another sender")
        #expect(await status("b", 2, Array("garbage".utf8)) == 422, "malformed")
        var other = InsecureSeededRandomSource(seed: 6)
        let stranger = try SecAggClient(index: 1, configuration: configuration, roundID: server.roundID &+ 1, using: &other)
        #expect(await status("b", 2, SecAggMessage.advertiseKeys(stranger.advertiseKeys()).encoded()) == 422, "replayed from another round")
        #expect(!(await coordinator.secureStepComplete))
        #expect(await status("b", 2, advertise(1)) == 200)
        #expect(await status("c", 2, advertise(2)) == 200)
        #expect(await coordinator.secureStepComplete)
        #expect(try await coordinator.closeSecureStep() == .sharing)
        guard case .message = await coordinator.secureMessage(client: "c", round: 2, step: 1) else {
            Issue.record("no key directory for c"); return
        }
        #expect(await coordinator.secureMessage(client: "c", round: 2, step: 2) == .wait)
        #expect(await coordinator.secureMessage(client: "z", round: 2, step: 1) == .gone)
        #expect(await coordinator.refusals == ["duplicate": 1, "late or replayed": 1, "not sampled": 1,
                                               "refused protocol message": 3])
    }

    @Test("20 client processes, 3 leaving after their shares and 3 after their masked input: every round completes and the model learns",
          arguments: ["secagg", "ddg"])
    func serverAndClients(aggregation: String) throws {
        let folder = try TemporaryDirectory.make("fed-\(aggregation)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let roster = folder.appendingPathComponent("roster.txt").path
        let clients = try FederatedTestData.networkClients(20, in: folder, roster: roster)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        _ = try runVeil(["budget", "create", "fed", "--epsilon", "20", "--delta", "1e-4", "--ledger", ledger])
        let pipeline = folder.appendingPathComponent("fed.yaml").path
        try FederatedTestData.networkPipeline(folder: folder, clients: 20, rounds: 2, epsilon: 19,
                                              extraFederated: "  aggregation: \(aggregation)")
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let (server, serverOutput, base) = try NetworkProcessTests.startServer([pipeline, "--roster", roster, "--ledger", ledger,
                                                                                "--round-deadline", "8"])
        defer { if server.isRunning { server.terminate() } }
        let processes = try NetworkProcessTests.join(clients, at: base) {  // 3 + 3 of 20
            $0 % 10 < 3 ? ["--leave-after", $0 < 10 ? "shares" : "masked-input"] : []
        }
        // Protocol messages over HTTP: a wrong token, an oversized body, a round that is not open.
        let token0 = try String(contentsOfFile: clients[0].token, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let curl = NetworkProcessTests.httpStatus
        let auth = ["-H", "Authorization: Bearer \(token0)", "-H", "Veil-Client: client-0"]
        #expect(try curl(["-H", "Authorization: Bearer wrong", "-H", "Veil-Client: client-0", base + "/federated/v1/secagg/1/1"]) == "401")
        #expect(try curl(auth + ["--data-binary", "garbage", base + "/federated/v1/secagg/999"]) == "409")
        #expect(try curl(auth + [base + "/federated/v1/secagg/999/1"]) == "410")
        for process in processes { #expect(NetworkProcessTests.wait(process, seconds: 150)) }
        #expect(NetworkProcessTests.wait(server, seconds: 60))
        #expect(server.terminationStatus == 0, "\(serverOutput.value)")
        let rounds = serverOutput.value.split(separator: "\n").filter { $0.hasPrefix("round ") }
        // Round 1: the 3 that left after their masked input are in the sum (their self-masks rebuilt from their
        // neighbours' shares), the 3 that left after their shares are not (their pairwise masks removed through their
        // rebuilt masking keys). Round 2: the 6 are gone before they advertise keys.
        #expect(rounds.count == 2, "\(serverOutput.value)")
        #expect(rounds.first?.contains("clients reached 17, dropped 3") == true, "\(rounds)")
        #expect(rounds.last?.contains("clients reached 14, dropped 6") == true, "\(rounds)")
        // A sum whose masks did not cancel would be uniform noise modulo 2^32 and wreck the model.
        let model = folder.appendingPathComponent("model.safetensors").path
        let evaluation = try runVeil(["evaluate", model, "--data", folder.appendingPathComponent("test.csv").path, "--json"])
        try #require(evaluation.status == 0, "\(evaluation.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(evaluation.stdout.utf8)) as? [String: Any])
        // Balanced binary labels: a wrecked model is near 0.5, whatever the noise draw. The threshold leaves room for
        // the differentially private noise, which comes from the operating system and cannot be seeded here.
        #expect(try #require(object["accuracy"] as? Double) >= 0.75, "\(evaluation.stdout)")
        // The release was charged: the plan was reserved and committed.
        let show = try runVeil(["budget", "show", "fed", "--ledger", ledger, "--json"])
        let status = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(status["committed"] as? Int == 1 && status["open"] as? Int == 0, "\(show.stdout)")
    }
}
