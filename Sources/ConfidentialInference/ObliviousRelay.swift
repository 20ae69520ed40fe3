import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LocalInference

/// The Oblivious Relay Resource of RFC 9458: forwards encapsulated requests (and evidence requests) to
/// the gateway and the answers back, byte for byte. It holds no key, so it sees only ciphertext, sizes
/// (padded to ``SizeBuckets``) and timing; the gateway sees the relay's address, never the client's.
/// Nothing is logged but method, path, status, sizes and latency (the inference server's access log).
public struct ObliviousRelay: Sendable {
    public let gateway: URL

    public init(gateway: URL) { self.gateway = gateway }

    /// The relay's endpoints, mounted on an ``InferenceServer`` with no models.
    public var routes: [AdditionalRoute] {
        let gateway = self.gateway
        return [
            AdditionalRoute(.post, "/confidential/ohttp") { body, _ in
                var request = URLRequest(url: gateway.appendingPathComponent("confidential/ohttp"))
                request.httpMethod = "POST"
                request.setValue(ObliviousRequest.requestMediaType, forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(body)
                return await Self.forward(request)
            },
            AdditionalRoute(.get, "/confidential/evidence") { _, query in
                var components = URLComponents(url: gateway.appendingPathComponent("confidential/evidence"), resolvingAgainstBaseURL: false)!
                components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
                return await Self.forward(URLRequest(url: components.url!))
            },
        ]
    }

    static func forward(_ request: URLRequest) async -> AdditionalRoute.Reply {
        var request = request
        request.timeoutInterval = 30
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as? HTTPURLResponse
            return AdditionalRoute.Reply(status: http?.statusCode ?? 502,
                                         contentType: http?.value(forHTTPHeaderField: "Content-Type") ?? "application/octet-stream",
                                         body: Array(data))
        } catch {
            return AdditionalRoute.Reply(status: 502, contentType: "application/json",
                                         body: Array(#"{"error":"the gateway cannot be reached"}"#.utf8))
        }
    }
}
