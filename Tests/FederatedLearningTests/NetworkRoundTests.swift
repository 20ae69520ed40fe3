import FederatedLearning
import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining
import Testing
import _TestSupport

/// Every bad message is refused with its reason while the round goes on; the roster checks tokens by digest.
@Suite("Federated network: refusals")
struct NetworkRoundTests {
    static func model() throws -> SequentialModel { try LocalTrainingTests.zeroModel() }

    @Test("the roster accepts a client's own token only, and stores digests")
    func roster() throws {
        let roster = try ClientRoster(entries: [("alice", ClientRoster.digestHex(token: "secret-a")),
                                                ("bob", ClientRoster.digestHex(token: "secret-b"))])
        #expect(roster.authenticate(id: "alice", token: "secret-a") == "alice")
        #expect(roster.authenticate(id: "alice", token: "secret-b") == nil)
        #expect(roster.authenticate(id: "mallory", token: "secret-a") == nil)
        #expect(ClientRoster.digestHex(token: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(throws: VeilError.self) { try ClientRoster(entries: [("a b", ClientRoster.digestHex(token: "x"))]) }
        #expect(throws: VeilError.self) { try ClientRoster(entries: [("a", "1234")]) }
    }

    @Test("malformed, wrong-shape, NaN, duplicate, replayed and unsampled updates are refused; the good ones count")
    func refusals() async throws {
        let model = try Self.model()
        let coordinator = RoundCoordinator()
        await coordinator.open(round: 3, clients: ["a", "b", "c", "d"], model: Data())
        let good = try UpdateMessage.encode(update: [1, 2, 3, 4, 5, 6], like: model)
        func submit(_ client: String, _ round: Int, _ body: Data) async -> Int {
            do {
                try await coordinator.submit(client: client, round: round) { try UpdateMessage.decode(body, expecting: model) }
                return 200
            } catch let refusal as RoundCoordinator.Refusal {
                return refusal.status
            } catch {
                return -1
            }
        }
        #expect(await submit("a", 3, good) == 200)
        #expect(await submit("a", 3, good) == 409, "duplicate")
        #expect(await submit("b", 2, good) == 409, "replay of an earlier round")
        #expect(await submit("z", 3, good) == 403, "not sampled")
        // An unusable update is refused to its client (422 with the reason) but counts as its zero update, so no
        // count the server prints depends on whether a client's data made its update NaN; a second one is a duplicate.
        #expect(await submit("b", 3, Data("not safetensors".utf8)) == 422, "malformed")
        #expect(await submit("b", 3, good) == 409, "the malformed update was b's update for the round")
        var random = InsecureSeededRandomSource(seed: 1)
        let other = try SequentialModel(architecture: ModelArchitecture.logisticRegression(classes: 3),
                                        inputShape: ImageShape(height: 1, width: 1, channels: 2), random: &random)
        #expect(await submit("c", 3, try UpdateMessage.encode(update: [Float](repeating: 0, count: 9), like: other)) == 422,
                "wrong shape")
        #expect(await submit("d", 3, try UpdateMessage.encode(update: [1, .nan, 0, 0, 0, 0], like: model)) == 422, "NaN")
        #expect(throws: VeilError.self) { try UpdateMessage.decode(try UpdateMessage.encode(update: [1, .infinity, 0, 0, 0, 0], like: model), expecting: model) }
        #expect(await coordinator.complete)
        let received = await coordinator.close()
        #expect(Set(received.keys) == ["a", "b", "c", "d"])
        #expect(received["a"] == [1, 2, 3, 4, 5, 6])
        #expect(received["b"] == [] && received["c"] == [] && received["d"] == [])
        #expect(await submit("d", 3, good) == 409, "late: the round is closed")
        // Only protocol faults are counted, by a fixed set of kinds (a client cannot grow the table).
        let refusals = await coordinator.refusals
        #expect(refusals == ["duplicate": 2, "late or replayed": 2, "not sampled": 1])
    }
}

/// A server and 20 client processes of the `veil` binary on loopback; 30% of the clients leave mid-round.
@Suite("Federated network: processes")
struct NetworkProcessTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ data: Data) { lock.withLock { text += String(decoding: data, as: UTF8.self) } }
        var value: String { lock.withLock { text } }
    }

    static func start(_ arguments: [String], output: Lines?) throws -> Process {
        let process = Process()
        process.executableURL = veilExecutableURL()
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output?.append(data) }
        }
        try process.run()
        return process
    }

    static func wait(_ process: Process, seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate(); return false }
        return true
    }

    /// Starts `veil federated serve` with `arguments` (after `serve`) and waits up to 30 s for the URL (http or https)
    /// it prints first.
    static func startServer(_ arguments: [String]) throws -> (process: Process, output: Lines, url: String) {
        let output = Lines()
        let process = try start(["federated", "serve"] + arguments, output: output)
        var url: String?
        for _ in 0..<600 where url == nil {
            Thread.sleep(forTimeInterval: 0.05)
            if let range = output.value.range(of: "https?://127.0.0.1:[0-9]+", options: .regularExpression) {
                url = String(output.value[range])
            }
        }
        guard let url else {
            if process.isRunning { process.terminate() }
            throw ServerDidNotListen(output: output.value)
        }
        return (process, output, url)
    }

    struct ServerDidNotListen: Error, CustomStringConvertible {
        let output: String
        var description: String { "the server printed no URL: \(output)" }
    }

    /// One `veil federated join` process per client against the server at `base` (a 120 s timeout each), with the
    /// options `extra(i)` adds for the i-th client; their output goes to `output` when given.
    static func join(_ clients: [(id: String, token: String, data: String)], at base: String, output: Lines? = nil,
                     extra: (Int) -> [String] = { _ in [] }) throws -> [Process] {
        try clients.enumerated().map { i, client in
            try start(["federated", "join", base, "--client-id", client.id, "--token-file", client.token,
                       "--data", client.data, "--timeout", "120"] + extra(i), output: output)
        }
    }

    /// The HTTP status curl reports for a request with `arguments`.
    static func httpStatus(_ arguments: [String]) throws -> String {
        try runTool("/usr/bin/env", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + arguments).stdout
    }

    @Test("20 clients, 6 of them leaving before they send: every round completes and the model learns")
    func serverAndClients() throws {
        let folder = try TemporaryDirectory.make("fed-net")
        defer { try? FileManager.default.removeItem(at: folder) }
        let roster = folder.appendingPathComponent("roster.txt").path
        let clients = try FederatedTestData.networkClients(20, in: folder, roster: roster)
        let pipeline = folder.appendingPathComponent("fed.yaml").path
        try FederatedTestData.networkPipeline(folder: folder, clients: 20, rounds: 3, epsilon: nil)
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let (server, serverOutput, base) = try Self.startServer([pipeline, "--roster", roster, "--round-deadline", "6",
                                                                 "--max-update-bytes", "100000"])
        defer { if server.isRunning { server.terminate() } }
        let processes = try Self.join(clients, at: base) { $0 % 10 < 3 ? ["--exit-before-sending"] : [] }  // 6 of 20
        // An unknown client is refused at once.
        let stranger = try runVeil(["federated", "join", base, "--client-id", "mallory", "--token-file", clients[0].token,
                                    "--data", clients[0].data, "--timeout", "30"], timeout: .seconds(60))
        #expect(stranger.status == 2 && stranger.stderr.contains("unknown client or wrong token"))
        // Bad messages over HTTP, each refused with its status while the round goes on (client-0 is one that leaves
        // before sending, so its slot in the open round stays free).
        let token0 = try String(contentsOfFile: clients[0].token, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let curl = Self.httpStatus
        let auth = ["-H", "Authorization: Bearer \(token0)", "-H", "Veil-Client: client-0"]
        #expect(try curl(["-H", "Authorization: Bearer wrong", "-H", "Veil-Client: client-0", base + "/federated/v1/task"]) == "401")
        let big = folder.appendingPathComponent("big.bin")
        try Data(count: 200_000).write(to: big)
        #expect(try curl(auth + ["--data-binary", "@" + big.path, base + "/federated/v1/update/1"]) == "413")
        #expect(try curl(auth + ["--data-binary", "garbage", base + "/federated/v1/update/999"]) == "409", "not the open round")
        let headers = try runTool("/usr/bin/env", ["curl", "-s", "-D", "-", "-o", "/dev/null"] + auth + [base + "/federated/v1/task"]).stdout
        let roundLine = headers.split(whereSeparator: \.isNewline).first { $0.lowercased().hasPrefix("veil-round:") }
        let open = try #require(roundLine.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespacesAndNewlines)) },
                                "\(headers)")
        #expect(try curl(auth + ["--data-binary", "garbage", base + "/federated/v1/update/\(open)"]) == "422", "malformed")
        for process in processes { #expect(Self.wait(process, seconds: 120)) }
        #expect(Self.wait(server, seconds: 60))
        #expect(server.terminationStatus == 0, "\(serverOutput.value)")
        let rounds = serverOutput.value.split(separator: "\n").filter { $0.hasPrefix("round ") }
        #expect(rounds.count == 3, "\(serverOutput.value)")
        // q = 1: all 20 sampled every round; the 6 that left never answer, except that the malformed body sent as
        // client-0 in the open round counts as client-0's (zero) update there.
        #expect(rounds.filter { $0.contains("clients reached 14, dropped 6") }.count == 2, "\(rounds)")
        #expect(rounds.filter { $0.contains("clients reached 15, dropped 5") }.count == 1, "\(rounds)")
        #expect(serverOutput.value.contains("refused 1×: late or replayed"), "\(serverOutput.value)")
        #expect(!serverOutput.value.contains("not a valid Veil model file"), "\(serverOutput.value)")
        let model = folder.appendingPathComponent("model.safetensors").path
        let evaluation = try runVeil(["evaluate", model, "--data", folder.appendingPathComponent("test.csv").path, "--json"])
        try #require(evaluation.status == 0, "\(evaluation.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(evaluation.stdout.utf8)) as? [String: Any])
        #expect(try #require(object["accuracy"] as? Double) >= 0.9)
    }

    @Test("a server that cannot listen (port in use) fails before it reserves anything")
    func portInUse() throws {
        let folder = try TemporaryDirectory.make("fed-port")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FederatedTestData.writeCSV(rows: 100, in: folder)
        let roster = folder.appendingPathComponent("roster.txt").path
        _ = try runVeil(["federated", "token", "only", "--roster", roster])
        let pipeline = folder.appendingPathComponent("fed.yaml").path
        try FederatedTestData.networkPipeline(folder: folder, clients: 1, rounds: 1)
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        var ledgers: [String] = []
        for name in ["first", "second"] {
            let ledger = folder.appendingPathComponent("\(name).sqlite").path
            _ = try runVeil(["budget", "create", "fed", "--epsilon", "10", "--delta", "1e-4", "--ledger", ledger])
            ledgers.append(ledger)
        }
        // The first server's one round ends by its deadline (no client joins), a few seconds after the second has tried.
        let (first, _, url) = try Self.startServer([pipeline, "--roster", roster, "--ledger", ledgers[0], "--round-deadline", "5"])
        defer { _ = Self.wait(first, seconds: 60) }
        let taken = String(url.dropFirst("http://127.0.0.1:".count))
        let second = try runVeil(["federated", "serve", pipeline, "--roster", roster, "--ledger", ledgers[1], "--port", taken,
                                  "--output", folder.appendingPathComponent("second.safetensors").path], timeout: .seconds(60))
        #expect(second.status == 1 && second.stderr.contains("could not listen"), "\(second.status) \(second.stderr)")
        let show = try runVeil(["budget", "show", "fed", "--ledger", ledgers[1], "--json"])
        let status = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(status["open"] as? Int == 0 && status["committed"] as? Int == 0)
    }
}
