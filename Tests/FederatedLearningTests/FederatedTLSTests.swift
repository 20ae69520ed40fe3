import Foundation
import Testing
import _TestSupport

/// `veil federated serve --tls-cert/--tls-key` and `veil federated join --ca` with a certificate made in the test.
@Suite("Federated network: TLS")
struct FederatedTLSTests {
    @Test("off loopback without TLS, or with a certificate but no key, the server refuses to start")
    func refusals() throws {
        let folder = try TemporaryDirectory.make("fed-tls-refuse")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FederatedTestData.writeCSV(rows: 100, in: folder)
        let roster = folder.appendingPathComponent("roster.txt").path
        _ = try runVeil(["federated", "token", "only", "--roster", roster])
        let pipeline = folder.appendingPathComponent("fed.yaml").path
        try FederatedTestData.networkPipeline(folder: folder, clients: 1, rounds: 1, epsilon: nil)
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let open = try runVeil(["federated", "serve", pipeline, "--roster", roster, "--host", "0.0.0.0"])
        #expect(open.status == 2 && open.stderr.contains("refusing to listen on 0.0.0.0 without TLS"), "\(open.stderr)")
        let half = try runVeil(["federated", "serve", pipeline, "--roster", roster, "--tls-cert", roster])
        #expect(half.status == 2 && half.stderr.contains("--tls-cert and --tls-key go together"), "\(half.stderr)")
    }

    @Test("over HTTPS with a self-signed certificate: clients that trust it with --ca take part, one that does not is refused")
    func httpsRound() throws {
        let folder = try TemporaryDirectory.make("fed-tls")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cert = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        let made = try runTool("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                                                "-days", "1", "-subj", "/CN=127.0.0.1",
                                                "-addext", "subjectAltName=IP:127.0.0.1"])
        try #require(made.status == 0, "openssl failed")
        try FederatedTestData.writeCSV(rows: 300, in: folder)
        let lines = try String(contentsOf: folder.appendingPathComponent("train.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let roster = folder.appendingPathComponent("roster.txt").path
        var clients: [(id: String, token: String, data: String)] = []
        for c in 0..<3 {
            let id = "client-\(c)"
            let data = folder.appendingPathComponent("\(id).csv").path
            try ([lines[0]] + lines[(1 + 100 * c)..<(1 + 100 * (c + 1))]).joined(separator: "\n")
                .write(toFile: data, atomically: true, encoding: .utf8)
            let token = try runVeil(["federated", "token", id, "--roster", roster])
            let path = folder.appendingPathComponent("\(id).token").path
            try token.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            clients.append((id, path, data))
        }
        let pipeline = folder.appendingPathComponent("fed.yaml").path
        try FederatedTestData.networkPipeline(folder: folder, clients: 3, rounds: 1, epsilon: nil)
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let (server, output, base) = try NetworkProcessTests.startServer([pipeline, "--roster", roster, "--round-deadline", "20",
                                                                          "--tls-cert", cert, "--tls-key", key])
        defer { if server.isRunning { server.terminate() } }
        #expect(base.hasPrefix("https://"))
        // Without --ca the self-signed certificate is not trusted: the client cannot reach the server and gives up.
        let untrusting = try runVeil(["federated", "join", base, "--client-id", clients[0].id, "--token-file", clients[0].token,
                                      "--data", clients[0].data, "--timeout", "2"], timeout: .seconds(60))
        #expect(untrusting.status == 1, "\(untrusting.stderr)")
        // Plain HTTP to the HTTPS port gets no answer either.
        let plain = try runTool("/usr/bin/env", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                 base.replacingOccurrences(of: "https", with: "http") + "/federated/v1/task"])
        #expect(plain.stdout != "200")
        let joined = NetworkProcessTests.Lines()
        let processes = try NetworkProcessTests.join(clients, at: base, output: joined) { _ in ["--ca", cert] }
        for process in processes { #expect(NetworkProcessTests.wait(process, seconds: 90)) }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 }, "\(joined.value)")
        #expect(joined.value.components(separatedBy: "round 1: update accepted").count == 4, "\(joined.value)")
        #expect(NetworkProcessTests.wait(server, seconds: 60))
        #expect(server.terminationStatus == 0, "\(output.value)")
        #expect(output.value.contains("clients reached 3, dropped 0"), "\(output.value)")
    }
}
