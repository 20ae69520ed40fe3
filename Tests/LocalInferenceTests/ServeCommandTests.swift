import _TestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LinearAlgebra
import LocalInference
import Testing

/// `veil serve` as a separate process on a free loopback port, spoken to over real HTTP.
@Suite("veil serve", .serialized)
struct ServeCommandTests {
    /// A folder with a store holding the tabular model `health` and the image model `digits`.
    static func storeFolder(_ label: String) throws -> (folder: URL, store: String) {
        let folder = try TestModels.temporaryFolder(label)
        let store = folder.appendingPathComponent("models").path
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        try TestModels.writeTabular(to: store + "/health.safetensors")
        try TestModels.writeImage(to: store + "/digits.safetensors")
        return (folder, store)
    }

    static func inferBody(_ rows: [[Float]], id: String = "req-1") -> [UInt8] {
        let data = rows.flatMap { $0 }.map { "\($0)" }.joined(separator: ",")
        return Array(#"{"id":"\#(id)","inputs":[{"name":"input","shape":[\#(rows.count),\#(rows.first?.count ?? 0)],"datatype":"FP32","data":[\#(data)]}]}"#.utf8)
    }

    private func fetch(_ port: Int, _ path: String, method: String = "GET", body: [UInt8]? = nil,
                       token: String? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let body { request.httpBody = Data(body) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    @Test("the protocol's endpoints over HTTP; 4xx JSON errors; access log without content; SIGTERM")
    func endpoints() async throws {
        let (folder, store) = try Self.storeFolder("serve")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ServerProcess(["--models", store, "--max-body-bytes", "4096"], folder: folder)
        defer { server.stop() }
        let port = server.port
        #expect(try await fetch(port, "/v2/health/live").0 == 200)
        #expect(try await fetch(port, "/v2/health/ready").0 == 200)
        let (_, list) = try await fetch(port, "/v2/models")
        #expect((list["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["digits", "health"])
        let (status, metadata) = try await fetch(port, "/v2/models/health")
        #expect(status == 200)
        let parameters = metadata["parameters"] as? [String: Any]
        #expect((parameters?["privacy_card"] as? [String: Any])?["epsilon"] as? Double == 1.25)
        #expect((metadata["inputs"] as? [[String: Any]])?.first?["shape"] as? [Int] == [-1, 3])

        // Inference agrees with the library on the same model file.
        let rows: [[Float]] = [[30, 2.5, 1], [250, -1, 0]]
        let (inferStatus, answer) = try await fetch(port, "/v2/models/health/infer", method: "POST", body: Self.inferBody(rows))
        #expect(inferStatus == 200)
        #expect(answer["id"] as? String == "req-1")
        let outputs = answer["outputs"] as? [[String: Any]] ?? []
        let served = outputs.first { $0["name"] as? String == "probabilities" }?["data"] as? [Double] ?? []
        let model = try InferenceModel(path: store + "/health.safetensors", name: "health")
        var x = Matrix(rows: 2, columns: 3, storage: rows.flatMap { $0 })
        try model.prepare(&x)
        let expected = BatchPredictor(model: model).probabilities(x).storage
        #expect(served.count == 6 && zip(served, expected).allSatisfy { abs($0 - Double($1)) < 1e-6 })

        // Image model with a [B, H, W, C] tensor.
        let image = Array(#"{"inputs":[{"name":"input","shape":[1,8,8,1],"datatype":"INT64","data":[\#((0..<64).map { "\($0 % 2)" }.joined(separator: ","))]}]}"#.utf8)
        #expect(try await fetch(port, "/v2/models/digits/infer", method: "POST", body: image).0 == 200)

        // Errors: JSON objects with 4xx statuses.
        let (notFound, error404) = try await fetch(port, "/v2/models/nope/infer", method: "POST", body: Self.inferBody(rows))
        #expect(notFound == 404 && error404["error"] is String)
        #expect(try await fetch(port, "/v2/nowhere").0 == 404)
        let (shape, error400) = try await fetch(port, "/v2/models/health/infer", method: "POST", body: Self.inferBody([[1, 2]]))
        #expect(shape == 400 && (error400["error"] as? String)?.contains("shape") == true)
        let big = Self.inferBody(Array(repeating: [1, 2, 3], count: 400))
        let (tooLarge, error413) = try await fetch(port, "/v2/models/health/infer", method: "POST", body: big)
        #expect(tooLarge == 413 && error413["error"] is String)

        #expect(server.stop() == 0)
        // The access log: one line per request with method, path and status, and no body content.
        let log = server.log
        #expect(log.contains("POST /v2/models/health/infer 200"))
        #expect(log.contains("GET /v2/nowhere 404"))
        #expect(!log.contains("req-1") && !log.contains("2.5"))
    }

    @Test("1,000 malformed requests get 4xx answers and the server stays up")
    func malformedRequests() throws {
        let (folder, store) = try Self.storeFolder("serve-malformed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ServerProcess(["--models", store, "health", "--max-body-bytes", "65536"], folder: folder)
        defer { server.stop() }
        let valid = String(decoding: Self.inferBody([[1, 2, 3]]), as: UTF8.self)
        let bodies: [(String, Int?)] = [
            ("{not json", nil), ("", nil), ("[]", nil), ("{\"inputs\":5}", nil),
            (valid.replacingOccurrences(of: "FP32", with: "BYTES"), nil),
            (valid.replacingOccurrences(of: "[1,3]", with: "[1,4]"), nil),
            (valid.replacingOccurrences(of: "1.0,2.0", with: "\"NaN\",2.0"), nil),
            (valid.replacingOccurrences(of: "1.0,2.0", with: "1e999,2.0"), nil),
            (String(repeating: "[", count: 5000), nil),
            (valid, 100_000),                                  // declared larger than allowed
            (String(valid.prefix(valid.count / 2)), nil),      // truncated JSON
        ]
        var answered = 0
        for i in 0..<1000 {
            let (body, declared) = bodies[i % bodies.count]
            let path = i % 37 == 0 ? "/v2/models/unknown/infer" : "/v2/models/health/infer"
            let response: [UInt8]
            if i % 100 == 99 {
                let c = try RawConnection(port: server.port)
                c.send("GARBAGE \u{01}\u{02} NOT HTTP\r\n\r\n")
                c.finishSending()
                response = c.receiveAll()
            } else if i % 50 == 49 {
                // A body shorter than its Content-Length, then end of stream.
                response = try RawConnection.exchange(port: server.port, path: path, body: Array(valid.utf8.prefix(10)),
                                                      contentLength: valid.utf8.count)
            } else {
                response = try RawConnection.exchange(port: server.port, path: path, body: Array(body.utf8), contentLength: declared)
            }
            if let status = RawConnection.status(response) {
                #expect((400..<500).contains(status), "request \(i): status \(status)")
                answered += 1
            }
        }
        // Only the truncated-body and garbage requests may be dropped without an answer.
        #expect(answered >= 970)
        // The same bodies on one kept-alive connection (answered in its channel pipeline, or by the route when
        // the declared length is too large), then a good request on that connection.
        let kept = try RawConnection(port: server.port)
        for (body, declared) in bodies where declared == nil {
            let response = kept.exchangeKeepingAlive(path: "/v2/models/health/infer", body: Array(body.utf8))
            #expect(RawConnection.status(response).map { (400..<500).contains($0) } == true, "kept alive: \(body.prefix(20))")
        }
        #expect(RawConnection.status(kept.exchangeKeepingAlive(path: "/v2/models/health/infer", body: Array(valid.utf8))) == 200)
        let good = try RawConnection.exchange(port: server.port, path: "/v2/models/health/infer", body: Array(valid.utf8))
        #expect(RawConnection.status(good) == 200)
        #expect(server.stop() == 0)
    }

    @Test("a bearer token is required when set: 401 without reading the body")
    func bearerToken() async throws {
        let (folder, store) = try Self.storeFolder("serve-token")
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenFile = folder.appendingPathComponent("token").path
        try "s3cret-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["--models", store, "--token-file", tokenFile], folder: folder)
        defer { server.stop() }
        let body = Self.inferBody([[1, 2, 3]])
        #expect(try await fetch(server.port, "/v2/models/health/infer", method: "POST", body: body).0 == 401)
        #expect(try await fetch(server.port, "/v2/models/health/infer", method: "POST", body: body, token: "wrong").0 == 401)
        #expect(try await fetch(server.port, "/v2/models", token: "s3cret-tokeX").0 == 401)
        #expect(try await fetch(server.port, "/v2/models/health/infer", method: "POST", body: body, token: "s3cret-token").0 == 200)
        #expect(try await fetch(server.port, "/v2/health/live").0 == 200)
        // A request announcing 8 MB and sending none of it is answered at once: the body is not awaited.
        let c = try RawConnection(port: server.port, timeoutSeconds: 10)
        c.send("POST /v2/models/health/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 8000000\r\n\r\n")
        let started = Date()
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while RawConnection.status(answer) == nil || !String(decoding: answer, as: UTF8.self).contains("}") {
            let n = buffer.withUnsafeMutableBytes { recv(c.descriptor, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        #expect(RawConnection.status(answer) == 401)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("any address but loopback needs TLS and a token: one line, exit 2")
    func exposureRefused() throws {
        let (folder, store) = try Self.storeFolder("serve-exposed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try runVeil(["serve", "--models", store, "--host", "0.0.0.0", "--port", "0"], timeout: .seconds(60))
        #expect(run.status == 2)
        #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains("TLS"))
        let empty = try runVeil(["serve", "--models", folder.appendingPathComponent("none").path, "--port", "0"], timeout: .seconds(60))
        #expect(empty.status == 2 && empty.stderr.contains("no models"))
    }

    /// With `Connection: close` the first request goes through Hummingbird's router; kept alive, it is
    /// answered in the connection's pipeline (``InlineInferenceHandler``): both hold their place and finish.
    @Test("a full queue answers 503; SIGTERM lets the request in flight finish", arguments: [false, true])
    func queueAndGracefulShutdown(keepAlive: Bool) throws {
        let (folder, store) = try Self.storeFolder("serve-queue")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ServerProcess(["--models", store, "--max-queue", "1"], folder: folder)
        defer { server.stop() }
        let body = Self.inferBody([[1, 2, 3]])
        // The first request holds the only place while its body is incomplete.
        let first = try RawConnection(port: server.port)
        let connection = keepAlive ? "" : "Connection: close\r\n"
        first.send("POST /v2/models/health/infer HTTP/1.1\r\nHost: x\r\n\(connection)Content-Length: \(body.count)\r\n\r\n")
        first.send(Array(body.prefix(20)))
        usleep(300_000)
        let second = try RawConnection.exchange(port: server.port, path: "/v2/models/health/infer", body: body)
        #expect(RawConnection.status(second) == 503)
        // SIGTERM now: the server stops accepting, but the first request still completes.
        kill(server.pid, SIGTERM)
        usleep(300_000)
        first.send(Array(body.dropFirst(20)))
        let answer = first.receiveAll()
        #expect(RawConnection.status(answer) == 200)
        #expect(server.stop() == 0)
    }
}

/// TLS and a bearer token, on loopback, spoken to by curl (a certificate made by openssl for the test).
@Suite("veil serve over TLS")
struct ServeTLSTests {
    static let tools = ["/usr/bin/openssl", "/usr/bin/curl"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("HTTPS with the token answers; without the token 401; plain HTTP gets no answer", .enabled(if: tools))
    func tls() throws {
        let (folder, store) = try ServeCommandTests.storeFolder("serve-tls")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cert = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        let (made, _) = try runTool("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                     "-days", "1", "-subj", "/CN=127.0.0.1"])
        #expect(made == 0)
        let tokenFile = folder.appendingPathComponent("token").path
        try "tls-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["--models", store, "--tls-cert", cert, "--tls-key", key, "--token-file", tokenFile],
                                       folder: folder)
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/v2/models/health"
        let (_, ok) = try runTool("/usr/bin/curl", ["-sk", "-w", "\n%{http_code}", "-H", "Authorization: Bearer tls-token", url])
        #expect(ok.hasSuffix("\n200") && ok.contains("privacy_card"))
        let (_, denied) = try runTool("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", url])
        #expect(denied == "401")
        let plain = try RawConnection.exchange(port: server.port, method: "GET", path: "/v2/models/health")
        #expect(RawConnection.status(plain) == nil)
        #expect(server.stop() == 0)
    }
}
