/// An endpoint another module mounts on the ``InferenceServer`` next to the Open Inference Protocol ones
/// (the confidential-inference gateway uses it), without depending on the HTTP framework. A POST route's
/// body is read under the server's size limit and admission gate and zeroed after the handler returns.
public struct AdditionalRoute: Sendable {
    public enum Method: Sendable { case get, post }

    /// What a route answers.
    public struct Reply: Sendable {
        public let status: Int
        public let contentType: String
        public var body: [UInt8]

        public init(status: Int, contentType: String, body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public let method: Method
    public let path: String
    /// Receives the request body (empty for GET) and the query string's parameters.
    public let handler: @Sendable (_ body: [UInt8], _ query: [String: String]) async -> Reply

    public init(_ method: Method, _ path: String, handler: @escaping @Sendable (_ body: [UInt8], _ query: [String: String]) async -> Reply) {
        self.method = method
        self.path = path
        self.handler = handler
    }
}
