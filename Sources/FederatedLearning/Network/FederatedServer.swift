import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HTTPTypes
import Logging
import Mechanisms
import NIOCore
import ServerTLS

/// The aggregator's HTTP endpoints (Hummingbird), over a ``RoundCoordinator``:
///
/// - `GET /federated/v1/task`: 200 with the round's model as a safetensors body and the round in the `Veil-Round`
///   header when the client was sampled and has not yet sent its update; 204 when there is nothing for it now;
///   410 when the run is over.
/// - `POST /federated/v1/update/{round}`: the client's update `Δ` as a safetensors body; 200 when accepted. Refused
///   with a one-line JSON reason while the round goes on: 413 oversized, 422 malformed, wrong shape, NaN or
///   infinite (kept as the client's zero update, ``RoundCoordinator/submit(client:round:decode:)``), 409 a round
///   that is not open (late or replayed) or a duplicate, 403 a client not sampled.
/// - `POST /federated/v1/secagg/{round}` (secure aggregation): one binary SecAgg+ message; 200 when the protocol
///   accepted it; refused with a reason while the round goes on: 413 oversized, 409 a round that is not open or a
///   duplicate, 403 a client not sampled, 422 a message the protocol refuses, 410 a round that aborted.
/// - `GET /federated/v1/secagg/{round}/{step}`: the server's SecAgg+ message of step 1 (key directory), 2 (encrypted
///   shares) or 3 (unmasking request) for the client; 204 while the step has not begun; 410 when the round aborted
///   or went on without the client.
///
/// Every request names its client in `Veil-Client` and carries `Authorization: Bearer TOKEN`; an unknown client
/// or a token whose SHA-256 is not the roster's gets 401 before the body is read.
public struct FederatedServer: Sendable {
    /// Where the server listens and what it accepts.
    public struct Configuration: Sendable {
        /// The address to bind; loopback by default.
        public var host = "127.0.0.1"
        /// The port (0: any free port).
        public var port = 0
        /// The largest update body accepted.
        public var maximumBodyBytes = 64 << 20
        /// TLS: PEM certificate chain and private key files (HTTPS); nil for plain HTTP, on loopback only.
        public var tlsCertificate: String?
        public var tlsKey: String?

        /// Refuses a certificate without a key (or the reverse) and any address but loopback without TLS.
        public func validate() throws {
            guard (tlsCertificate == nil) == (tlsKey == nil) else {
                throw VeilError(.invalidParameter, "--tls-cert and --tls-key go together")
            }
            guard LoopbackHost.contains(host) || tlsCertificate != nil else {
                throw VeilError(.invalidParameter, "refusing to listen on \(host) without TLS: an address other than "
                                + "loopback needs --tls-cert and --tls-key")
            }
        }

        public init() {}
    }

    public let roster: ClientRoster
    public let coordinator: RoundCoordinator
    public let configuration: Configuration
    /// Decodes and checks an update body (``UpdateMessage/decode(_:expecting:)`` against the round's model).
    public let decode: @Sendable (Data) throws -> [Float]

    public init(roster: ClientRoster, coordinator: RoundCoordinator, configuration: Configuration,
                decode: @escaping @Sendable (Data) throws -> [Float]) {
        self.roster = roster
        self.coordinator = coordinator
        self.configuration = configuration
        self.decode = decode
    }

    /// Runs until the surrounding task is cancelled; `onListening` gets the bound port.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        try configuration.validate()
        let server: HTTPServerBuilder
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            server = try .tls(.http1(), tlsConfiguration: ServerTLS.serverConfiguration(certificate: certificate, key: key))
        } else {
            server = .http1()
        }
        let router = Router(context: BasicRequestContext.self)
        let roster = self.roster, coordinator = self.coordinator, decode = self.decode
        let maximumBody = configuration.maximumBodyBytes
        @Sendable func client(_ request: Request) -> String? {
            guard let id = request.headers[HTTPField.Name("Veil-Client")!],
                  let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") else { return nil }
            return roster.authenticate(id: id, token: String(authorization.dropFirst(7)))
        }
        router.get("/federated/v1/task") { request, _ in
            guard let id = client(request) else { return Self.json(401, "unknown client or wrong token") }
            switch await coordinator.task(for: id) {
            case .finished: return Self.json(410, "the run is over")
            case .wait: return Response(status: .noContent)
            case .train(let round, let model):
                var buffer = ByteBuffer()
                buffer.writeBytes(model)
                var headers: HTTPFields = [.contentType: "application/octet-stream", HTTPField.Name("Veil-Round")!: "\(round)"]
                if let index = await coordinator.secureIndex(for: id) { headers[HTTPField.Name("Veil-SecAgg-Index")!] = "\(index)" }
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
            }
        }
        router.post("/federated/v1/secagg/:round") { request, context in
            var request = request
            guard let id = client(request) else { return Self.json(401, "unknown client or wrong token") }
            guard let round = context.parameters.get("round").flatMap({ Int($0) }) else {
                return Self.json(400, "the round must be an integer")
            }
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBody {
                return Self.json(413, "the message exceeds \(maximumBody) bytes")
            }
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: maximumBody) } catch {
                return Self.json(413, "the message exceeds \(maximumBody) bytes or was cut short")
            }
            do {
                try await coordinator.receiveSecure(client: id, round: round, bytes: Array(body.readableBytesView))
                return Self.json(200, nil)
            } catch let refusal as RoundCoordinator.Refusal {
                return Self.json(refusal.status, refusal.reason)
            }
        }
        router.get("/federated/v1/secagg/:round/:step") { request, context in
            guard let id = client(request) else { return Self.json(401, "unknown client or wrong token") }
            guard let round = context.parameters.get("round").flatMap({ Int($0) }),
                  let step = context.parameters.get("step").flatMap({ Int($0) }) else {
                return Self.json(400, "the round and the step must be integers")
            }
            switch await coordinator.secureMessage(client: id, round: round, step: step) {
            case .wait: return Response(status: .noContent)
            case .gone: return Self.json(410, "no further part in round \(round): it aborted, or the step went on without this client")
            case .message(let bytes):
                var buffer = ByteBuffer()
                buffer.writeBytes(bytes)
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: buffer))
            }
        }
        router.post("/federated/v1/update/:round") { request, context in
            var request = request
            guard let id = client(request) else { return Self.json(401, "unknown client or wrong token") }
            guard let round = context.parameters.get("round").flatMap({ Int($0) }) else {
                return Self.json(400, "the round must be an integer")
            }
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBody {
                return Self.json(413, "the update exceeds \(maximumBody) bytes")
            }
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: maximumBody) } catch {
                return Self.json(413, "the update exceeds \(maximumBody) bytes or was cut short")
            }
            let data = Data(body.readableBytesView)
            do {
                try await coordinator.submit(client: id, round: round) { try decode(data) }
                return Self.json(200, nil)
            } catch let refusal as RoundCoordinator.Refusal {
                return Self.json(refusal.status, refusal.reason)
            }
        }
        var logger = Logger(label: "veil.federated")
        logger.logLevel = .critical
        let app = Application(router: router, server: server,
                              configuration: ApplicationConfiguration(
                                address: .hostname(configuration.host, port: configuration.port), serverName: "veil"),
                              onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
                              logger: logger)
        try await app.runService(gracefulShutdownSignals: [])
    }

    static func json(_ status: Int, _ error: String?) -> Response {
        var text = "{\"accepted\":true}"
        if let error {
            let encoded = (try? JSONEncoder().encode(["error": error])).map { String(decoding: $0, as: UTF8.self) }
            text = encoded ?? "{\"error\":\"refused\"}"
        }
        var buffer = ByteBuffer()
        buffer.writeString(text)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: buffer))
    }
}
