import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HTTPTypes
import Logging
import Mechanisms
import ServerTLS
import NIOCore

/// The HTTP server of the ``QueryService``, on Hummingbird.
///
/// - Listens on loopback without TLS; any other address needs a certificate and a key (HTTPS).
/// - A `/v1/` request without a valid bearer token gets 401 before its body is read; a body larger than the
///   configured limit gets 413 (from `Content-Length` before it is read, else while reading).
/// - SIGTERM and SIGINT stop accepting connections; requests in flight finish, so a query that was reserved is
///   answered and committed.
public struct QueryServiceServer: Sendable {
    /// Where and how the server listens.
    public struct Listener: Sendable {
        /// The address (default loopback).
        public var host = "127.0.0.1"
        /// The port (0: a free port).
        public var port = 8470
        /// TLS: PEM certificate chain and private key files.
        public var tlsCertificate: String?
        public var tlsKey: String?

        public init() {}

        /// Refuses any address but loopback without TLS, a certificate without a key, and a bad port.
        /// - Throws: `invalidParameter` with one line.
        public func validate() throws {
            guard (0...65_535).contains(port) else { throw VeilError(.invalidParameter, "--port must be 0 to 65535") }
            guard (tlsCertificate == nil) == (tlsKey == nil) else {
                throw VeilError(.invalidParameter, "--tls-cert and --tls-key go together")
            }
            if !LoopbackHost.contains(host), tlsCertificate == nil {
                throw VeilError(.invalidParameter, "refusing to listen on \(host) without TLS: an address other than "
                                + "loopback needs --tls-cert and --tls-key")
            }
        }
    }

    /// The service answering requests.
    public let service: QueryService
    /// The listener.
    public let listener: Listener

    public init(service: QueryService, listener: Listener) {
        self.service = service
        self.listener = listener
    }

    /// Runs until SIGTERM or SIGINT; `onListening` receives the bound port once connections are accepted.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        try listener.validate()
        let http = HTTP1Channel.Configuration(idleTimeout: .seconds(30))
        let server: HTTPServerBuilder
        if let certificate = listener.tlsCertificate, let key = listener.tlsKey {
            server = try .tls(.http1(configuration: http), tlsConfiguration: Self.tlsConfiguration(certificate: certificate, key: key))
        } else {
            server = .http1(configuration: http)
        }
        var logger = Logger(label: "veil.service")
        logger.logLevel = .critical  // Hummingbird's own messages could quote a request; the request log is ours.
        let port = listener.port
        let app = Application(
            responder: Responder(service: service),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(listener.host, port: listener.port), serverName: "veil"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.runService()
    }

    static func tlsConfiguration(certificate: String, key: String) throws -> TLSConfiguration {
        try ServerTLS.serverConfiguration(certificate: certificate, key: key)
    }

    /// Adapts Hummingbird requests to ``QueryService/respond(to:)``.
    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let service: QueryService

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            var request = request
            let path = request.uri.path
            let authorization = request.headers[.authorization]
            var body = Data()
            if path.hasPrefix("/v1/") {
                // The token is checked before the body is read: a wrong one costs the client nothing more than 401.
                guard service.account(forAuthorization: authorization) != nil else {
                    return Self.response(await service.respond(to: ServiceRequest(method: request.method.rawValue, path: path,
                                                                                  authorization: authorization)))
                }
                let limit = service.configuration.limits.maximumBodyBytes
                if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
                    return Self.response(.error(413, code: "body_too_large", "the request body exceeds \(limit) bytes", exitCode: 2))
                }
                do {
                    body = Data(try await request.collectBody(upTo: limit).readableBytesView)
                } catch {
                    return Self.response(.error(413, code: "body_too_large", "the request body exceeds \(limit) bytes", exitCode: 2))
                }
            }
            var parameters: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
            let answer = await service.respond(to: ServiceRequest(method: request.method.rawValue, path: path,
                                                                  parameters: parameters, authorization: authorization,
                                                                  body: body))
            return Self.response(answer)
        }

        static func response(_ answer: ServiceResponse) -> Response {
            var headers: HTTPFields = [.contentType: answer.contentType, .cacheControl: "no-store"]
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            return Response(status: .init(code: answer.status), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
    }
}
