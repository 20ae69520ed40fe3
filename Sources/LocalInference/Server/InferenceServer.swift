import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import Mechanisms
import ServerTLS
import NIOCore
import PrivateTraining

/// An HTTP server speaking the Open Inference Protocol v2 REST API (KServe, Triton, MLServer) for an
/// ``InferenceService``, on Hummingbird:
///
/// - `GET /v2`, `/v2/health/live`, `/v2/health/ready`, `/v2/models`, `/v2/models/{name}`,
///   `/v2/models/{name}/ready`; `POST /v2/models/{name}/infer`.
/// - A request body larger than ``Configuration/maximumBodyBytes`` is refused with 413 (from its
///   `Content-Length` before it is read, else while reading); more than ``Configuration/maximumQueue``
///   inference requests at once get 503; every error is a JSON object `{"error": …}` with a 4xx status.
/// - With a bearer token every endpoint but the health checks requires `Authorization: Bearer TOKEN`;
///   without it the answer is 401 and the body is never read.
/// - Logs hold method, path, status, sizes and latency only (see ``AccessLog``).
/// - SIGTERM and SIGINT stop accepting connections and let in-flight requests finish.
/// - A request with a body of at most 64 KiB is answered on the thread that reads its connection;
///   larger ones on Swift's shared pool (``Configuration/handlesRequestsOnConnectionLoop``). A small
///   inference request for a dense model is answered in the connection's channel pipeline, without a
///   task of its own (``Configuration/answersInlineRequestsInPipeline``, ``InlineInferenceHandler``).
public struct InferenceServer: Sendable {
    /// Where and how the server listens.
    public struct Configuration: Sendable {
        /// The address to bind (default loopback).
        public var host = "127.0.0.1"
        /// The port (0: a free port chosen by the system).
        public var port = 8080
        /// The largest request body accepted, in bytes.
        public var maximumBodyBytes = 16 << 20
        /// The most inference requests held at once (running or waiting).
        public var maximumQueue = 64
        /// TLS: PEM certificate chain and private key files.
        public var tlsCertificate: String?
        public var tlsKey: String?
        /// The bearer token clients must send (nil: none required; only allowed on loopback).
        public var bearerToken: String?
        /// Seconds after which an idle connection is closed.
        public var idleTimeoutSeconds: Int64 = 30
        /// Whether a connection's requests are handled on the event loop that reads its socket (see
        /// ``ServerWork``: bodies above 64 KiB still go to Swift's shared pool). Saves two thread crossings
        /// per request; `false` hands every request to the shared pool, as Hummingbird does by default.
        public var handlesRequestsOnConnectionLoop = true
        /// Whether the small inference requests that run on the connection's loop are answered inside its
        /// channel pipeline, without Hummingbird's per-request task (see ``InlineInferenceHandler``; needs
        /// ``handlesRequestsOnConnectionLoop``). The answers are the same either way.
        public var answersInlineRequestsInPipeline = true

        public init() {}

        /// Refuses a configuration that would expose the server: any address but loopback needs TLS (a
        /// certificate and a key) and a bearer token; sizes must be positive.
        /// - Throws: `VeilError.invalidParameter` with one line saying what is missing.
        public func validate() throws {
            guard (0...65_535).contains(port) else { throw VeilError(.invalidParameter, "--port must be 0 to 65535") }
            guard maximumBodyBytes >= 1 else { throw VeilError(.invalidParameter, "--max-body-bytes must be at least 1") }
            guard maximumQueue >= 1 else { throw VeilError(.invalidParameter, "--max-queue must be at least 1") }
            guard (tlsCertificate == nil) == (tlsKey == nil) else {
                throw VeilError(.invalidParameter, "--tls-cert and --tls-key go together")
            }
            if let bearerToken, bearerToken.isEmpty { throw VeilError(.invalidParameter, "the bearer token is empty") }
            if !LoopbackHost.contains(host) {
                guard tlsCertificate != nil, bearerToken != nil else {
                    throw VeilError(.invalidParameter, "refusing to listen on \(host) without TLS and a bearer token: "
                                    + "binding an address other than loopback needs --tls-cert, --tls-key and --token-file")
                }
            }
        }
    }

    /// The protocol implementation.
    public let service: InferenceService
    /// The configuration.
    public let configuration: Configuration
    /// Receives one access-log line per request (method, path, status, sizes, latency).
    public let log: @Sendable (String) -> Void
    /// Further endpoints mounted next to the protocol's (see ``AdditionalRoute``).
    public let additionalRoutes: [AdditionalRoute]

    public init(service: InferenceService, configuration: Configuration, additionalRoutes: [AdditionalRoute] = [],
                log: @escaping @Sendable (String) -> Void) {
        self.service = service
        self.configuration = configuration
        self.additionalRoutes = additionalRoutes
        self.log = log
    }

    /// Runs until SIGTERM or SIGINT; `onListening` receives the bound port once the server accepts connections.
    /// - Throws: `VeilError.invalidParameter` for an invalid configuration or unreadable TLS files.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        try configuration.validate()
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(AccessLogMiddleware(log: log))
        router.middlewares.add(ProtocolErrorMiddleware())
        if let token = configuration.bearerToken { router.middlewares.add(BearerTokenMiddleware(token: token)) }
        let service = self.service
        let gate = AdmissionGate(capacity: configuration.maximumQueue)
        let maximumBody = configuration.maximumBodyBytes
        router.get("/v2") { _, _ in Self.response(service.serverMetadata()) }
        router.get("/v2/health/live") { _, _ in Self.response(.init(status: 200, body: Array("{\"live\":true}".utf8))) }
        router.get("/v2/health/ready") { _, _ in Self.response(.init(status: 200, body: Array("{\"ready\":true}".utf8))) }
        router.get("/v2/models") { _, _ in Self.response(service.modelList()) }
        router.get("/v2/models/:name") { _, context in
            Self.response(service.modelMetadata(context.parameters.get("name") ?? ""))
        }
        router.get("/v2/models/:name/ready") { _, context in
            Self.response(service.modelReady(context.parameters.get("name") ?? ""))
        }
        router.post("/v2/models/:name/infer") { request, context in
            let name = context.parameters.get("name") ?? ""
            guard let model = service.models[name] else { return Self.response(service.unknownModel(name)) }
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBody {
                return Self.response(.error(413, "the request body exceeds \(maximumBody) bytes"))
            }
            guard gate.enter() else {
                return Self.response(.error(503, "the server is busy (\(gate.capacity) requests in progress); retry later"))
            }
            defer { gate.leave() }
            // Read so that every received fragment is overwritten as it is copied, on success and on failure alike
            // (`collectBody` left the fragments it gathered from unwiped).
            var body: [UInt8]
            do {
                body = try await WipingBodyReader.bytes(of: request.body, upTo: maximumBody,
                                                        declaredLength: request.headers[.contentLength].flatMap { Int($0) })
            } catch WipingBodyReader.Failure.tooLarge {
                return Self.response(.error(413, "the request body exceeds \(maximumBody) bytes"))
            } catch {
                return Self.response(.error(400, "the request body could not be read (truncated?)"))
            }
            defer { body.withUnsafeMutableBytes { zeroBytes($0) } }
            return await ServerWork.run(bodyBytes: body.count, model: model.model) {
                var answer = body.withUnsafeBytes { service.infer(name, body: $0) }
                defer { answer.body.withUnsafeMutableBytes { zeroBytes($0) } }
                return Self.response(answer)
            }
        }
        for route in additionalRoutes {
            let path = RouterPath(stringLiteral: route.path)
            switch route.method {
            case .get:
                router.get(path) { request, _ in
                    // Another module's endpoint may take its time (evidence is signed): not on the connection's loop.
                    let query = Self.queryParameters(request)
                    return Self.response(await ServerWork.onSharedPool { await route.handler([], query) })
                }
            case .post:
                router.post(path) { request, _ in
                    if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBody {
                        return Self.response(.error(413, "the request body exceeds \(maximumBody) bytes"))
                    }
                    guard gate.enter() else {
                        return Self.response(.error(503, "the server is busy (\(gate.capacity) requests in progress); retry later"))
                    }
                    defer { gate.leave() }
                    var bytes: [UInt8]
                    do {
                        bytes = try await WipingBodyReader.bytes(of: request.body, upTo: maximumBody,
                                                                 declaredLength: request.headers[.contentLength].flatMap { Int($0) })
                    } catch {
                        return Self.response(.error(400, "the request body could not be read (truncated or too large)"))
                    }
                    // Overwritten in place once answered: the handler's copy is gone by then, so no copy is made.
                    defer { bytes.withUnsafeMutableBytes { zeroBytes($0) } }
                    let query = Self.queryParameters(request)
                    return Self.response(await ServerWork.run(bodyBytes: bytes.count) { await route.handler(bytes, query) })
                }
            }
        }

        let http = HTTP1Channel.Configuration(idleTimeout: .seconds(configuration.idleTimeoutSeconds))
        let onConnectionLoop = configuration.handlesRequestsOnConnectionLoop
        let inline = configuration.answersInlineRequestsInPipeline && onConnectionLoop
            ? InlineInferenceHandler.Settings(service: service, gate: gate, maximumBodyBytes: maximumBody,
                                              bearerToken: configuration.bearerToken, serverName: Self.serverName, log: log)
            : nil
        let server: HTTPServerBuilder
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            let tls = try Self.tlsConfiguration(certificate: certificate, key: key)
            server = HTTPServerBuilder { responder in
                let channel = try TLSChannel(HTTP1Channel(responder: responder, configuration: http), tlsConfiguration: tls)
                if onConnectionLoop { return ConnectionBoundChannel(base: channel, inline: inline) }
                return channel
            }
        } else {
            server = HTTPServerBuilder { responder in
                let channel = HTTP1Channel(responder: responder, configuration: http)
                if onConnectionLoop { return ConnectionBoundChannel(base: channel, inline: inline) }
                return channel
            }
        }
        var logger = Logger(label: "veil.serve")
        logger.logLevel = .critical  // Hummingbird's own messages could quote a request; the access log is ours.
        let app = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: Self.serverName),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
        try await app.runService()
    }

    /// The `Server` header of every response.
    static let serverName = "veil"

    static func tlsConfiguration(certificate: String, key: String) throws -> TLSConfiguration {
        try ServerTLS.serverConfiguration(certificate: certificate, key: key)
    }

    /// A Hummingbird response carrying an additional route's reply.
    static func response(_ reply: AdditionalRoute.Reply) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(reply.body)
        return Response(status: .init(code: reply.status), headers: [.contentType: reply.contentType], body: .init(byteBuffer: buffer))
    }

    static func queryParameters(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { out[String(key)] = String(value) }
        return out
    }

    /// A Hummingbird response carrying `answer` as JSON.
    static func response(_ answer: InferenceService.Answer) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(answer.body)
        return Response(status: .init(code: answer.status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: buffer))
    }
}
