import BudgetLedger
import Foundation
import Mechanisms
import PrivateSQL

/// One answer of the query service: a status, a content type and a body.
///
/// Every error has one JSON shape, `{"error": {"code": …, "message": …, "exit_code": …}}`, whose `code` is the
/// library's ``VeilError/Code`` (or `unauthorized`, `forbidden`, `unknown_dataset`, `not_found`, `rate_limited`,
/// `body_too_large`) and whose `exit_code` is the one `veil` exits with for it: 2 bad input or a refused query,
/// 3 budget refused, 1 a failure.
public struct ServiceResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The `Content-Type`.
    public var contentType: String
    /// The body.
    public var body: Data
    /// Extra headers (e.g. `WWW-Authenticate`, `Retry-After`).
    public var headers: [String: String] = [:]

    /// A JSON answer (sorted keys).
    static func json(_ status: Int, _ object: [String: Any]) -> ServiceResponse {
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return ServiceResponse(status: status, contentType: "application/json", body: body)
    }

    /// The error shape with an explicit status, code and exit code.
    static func error(_ status: Int, code: String, _ message: String, exitCode: Int32) -> ServiceResponse {
        json(status, ["error": ["code": code, "message": message, "exit_code": Int(exitCode)] as [String: Any]])
    }

    /// The error shape for a library error: bad input 400, budget refused 403, failures 500 (the message of a
    /// failure after data was read says that the charge stands).
    static func error(_ error: VeilError) -> ServiceResponse {
        let status = switch error.code.category {
        case .badInput: 400
        case .budgetRefused: 403
        default: 500
        }
        return self.error(status, code: error.code.rawValue, error.message, exitCode: error.code.category.exitCode)
    }

    /// The same for any error thrown while answering (query errors keep their code).
    static func failure(_ error: any Error) -> ServiceResponse {
        if let error = error as? VeilError { return self.error(error) }
        if let error = error as? QueryError { return self.error(error.veilError) }
        return self.error(500, code: "internal", "internal error", exitCode: VeilError.Category.failure.exitCode)
    }

    static let unauthorized: ServiceResponse = {
        var response = error(401, code: "unauthorized", "missing or wrong bearer token", exitCode: VeilError.Category.badInput.exitCode)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    }()

    static func forbidden(_ message: String) -> ServiceResponse {
        error(403, code: "forbidden", message, exitCode: VeilError.Category.badInput.exitCode)
    }

    static func unknownDataset(_ name: String) -> ServiceResponse {
        error(404, code: "unknown_dataset", "no dataset named \"\(String(name.prefix(64)))\" for this account",
              exitCode: VeilError.Category.badInput.exitCode)
    }

    static let notFound = error(404, code: "not_found", "no such endpoint", exitCode: VeilError.Category.badInput.exitCode)
}
