import Foundation

/// One request to the query service, as the HTTP layer hands it over (or a test builds it).
public struct ServiceRequest: Sendable {
    /// `GET` or `POST`.
    public var method: String
    /// The path, without the query string.
    public var path: String
    /// The query string's parameters.
    public var parameters: [String: String]
    /// The `Authorization` header, if any.
    public var authorization: String?
    /// The body (read only after the token was checked).
    public var body: Data

    public init(method: String, path: String, parameters: [String: String] = [:], authorization: String? = nil,
                body: Data = Data()) {
        self.method = method
        self.path = path
        self.parameters = parameters
        self.authorization = authorization
        self.body = body
    }

    /// The bearer token of the `Authorization` header, if it has one.
    var bearerToken: String? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        return String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
    }
}
