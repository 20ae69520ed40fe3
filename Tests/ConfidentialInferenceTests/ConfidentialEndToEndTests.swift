import _TestSupport
import ConfidentialInference
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TransparencyLog

/// Confidential inference on loopback, in separate processes: a model trained by `veil train`, its
/// measurement appended to a transparency log, served by `veil serve --confidential` with simulated
/// evidence, reached by `veil enclave query` through `veil enclave relay`.
@Suite("confidential inference end to end", .serialized)
struct ConfidentialEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Everything a run needs, made once per test in its own folder.
    struct Setup {
        let folder: URL
        let store: String
        let model: String
        let log: String
        let head: String
        let logKey: String
        let policy: String
        let serveArguments: [String]

        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
    }

    static func run(_ arguments: [String]) throws -> VeilRun {
        let result = try runVeil(arguments, timeout: .seconds(300))
        try #require(result.status == 0, "veil \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    /// Trains the health-panel logistic model (one epoch), stores it, logs its measurement (among other
    /// entries), signs a head and writes a simulated-evidence policy pinning the measurement.
    static func setup(_ label: String) throws -> Setup {
        let folder = try TemporaryDirectory.make(label)
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        let ledger = path("ledger.sqlite")
        _ = try run(["budget", "create", "health_panel_training", "--epsilon", "10", "--delta", "1e-4", "--ledger", ledger])
        let pipeline = try String(contentsOf: repository.appendingPathComponent("pipelines/health-panel-logistic-eps1.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "../datasets/", with: repository.appendingPathComponent("datasets").path + "/")
            .replacingOccurrences(of: "epochs: 20", with: "epochs: 1")
            .replacingOccurrences(of: "output: ../models/health-panel-logistic-eps1.safetensors", with: "output: \(path("trained.safetensors"))")
        try pipeline.write(toFile: path("pipeline.yaml"), atomically: true, encoding: .utf8)
        _ = try run(["train", path("pipeline.yaml"), "--ledger", ledger])
        let store = path("models")
        _ = try run(["models", "add", path("trained.safetensors"), "--name", "health", "--models", store])
        let model = store + "/health.safetensors"
        let binary = veilExecutableURL().resolvingSymlinksInPath().path

        // The log: two other releases, this one, one more.
        let log = path("releases.tlog")
        try Data("an older model".utf8).write(to: folder.appendingPathComponent("older.safetensors"))
        _ = try run(["transparency", "append", "--log", log, "--binary", binary, "--model", path("older.safetensors")])
        _ = try run(["transparency", "append", "--log", log, "--binary", binary, "--model", path("older.safetensors"), "--config", path("pipeline.yaml")])
        let appended = try run(["transparency", "append", "--log", log, "--binary", binary, "--model", model, "--json"])
        let measurement = try #require(try JSONSerialization.jsonObject(with: Data(appended.stdout.utf8)) as? [String: Any])["measurement"] as? String
        _ = try run(["transparency", "append", "--log", log, "--binary", binary, "--model", path("pipeline.yaml")])
        let headRun = try run(["transparency", "head", "--log", log, "--signing-key", path("log.key"), "--create-key",
                               "--output", path("head.json"), "--json"])
        let head = try #require(try JSONSerialization.jsonObject(with: Data(headRun.stdout.utf8)) as? [String: Any])
        let logKey = try #require(head["public_key"] as? String)

        let policy = path("policy.yaml")
        try "tee: simulated\nallow_simulated: true\nmeasurement: \"\(try #require(measurement))\"\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let serve = ["serve", "health", "--models", store, "--confidential", "--transparency-log", log, "--log-head", path("head.json"),
                     "--simulated-key", path("platform.pem"), "--platform-secret", path("platform.secret"), "--sealed-key", path("gateway.sealed")]
        return Setup(folder: folder, store: store, model: model, log: log, head: path("head.json"), logKey: logKey, policy: policy,
                     serveArguments: serve)
    }

    static func inferBody(id: String, values: [String]) -> [UInt8] {
        Array(#"{"id":"\#(id)","inputs":[{"name":"input","shape":[1,10],"datatype":"FP32","data":[\#(values.joined(separator: ","))]}]}"#.utf8)
    }

    static func post(_ url: String, _ body: [UInt8], contentType: String) async throws -> (Int, [UInt8]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
    }

    static func get(_ url: String) async throws -> (Int, [UInt8]) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
    }

    @Test("a verified client gets the plain server's prediction; refusals for another model, tampering and replay")
    func confidentialQuery() async throws {
        let setup = try Self.setup("conf-e2e")
        defer { try? FileManager.default.removeItem(at: setup.folder) }
        let server = try VeilServiceProcess(setup.serveArguments, folder: setup.folder, name: "serve")
        defer { server.stop() }
        let relay = try VeilServiceProcess(["enclave", "relay", "--gateway", server.url], folder: setup.folder, name: "relay")
        defer { relay.stop() }
        // The gateway's key exists only sealed on disk.
        let sealed = try Data(contentsOf: URL(fileURLWithPath: setup.path("gateway.sealed")))
        #expect(sealed.starts(with: Data("VEIL-SEALED-v1\n".utf8)))

        let body = Self.inferBody(id: "e2e", values: ["40", "3", "12", "2", "4", "0", "1", "0", "0", "0"])
        try Data(body).write(to: setup.folder.appendingPathComponent("request.json"))
        let plain = try await Self.post("\(server.url)/v2/models/health/infer", body, contentType: "application/json")
        #expect(plain.0 == 200)

        let query = ["enclave", "query", server.url, "--relay", relay.url, "--policy", setup.policy, "--model", "health",
                     "--input", setup.path("request.json"), "--log-key", setup.logKey, "--state", setup.path("state.json")]
        let answered = try runVeil(query, timeout: .seconds(120))
        #expect(answered.status == 0, "\(answered.stderr)")
        #expect(answered.stdout == String(decoding: plain.1, as: UTF8.self) + "\n")
        // The client remembered the head; a second query checks consistency from it and still succeeds.
        let remembered = try JSONDecoder().decode(SignedTreeHead.self, from: Data(contentsOf: URL(fileURLWithPath: setup.path("state.json"))))
        #expect(remembered.treeSize == 4)
        #expect(try runVeil(query, timeout: .seconds(120)).status == 0)
        // Through a relay the client never contacts the gateway itself, not even for the evidence: with the gateway's
        // own address unreachable the query still succeeds.
        var relayOnly = query
        relayOnly[relayOnly.firstIndex(of: server.url)!] = "http://127.0.0.1:9"
        let throughRelay = try runVeil(relayOnly, timeout: .seconds(120))
        #expect(throughRelay.status == 0, "\(throughRelay.stderr)")
        #expect(throughRelay.stdout == String(decoding: plain.1, as: UTF8.self) + "\n")

        // A policy pinning another model's measurement: refused before anything is sent.
        let other = try Self.run(["enclave", "measure", "--binary", veilExecutableURL().resolvingSymlinksInPath().path,
                                  "--model", setup.path("older.safetensors")]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let otherPolicy = setup.path("other-policy.yaml")
        try "tee: simulated\nallow_simulated: true\nmeasurement: \"\(other)\"\n".write(toFile: otherPolicy, atomically: true, encoding: .utf8)
        var refusedQuery = query
        refusedQuery[refusedQuery.firstIndex(of: setup.policy)!] = otherPolicy
        let refused = try runVeil(refusedQuery, timeout: .seconds(120))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refused: the evidence fails the policy"), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)

        // Requests sealed here to the published key: tampered and replayed ones are refused by the gateway.
        let nonce = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let evidence = try await Self.get("\(server.url)/confidential/evidence?nonce=\(LogHex.encode(nonce))")
        let bundle = try JSONDecoder().decode(GatewayEvidence.self, from: Data(evidence.1))
        let configuration = try OHTTPKeyConfiguration.decodeList(bundle.keyConfigurations)[0]
        let inner = BinaryHTTPRequest(method: "POST", path: "/v2/models/health/infer",
                                      headers: [HTTPField("date", HTTPDate.string(from: Date()))], content: body)
        let sealedRequest = try ObliviousRequest(request: SizeBuckets.padded(inner.encoded()), configuration: configuration)
        let ohttp = "\(relay.url)/confidential/ohttp"
        var tampered = sealedRequest.encapsulated
        tampered[tampered.count - 20] ^= 0x01
        let tamperedAnswer = try await Self.post(ohttp, tampered, contentType: ObliviousRequest.requestMediaType)
        #expect(tamperedAnswer.0 == 400)
        #expect(tamperedAnswer.1.isEmpty)
        var unknownKey = sealedRequest.encapsulated
        unknownKey[0] = 99
        let mismatch = try await Self.post(ohttp, unknownKey, contentType: ObliviousRequest.requestMediaType)
        #expect(mismatch.0 == 422)
        #expect(String(decoding: mismatch.1, as: UTF8.self).contains("http-problem-types#ohttp-key"))

        let first = try await Self.post(ohttp, sealedRequest.encapsulated, contentType: ObliviousRequest.requestMediaType)
        #expect(first.0 == 200)
        let firstInner = try BinaryHTTPResponse(decoding: try sealedRequest.openResponse(first.1))
        #expect(firstInner.status == 200)
        #expect(firstInner.content == plain.1)
        #expect(first.1.count == SizeBuckets.bucket(for: first.1.count - 32) + 32, "the response travels padded to its bucket")
        let replayed = try await Self.post(ohttp, sealedRequest.encapsulated, contentType: ObliviousRequest.requestMediaType)
        #expect(replayed.0 == 200)
        #expect(try BinaryHTTPResponse(decoding: try sealedRequest.openResponse(replayed.1)).status == 400)
    }

    /// A host in front of the gateway (the address the client is given) that replays evidence the gateway made for an
    /// earlier nonce, or forwards fresh evidence with a key configuration of its own in place of the gateway's: the
    /// client, a separate `veil enclave query` process, refuses both on the report data and sends nothing.
    @Test("a stale nonce and evidence for another key are refused before anything is sent")
    func interposedHostIsRefused() async throws {
        let setup = try Self.setup("conf-host")
        defer { try? FileManager.default.removeItem(at: setup.folder) }
        let server = try VeilServiceProcess(setup.serveArguments, folder: setup.folder, name: "serve")
        defer { server.stop() }
        try Data(Self.inferBody(id: "host", values: ["40", "3", "12", "2", "4", "0", "1", "0", "0", "0"]))
            .write(to: setup.folder.appendingPathComponent("request.json"))
        func query(through host: InterposedHost) async throws -> VeilRun {
            try await runVeilOffPool(["enclave", "query", host.url, "--policy", setup.policy, "--model", "health",
                                      "--input", setup.path("request.json"), "--log-key", setup.logKey, "--state", setup.path("state.json")],
                                     timeout: .seconds(120))
        }

        // Control: a host that forwards honestly lets the query through, and sees its one encapsulated request.
        let honest = try await InterposedHost(gateway: server.url) { $0 }
        defer { honest.stop() }
        let answered = try await query(through: honest)
        #expect(answered.status == 0, "\(answered.stderr)")
        #expect(answered.stdout.contains("\"id\":\"host\""), "\(answered.stdout)")
        #expect(honest.encapsulatedRequests == 1)

        // Evidence the gateway gave for another nonce, replayed to every client.
        let earlier = try await Self.get("\(server.url)/confidential/evidence?nonce=\(LogHex.encode((0..<32).map { _ in UInt8.random(in: 0...255) }))")
        #expect(earlier.0 == 200)
        let stale = try await InterposedHost(gateway: server.url) { _ in earlier.1 }
        defer { stale.stop() }
        // Fresh evidence for the client's nonce, but the host's own key configuration in place of the gateway's.
        let hostKeys = OHTTPKeyConfiguration.encodeList(ObliviousHTTPGateway().configurations)
        let swapped = try await InterposedHost(gateway: server.url) { answer in
            let bundle = try JSONDecoder().decode(GatewayEvidence.self, from: Data(answer))
            return Array(try JSONEncoder().encode(GatewayEvidence(keyConfigurations: hostKeys, evidence: bundle.evidence, manifest: bundle.manifest,
                                                                  inclusion: bundle.inclusion, head: bundle.head, consistency: bundle.consistency)))
        }
        defer { swapped.stop() }
        for host in [stale, swapped] {
            let refused = try await query(through: host)
            #expect(refused.status == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("refused: the evidence fails the policy: policy.report_data"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
            #expect(host.encapsulatedRequests == 0, "nothing is sent after a refusal")
        }
    }

    /// `--rotate-keys-every 4s --key-grace 3s`: a new key is published first and sealed to disk; a request sealed to
    /// the old key is answered within the grace period and refused with the RFC's key error after it.
    @Test("timed key rotation: the old key is accepted for its grace period, then refused with the ohttp-key error")
    func timedKeyRotation() async throws {
        let setup = try Self.setup("conf-rotate")
        defer { try? FileManager.default.removeItem(at: setup.folder) }
        let badGrace = try runVeil(setup.serveArguments + ["--rotate-keys-every", "4s", "--key-grace", "5s", "--port", "0"], timeout: .seconds(60))
        #expect(badGrace.status == 2, "\(badGrace.stderr)")
        #expect(badGrace.stderr.contains("grace period"), "\(badGrace.stderr)")
        let badInterval = try runVeil(setup.serveArguments + ["--rotate-keys-every", "4 seconds", "--port", "0"], timeout: .seconds(60))
        #expect(badInterval.status == 2, "\(badInterval.stderr)")

        let server = try VeilServiceProcess(setup.serveArguments + ["--rotate-keys-every", "4s", "--key-grace", "3s"], folder: setup.folder, name: "serve")
        defer { server.stop() }
        let sealedAtStart = try Data(contentsOf: URL(fileURLWithPath: setup.path("gateway.sealed")))
        func published() async throws -> [OHTTPKeyConfiguration] {
            let answer = try await Self.get("\(server.url)/confidential/evidence?nonce=\(LogHex.encode((0..<32).map { _ in UInt8.random(in: 0...255) }))")
            try #require(answer.0 == 200)
            return try OHTTPKeyConfiguration.decodeList(try JSONDecoder().decode(GatewayEvidence.self, from: Data(answer.1)).keyConfigurations)
        }
        func send(to configuration: OHTTPKeyConfiguration) async throws -> (status: Int, body: [UInt8], sealed: ObliviousRequest) {
            let inner = BinaryHTTPRequest(method: "POST", path: "/v2/models/health/infer", headers: [HTTPField("date", HTTPDate.string(from: Date()))],
                                          content: Self.inferBody(id: "rotate", values: ["40", "3", "12", "2", "4", "0", "1", "0", "0", "0"]))
            let sealed = try ObliviousRequest(request: SizeBuckets.padded(inner.encoded()), configuration: configuration)
            let answer = try await Self.post("\(server.url)/confidential/ohttp", sealed.encapsulated, contentType: ObliviousRequest.requestMediaType)
            return (answer.0, answer.1, sealed)
        }
        func waitFor(_ what: String, _ condition: ([OHTTPKeyConfiguration]) -> Bool) async throws -> [OHTTPKeyConfiguration] {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let list = try await published()
                if condition(list) { return list }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("timed out waiting for \(what); log: \(server.log)")
            throw CancellationError()
        }

        let first = try await published()
        #expect(first.map(\.keyID) == [1])
        // Rotated: the new key is published first, the old one still listed and accepted.
        let rotated = try await waitFor("the first rotation") { $0[0].keyID != 1 }
        let inGrace = try await send(to: first[0])
        #expect(rotated.map(\.keyID) == [2, 1])
        #expect(inGrace.status == 200)
        #expect(try BinaryHTTPResponse(decoding: try inGrace.sealed.openResponse(inGrace.body)).status == 200)
        let toNew = try await send(to: rotated[0])
        #expect(toNew.status == 200)
        #expect(try Data(contentsOf: URL(fileURLWithPath: setup.path("gateway.sealed"))) != sealedAtStart, "the new key is sealed to disk")
        // After the grace period: no longer published, and refused as an unknown key (RFC 9458 §5.3).
        _ = try await waitFor("the end of the grace period") { !$0.contains(first[0]) }
        let late = try await send(to: first[0])
        #expect(late.status == 422)
        #expect(String(decoding: late.body, as: UTF8.self).contains("http-problem-types#ohttp-key"))
        #expect(server.log.contains("key rotation: key 2 is current"), "\(server.log)")
    }

    @Test("a gateway whose measurement is not in the log does not start")
    func unloggedMeasurementRefusedAtStart() throws {
        let setup = try Self.setup("conf-unlogged")
        defer { try? FileManager.default.removeItem(at: setup.folder) }
        // A log with only other entries, and its head.
        let log = setup.path("other.tlog")
        _ = try Self.run(["transparency", "append", "--log", log, "--binary", veilExecutableURL().resolvingSymlinksInPath().path,
                          "--model", setup.path("older.safetensors")])
        _ = try Self.run(["transparency", "head", "--log", log, "--signing-key", setup.path("log.key"), "--output", setup.path("other-head.json")])
        var arguments = setup.serveArguments
        arguments[arguments.firstIndex(of: setup.log)!] = log
        arguments[arguments.firstIndex(of: setup.head)!] = setup.path("other-head.json")
        let started = try runVeil(arguments + ["--port", "0"], timeout: .seconds(60))
        #expect(started.status == 2)
        #expect(started.stderr.contains("not in the transparency log"), "\(started.stderr)")
    }

    /// The ZDR canary in confidential mode: a request whose values and id are canaries, sent through the
    /// relay, leaves no trace in the relay's memory or in any file of the run.
    @Test("canaries never reach the relay in the clear", .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/mem")))
    func canaryThroughRelay() async throws {
        let setup = try Self.setup("conf-canary")
        defer { try? FileManager.default.removeItem(at: setup.folder) }
        let server = try VeilServiceProcess(setup.serveArguments, folder: setup.folder, name: "serve")
        defer { server.stop() }
        let relay = try VeilServiceProcess(["enclave", "relay", "--gateway", server.url], folder: setup.folder, name: "relay")
        defer { relay.stop() }
        let digits = String((0..<12).map { _ in Character(String(Int.random(in: 1...9))) })
        let canaryID = "CANARY-" + UUID().uuidString
        let canaryValue = "0.\(digits)"
        try Data(Self.inferBody(id: canaryID, values: Array(repeating: canaryValue, count: 10)))
            .write(to: setup.folder.appendingPathComponent("canary.json"))
        for _ in 0..<3 {
            let answered = try runVeil(["enclave", "query", server.url, "--relay", relay.url, "--policy", setup.policy, "--model", "health",
                                        "--input", setup.path("canary.json"), "--log-key", setup.logKey, "--state", setup.path("state.json")],
                                       timeout: .seconds(120))
            #expect(answered.status == 0, "\(answered.stderr)")
            #expect(answered.stdout.contains(canaryID), "the client got its answer")
        }
        try FileManager.default.removeItem(atPath: setup.path("canary.json"))   // the client's own input
        let needles = [Data(canaryID.utf8), Data(digits.utf8)]
        // Control: the relay's memory holds the gateway address it was given, so the search can find things.
        #expect(try relay.memoryRegionsContaining(Data("127.0.0.1:\(server.port)".utf8)) > 0)
        for needle in needles {
            #expect(try relay.memoryRegionsContaining(needle) == 0, "the relay's memory holds a canary")
        }
        let walker = FileManager.default.enumerator(at: setup.folder, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard let data = try? Data(contentsOf: url) else { continue }
            for needle in needles { #expect(data.range(of: needle) == nil, "\(url.path) holds a canary") }
        }
    }
}
