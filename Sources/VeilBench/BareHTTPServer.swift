import ArgumentParser
import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The floor the inference server's latency is compared with: a Hummingbird application with one route,
/// `POST /bare`, that collects the request body (as every POST route of ``LocalInference/InferenceServer``
/// must) and answers 200 with a two-byte body, without middleware, parsing or copies. Run in the
/// benchmark's process on 127.0.0.1 until ``stop()``.
final class BareHTTPServer: @unchecked Sendable {
    /// The path of the one route.
    static let path = "/bare"

    let port: Int
    private let task: Task<Void, Never>

    /// Starts the server on a free port and waits at most 30 s for it to listen.
    init(maximumBodyBytes: Int) throws {
        let router = Router(context: BasicRequestContext.self)
        router.post(RouterPath(stringLiteral: Self.path)) { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: maximumBodyBytes)
            var reply = ByteBuffer()
            reply.writeString(body.readableBytes > 0 ? "{}" : "[]")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: reply))
        }
        var logger = Logger(label: "veil-bench.bare")
        logger.logLevel = .critical
        let ready = DispatchSemaphore(value: 0)
        let bound = Bound()
        let app = Application(router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in bound.set(channel.localAddress?.port); ready.signal() },
                              logger: logger)
        task = Task.detached {
            do { try await app.runService() } catch { bound.set(nil) }
            ready.signal()
        }
        guard ready.wait(timeout: .now() + 30) == .success, let port = bound.port else {
            task.cancel()
            throw ValidationError("the bare Hummingbird server did not start")
        }
        self.port = port
    }

    func stop() { task.cancel() }

    private final class Bound: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Int?
        func set(_ port: Int?) { lock.withLock { value = port } }
        var port: Int? { lock.withLock { value } }
    }
}
