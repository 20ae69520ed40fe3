import ArgumentParser
import ConfidentialInference
import Crypto
import Foundation
import LocalInference
import PrivateTraining
import TransparencyLog
import TrustedExecution

/// Confidential inference costs at batch 1 and 64 (the MLP of the inference benchmark):
/// - over loopback HTTP, as a client sees them: the plain server (`POST /v2/models/NAME/infer`) against the same
///   request sealed by the client, sent to the gateway (directly, and through the relay), opened, answered, sealed
///   and opened again; both servers are `veil serve`'s and `veil enclave relay`'s server code in this process on
///   127.0.0.1, the client one kept-alive connection (``LoopbackHTTPClient``);
/// - in process (no sockets, so the figures isolate the Oblivious HTTP layer): the plain handler against seal,
///   gateway and open;
/// and the transparency log's append and proof rates.
enum ConfidentialBenchmark {
    static func run(requests: Int, logSizes: [Int]) throws -> BenchmarkReport {
        TrainingAllocator.configure()  // as `veil serve` does
        var report = BenchmarkReport(area: "confidential")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-confidential-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try ohttpFigures(requests: requests, folder: folder, into: &report)
        for size in logSizes { try logFigures(size: size, folder: folder, into: &report) }
        return report
    }

    static func ohttpFigures(requests: Int, folder: URL, into report: inout BenchmarkReport) throws {
        guard let architecture = TrainingBenchmark.models.first(where: { $0.0 == "mlp" })?.1 else { return }
        let trained = try InferenceBenchmark.model(architecture)
        let model = try InferenceModel(contents: SafetensorsFile.decode(try SafetensorsFile.encode(model: trained, card: InferenceBenchmark.card)),
                                       name: "bench")
        let service = InferenceService(models: [model])
        let entry = try MeasurementEntry(manifest: "veil-enclave-manifest-v1\nbinary \(String(repeating: "00", count: 48)) 0 veil\n")
        let logKey = Curve25519.Signing.PrivateKey()
        let tree = MerkleTree(leafHashes: [entry.leafHash])
        let head = try SignedTreeHead(treeSize: 1, rootHash: try tree.rootHash(), timestamp: 0, signingKey: logKey)
        let gateway = ConfidentialGateway(
            ohttp: ObliviousHTTPGateway(), service: service,
            evidenceProvider: try SimulatedEvidenceProvider(keyFile: folder.appendingPathComponent("platform.pem"), measurement: entry.measurement),
            published: try PublishedMeasurement(entry: entry, tree: tree, head: head),
            replay: ReplayWindow(window: 600, capacity: 10_000_000))
        let configuration = gateway.ohttp.configurations[0]
        do { try loopbackFigures(requests: requests, model: model, service: service, gateway: gateway, into: &report) } catch {
            // The in-process and log figures below do not depend on sockets: report them anyway.
            FileHandle.standardError.write(Data("veil-bench confidential: the loopback figures stopped: \(error)\n".utf8))
        }
        // The fixed cost of a request is three X25519 operations (client key, client and gateway agreement).
        let peer = Curve25519.KeyAgreement.PrivateKey().publicKey
        let agreement = try timings(requests) { _ = try Curve25519.KeyAgreement.PrivateKey().sharedSecretFromKeyAgreement(with: peer) }
        report.add("x25519_keygen_and_agreement_p50", agreement.p50 * 1e3, unit: "ms")
        let keygen = try timings(requests) { _ = Curve25519.KeyAgreement.PrivateKey() }
        let mine = Curve25519.KeyAgreement.PrivateKey()
        let agreementOnly = try timings(requests) { _ = try mine.sharedSecretFromKeyAgreement(with: peer) }
        report.add("x25519_keygen_p50", keygen.p50 * 1e3, unit: "ms")
        report.add("x25519_agreement_p50", agreementOnly.p50 * 1e3, unit: "ms")
        // Sealing a 512-byte request (client) and opening it (gateway), alone.
        let sample = [UInt8](repeating: 7, count: SizeBuckets.minimum)
        let seal = try timings(requests) { _ = try ObliviousRequest(request: sample, configuration: configuration) }
        let sealed = try ObliviousRequest(request: sample, configuration: configuration)
        let open = try timings(requests) { _ = try gateway.ohttp.open(sealed.encapsulated) }
        let pool = EphemeralKeyPool(size: 64)
        let pooledSeal = try timings(requests) { _ = try ObliviousRequest(request: sample, configuration: configuration, ephemeralKeys: pool) }
        report.add("ohttp_client_seal_p50", seal.p50 * 1e3, unit: "ms")
        report.add("ohttp_client_seal_pooled_key_p50", pooledSeal.p50 * 1e3, unit: "ms")
        report.add("ohttp_gateway_open_p50", open.p50 * 1e3, unit: "ms")
        for batch in [1, 64] {
            let body = inferBody(batch: batch, inputCount: model.inputCount)
            let plain = try timings(requests) {
                let answer = body.withUnsafeBytes { service.infer("bench", body: $0) }
                guard answer.status == 200 else { throw ValidationError("the plain request failed") }
            }
            let confidential = try timings(requests) {
                let sealed = try ConfidentialClient.sealInference(model: "bench", body: body, to: configuration, gateway: benchGateway)
                let reply = gateway.handle(encapsulated: sealed.encapsulated)
                guard reply.status == 200, try BinaryHTTPResponse(decoding: try sealed.openResponse(reply.body)).status == 200 else {
                    throw ValidationError("the confidential request failed")
                }
            }
            // The gateway's share alone: requests sealed beforehand, then opened, answered and sealed.
            var prepared = try (0..<(requests + 20)).map { _ in
                try ConfidentialClient.sealInference(model: "bench", body: body, to: configuration, gateway: benchGateway)
            }.makeIterator()
            let gatewayShare = try timings(requests) {
                guard let next = prepared.next(), gateway.handle(encapsulated: next.encapsulated).status == 200 else {
                    throw ValidationError("the gateway refused a prepared request")
                }
            }
            report.add("gateway_b\(batch)_p50", gatewayShare.p50 * 1e3, unit: "ms")
            report.add("plain_b\(batch)_p50", plain.p50 * 1e3, unit: "ms")
            report.add("plain_b\(batch)_p99", plain.p99 * 1e3, unit: "ms")
            report.add("plain_b\(batch)_rate", plain.rate, unit: "requests/s")
            report.add("ohttp_b\(batch)_p50", confidential.p50 * 1e3, unit: "ms")
            report.add("ohttp_b\(batch)_p99", confidential.p99 * 1e3, unit: "ms")
            report.add("ohttp_b\(batch)_rate", confidential.rate, unit: "requests/s")
            report.add("ohttp_b\(batch)_p50_overhead", (confidential.p50 / plain.p50 - 1) * 100, unit: "%")
            // The least any OHTTP layer adds to this request: two X25519 agreements (the client's ephemeral key
            // can be made ahead of time, its agreement with the gateway's key and the gateway's cannot) and
            // AES-128-GCM over the sealed request and the sealed response, each once to seal and once to open.
            let sealedRequest = try ConfidentialClient.sealInference(model: "bench", body: body, to: configuration,
                                                                     gateway: benchGateway)
            let sealedReply = gateway.handle(encapsulated: sealedRequest.encapsulated)
            guard sealedReply.status == 200 else { throw ValidationError("the gateway refused the floor's request") }
            let responseBytes = sealedReply.body.count
            let floor = 2 * agreementOnly.p50 + 2 * (try aesGCMSeconds(bytes: sealedRequest.encapsulated.count, requests: requests))
                + 2 * (try aesGCMSeconds(bytes: responseBytes, requests: requests))
            report.add("ohttp_b\(batch)_crypto_floor_p50", floor * 1e3, unit: "ms")
            report.add("ohttp_b\(batch)_crypto_floor_over_plain", floor / plain.p50 * 100, unit: "%")
        }
    }

    /// Median seconds to seal `bytes` bytes with AES-128-GCM (swift-crypto), over `requests` runs.
    static func aesGCMSeconds(bytes: Int, requests: Int) throws -> Double {
        let key = SymmetricKey(size: .bits128)
        let message = [UInt8](repeating: 0x5A, count: bytes)
        return try timings(requests) { _ = try AES.GCM.seal(message, using: key) }.p50
    }

    /// The address the benchmark's requests name inside their encapsulation.
    static let benchGateway = URL(string: "http://127.0.0.1")!

    /// The request body for `batch` rows of the model's input.
    static func inferBody(batch: Int, inputCount: Int) -> [UInt8] {
        let values = (0..<(batch * inputCount)).map { i in String(Float(i % 97) / 97) }.joined(separator: ",")
        return Array(#"{"inputs":[{"name":"input","shape":[\#(batch),\#(inputCount)],"datatype":"FP32","data":[\#(values)]}]}"#.utf8)
    }

    /// Over loopback HTTP: the plain server against Oblivious HTTP to the gateway directly and through the relay,
    /// each client on its own kept-alive connection; the client draws its ephemeral keys from a pool made ahead of
    /// time. `loopback_*_p50_overhead` is the figure the latency targets are set on (the OHTTP layer over the plain server).
    /// In the same run: a bare Hummingbird route (``BareHTTPServer``) receiving bodies of the plain and the sealed
    /// request's sizes (`loopback_bare_*`, `loopback_bare_sealed_size_*`), the floor the server's own cost is read
    /// against; and the same server handing every request to Swift's shared pool instead of answering on the
    /// connection's event loop (`loopback_*_pool_*`, ``InferenceServer/Configuration/handlesRequestsOnConnectionLoop``).
    static func loopbackFigures(requests: Int, model: InferenceModel, service: InferenceService, gateway: ConfidentialGateway,
                                into report: inout BenchmarkReport) throws {
        var configuration = InferenceServer.Configuration()
        configuration.port = 0
        configuration.maximumQueue = 1_024
        let server = try RunningServer(InferenceServer(service: service, configuration: configuration, additionalRoutes: gateway.routes) { _ in })
        defer { server.stop() }
        var poolConfiguration = configuration
        poolConfiguration.handlesRequestsOnConnectionLoop = false
        let poolServer = try RunningServer(InferenceServer(service: service, configuration: poolConfiguration,
                                                           additionalRoutes: gateway.routes) { _ in })
        defer { poolServer.stop() }
        let relay = try RunningServer(InferenceServer(service: InferenceService(models: []), configuration: configuration,
                                                      additionalRoutes: ObliviousRelay(gateway: URL(string: "http://127.0.0.1:\(server.port)")!).routes) { _ in })
        defer { relay.stop() }
        let bare = try BareHTTPServer(maximumBodyBytes: configuration.maximumBodyBytes)
        defer { bare.stop() }
        let keys = EphemeralKeyPool(size: 64)
        let ohttpConfiguration = gateway.ohttp.configurations[0]
        for batch in [1, 64] {
            let body = inferBody(batch: batch, inputCount: model.inputCount)
            // The floor: a bare Hummingbird route receiving a body of the plain request's size, then of the sealed one's.
            let sealedSize = try ConfidentialClient.sealInference(model: "bench", body: body, to: ohttpConfiguration, gateway: benchGateway,
                                                                  ephemeralKeys: keys).encapsulated.count
            func bareTimings(_ size: Int) throws -> (p50: Double, p99: Double, rate: Double) {
                let client = try LoopbackHTTPClient(port: bare.port)
                let payload = [UInt8](repeating: 0x20, count: size)
                return try timings(requests) {
                    guard try client.post(BareHTTPServer.path, body: payload, contentType: "application/octet-stream").status == 200 else {
                        throw ValidationError("the bare route failed")
                    }
                }
            }
            let barePlain = try bareTimings(body.count)
            let bareSealed = try bareTimings(sealedSize)
            // A fresh connection per run: an idle one is closed by the server's idle timeout.
            func plainTimings(_ client: LoopbackHTTPClient) throws -> (p50: Double, p99: Double, rate: Double) {
                try timings(requests) {
                    guard try client.post("/v2/models/bench/infer", body: body, contentType: "application/json").status == 200 else {
                        throw ValidationError("the plain request failed")
                    }
                }
            }
            let plain = try plainTimings(try LoopbackHTTPClient(port: server.port))
            let plainPool = try plainTimings(try LoopbackHTTPClient(port: poolServer.port))
            func confidential(_ client: LoopbackHTTPClient) throws -> (p50: Double, p99: Double, rate: Double) {
                try timings(requests) {
                    let sealed = try ConfidentialClient.sealInference(model: "bench", body: body, to: ohttpConfiguration, gateway: benchGateway,
                                                                      ephemeralKeys: keys)
                    let reply = try client.post("/confidential/ohttp", body: sealed.encapsulated, contentType: ObliviousRequest.requestMediaType)
                    guard reply.status == 200, try BinaryHTTPResponse(decoding: try sealed.openResponse(reply.body)).status == 200 else {
                        throw ValidationError("the confidential request failed (HTTP \(reply.status))")
                    }
                }
            }
            let direct = try confidential(try LoopbackHTTPClient(port: server.port))
            let directPool = try confidential(try LoopbackHTTPClient(port: poolServer.port))
            let relayed = try confidential(try LoopbackHTTPClient(port: relay.port))
            for (name, figures) in [("bare", barePlain), ("bare_sealed_size", bareSealed), ("plain", plain), ("plain_pool", plainPool),
                                    ("ohttp", direct), ("ohttp_pool", directPool), ("ohttp_relay", relayed)] {
                report.add("loopback_\(name)_b\(batch)_p50", figures.p50 * 1e3, unit: "ms")
                report.add("loopback_\(name)_b\(batch)_p99", figures.p99 * 1e3, unit: "ms")
                report.add("loopback_\(name)_b\(batch)_rate", figures.rate, unit: "requests/s")
            }
            report.add("loopback_sealed_body_bytes_b\(batch)", Double(sealedSize), unit: "bytes")
            report.add("loopback_plain_b\(batch)_p50_over_bare", (plain.p50 - barePlain.p50) * 1e6, unit: "us")
            report.add("loopback_ohttp_b\(batch)_p50_over_bare_sealed_size", (direct.p50 - bareSealed.p50) * 1e6, unit: "us")
            report.add("loopback_ohttp_b\(batch)_p50_overhead", (direct.p50 / plain.p50 - 1) * 100, unit: "%")
            report.add("loopback_ohttp_pool_b\(batch)_p50_overhead", (directPool.p50 / plainPool.p50 - 1) * 100, unit: "%")
            report.add("loopback_ohttp_relay_b\(batch)_p50_overhead", (relayed.p50 / plain.p50 - 1) * 100, unit: "%")
        }
    }

    /// An inference server running on a background task until ``stop()``.
    final class RunningServer: @unchecked Sendable {
        let port: Int
        private let task: Task<Void, Never>

        /// Starts `server` (its configuration's port 0 picks a free one) and waits at most 30 s for it to listen.
        init(_ server: InferenceServer) throws {
            let ready = DispatchSemaphore(value: 0)
            let bound = Bound()
            let task = Task.detached {
                do { try await server.run { port in bound.set(port); ready.signal() } } catch { bound.fail("\(error)") }
                ready.signal()
            }
            self.task = task
            guard ready.wait(timeout: .now() + 30) == .success, let port = bound.port else {
                task.cancel()
                throw ValidationError("the benchmark server did not start: \(bound.failure ?? "timed out")")
            }
            self.port = port
        }

        func stop() { task.cancel() }

        private final class Bound: @unchecked Sendable {
            private let lock = NSLock()
            private var value: Int?
            private var error: String?
            func set(_ port: Int) { lock.withLock { value = port } }
            func fail(_ message: String) { lock.withLock { error = message } }
            var port: Int? { lock.withLock { value } }
            var failure: String? { lock.withLock { error } }
        }
    }

    static func logFigures(size: Int, folder: URL, into report: inout BenchmarkReport) throws {
        let log = try LogFile(path: folder.appendingPathComponent("bench-\(size).tlog").path, create: true)
        let entries = try (0..<size).map { i in
            try MeasurementEntry(manifest: "veil-enclave-manifest-v1\nbinary \(LogHex.encode((0..<48).map { UInt8(truncatingIfNeeded: i >> (8 * (47 - $0))) })) \(i) veil\n")
        }
        // Durable appends (fsync each) on a sample, then the rest without timing.
        let durable = min(size, 2_000)
        var start = DispatchTime.now().uptimeNanoseconds
        for entry in entries.prefix(durable) { try log.append(entry) }
        report.add("log_append_fsync_rate", Double(durable) / seconds(since: start), unit: "appends/s")
        var tree = log.tree
        start = DispatchTime.now().uptimeNanoseconds
        for entry in entries.dropFirst(durable) { tree.append(leafHash: entry.leafHash) }
        let inMemory = size - durable
        if inMemory > 0 { report.add("tree_append_rate_\(size)", Double(inMemory) / seconds(since: start), unit: "leaves/s") }
        let root = try tree.rootHash()
        let samples = 20_000
        var generator = SystemRandomNumberGenerator()
        let indices = (0..<samples).map { _ in Int.random(in: 0..<size, using: &generator) }
        start = DispatchTime.now().uptimeNanoseconds
        var proofs: [[[UInt8]]] = []
        proofs.reserveCapacity(samples)
        for i in indices { proofs.append(try tree.inclusionProof(index: i)) }
        report.add("inclusion_proofs_per_s_\(size)", Double(samples) / seconds(since: start), unit: "proofs/s")
        start = DispatchTime.now().uptimeNanoseconds
        for (i, proof) in zip(indices, proofs) {
            guard ProofVerification.verifyInclusion(leafHash: tree.leafHash(at: i), index: i, size: size, proof: proof, root: root) else {
                throw ValidationError("an inclusion proof did not verify")
            }
        }
        report.add("inclusion_verifications_per_s_\(size)", Double(samples) / seconds(since: start), unit: "proofs/s")
        start = DispatchTime.now().uptimeNanoseconds
        for i in indices.prefix(2_000) { _ = try tree.consistencyProof(oldSize: max(1, i), newSize: size) }
        report.add("consistency_proofs_per_s_\(size)", 2_000 / seconds(since: start), unit: "proofs/s")
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Per-request wall times: median, 99th percentile and the overall rate.
    static func timings(_ count: Int, _ body: () throws -> Void) throws -> (p50: Double, p99: Double, rate: Double) {
        for _ in 0..<min(20, count) { try body() }   // warm-up
        var times: [Double] = []
        times.reserveCapacity(count)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(seconds(since: t0))
        }
        let total = seconds(since: start)
        times.sort()
        return (times[times.count / 2], times[min(times.count - 1, times.count * 99 / 100)], Double(count) / total)
    }
}
