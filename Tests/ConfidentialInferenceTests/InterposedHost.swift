import _TestSupport
import ConfidentialInference
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LocalInference

/// A host between a client and a gateway, run in the test's process: it answers the client's evidence
/// request with whatever `rewrite` makes of the gateway's answer to the same query (a host replaying old
/// evidence, or swapping in a key of its own), and counts the encapsulated requests that reach it, which it
/// forwards to the gateway unchanged.
final class InterposedHost: @unchecked Sendable {
    typealias Rewrite = @Sendable (_ gatewayAnswer: [UInt8]) throws -> [UInt8]

    private let task: Task<Void, any Error>
    let port: Int
    private let counter: Counter

    var url: String { "http://127.0.0.1:\(port)" }
    /// How many encapsulated requests the client sent through this host.
    var encapsulatedRequests: Int { counter.value }

    enum Failure: Error { case didNotStart }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    /// Starts the host on a free loopback port (waits at most 30 s for it to listen).
    init(gateway: String, rewrite: @escaping Rewrite) async throws {
        let counter = Counter()
        let gatewayURL = URL(string: gateway)!
        let routes = [
            AdditionalRoute(.get, "/confidential/evidence") { _, query in
                var components = URLComponents(url: gatewayURL.appendingPathComponent("confidential/evidence"), resolvingAgainstBaseURL: false)!
                components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
                guard let answer = try? await URLSession.shared.data(from: components.url!), let body = try? rewrite(Array(answer.0)) else {
                    return AdditionalRoute.Reply(status: 502, contentType: "text/plain", body: [])
                }
                return AdditionalRoute.Reply(status: 200, contentType: "application/json", body: body)
            },
            AdditionalRoute(.post, "/confidential/ohttp") { body, _ in
                counter.increment()
                var request = URLRequest(url: gatewayURL.appendingPathComponent("confidential/ohttp"))
                request.httpMethod = "POST"
                request.setValue(ObliviousRequest.requestMediaType, forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(body)
                guard let answer = try? await URLSession.shared.data(for: request) else {
                    return AdditionalRoute.Reply(status: 502, contentType: "text/plain", body: [])
                }
                return AdditionalRoute.Reply(status: (answer.1 as? HTTPURLResponse)?.statusCode ?? 502,
                                             contentType: ObliviousRequest.responseMediaType, body: Array(answer.0))
            },
        ]
        var configuration = InferenceServer.Configuration()
        configuration.port = 0
        let server = InferenceServer(service: InferenceService(models: []), configuration: configuration, additionalRoutes: routes) { _ in }
        let listening = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run { port in listening.continuation.yield(port) } }
        self.task = task
        let timeout = Task { try await Task.sleep(for: .seconds(30)); listening.continuation.finish() }
        defer { timeout.cancel() }
        var iterator = listening.stream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            task.cancel()
            throw Failure.didNotStart
        }
        self.port = port
        self.counter = counter
    }

    func stop() { task.cancel() }

    deinit { task.cancel() }
}

/// Runs `veil ARGUMENTS` (with a timeout) off the concurrency pool, so that a test's in-process server keeps its
/// threads while the child runs.
func runVeilOffPool(_ arguments: [String], timeout: Duration) async throws -> VeilRun {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try runVeil(arguments, timeout: timeout) })
        }
    }
}
