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

    /// The bearer token of the `Authorization` header, if it has one (the scheme name is case-insensitive, RFC 9110 §11.1).
    var bearerToken: String? {
        guard let authorization, authorization.prefix(7).lowercased() == "bearer " else { return nil }
        return String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }
}
