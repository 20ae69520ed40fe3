import Foundation
import Hummingbird

/// The access log's line: method, path (without the query, non-printable characters as `?`, at most 200
/// characters), status, request and response sizes in bytes, and latency; never a header value, a query or
/// a body.
enum AccessLog {
    static func line(method: String, path: String, status: Int, requestSize: String, responseSize: Int?,
                     since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        var shownPath: [UInt8] = []
        shownPath.reserveCapacity(min(path.utf8.count, 200))
        for scalar in path.unicodeScalars.prefix(200) {
            shownPath.append(scalar.value < 0x21 || scalar.value > 0x7E ? UInt8(ascii: "?") : UInt8(scalar.value))
        }
        // Whole microseconds by integer formatting (Foundation's String(format:) costs microseconds per request).
        return "\(timestamp()) \(method) \(String(decoding: shownPath, as: UTF8.self)) \(status) in=\(requestSize) out=\(responseSize.map(String.init) ?? "-") "
            + "\(Int(micros.rounded()))us"
    }

    /// The current UTC time to the second, `2026-12-01T22:48:33Z` (cheaper than a date formatter per request).
    static func timestamp() -> String { format(time(nil), "%Y-%m-%dT%H:%M:%SZ") }

    /// `seconds` since the epoch in UTC, formatted by `strftime` with `pattern` (in the C locale, which the
    /// process keeps: it never calls `setlocale`).
    static func format(_ seconds: time_t, _ pattern: String) -> String {
        var now = seconds
        var parts = tm()
        gmtime_r(&now, &parts)
        var text = [CChar](repeating: 0, count: 64)
        let length = strftime(&text, text.count, pattern, &parts)
        return String(decoding: text.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One access-log line per request (see ``AccessLog``).
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let log: @Sendable (String) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestSize = request.headers[.contentLength] ?? "-"
        func line(_ status: Int, _ responseSize: Int?) -> String {
            AccessLog.line(method: request.method.rawValue, path: request.uri.path, status: status,
                           requestSize: requestSize, responseSize: responseSize, since: start)
        }
        do {
            let response = try await next(request, context)
            // An inference response's length follows the printed digits of its probabilities, a function of the
            // request's content: it is not logged (zero data retention).
            let isInference = request.uri.path.hasSuffix("/infer")
            log(line(response.status.code, isInference ? nil : response.body.contentLength))
            return response
        } catch {
            log(line((error as? any HTTPResponseError)?.status.code ?? 500, nil))
            throw error
        }
    }
}

/// Turns the errors Hummingbird throws (no route, wrong method, body too large) into the protocol's
/// JSON error object, with a fixed message per status (never a quote of the request).
struct ProtocolErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = error.status
            let message = switch status.code {
            case 404: "no such endpoint"
            case 405: "method not allowed"
            case 413: "the request body is too large"
            default: status.reasonPhrase
            }
            return InferenceServer.response(.error(status.code, message))
        } catch {
            return InferenceServer.response(.error(500, "internal error"))
        }
    }
}

/// Requires `Authorization: Bearer TOKEN` on every endpoint but the health checks; a request without the
/// right token gets 401 and its body is never read.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    init(token: String) { self.token = Array(token.utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.hasPrefix("/v2/health/") { return try await next(request, context) }
        guard presentsBearerToken(request.headers[.authorization], token) else {
            var response = InferenceServer.response(.error(401, "missing or wrong bearer token"))
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}

/// Whether an `Authorization` header value is exactly `Bearer TOKEN`, compared in time that depends on the
/// lengths only.
func presentsBearerToken(_ authorization: String?, _ token: [UInt8]) -> Bool {
    let presented = authorization.map { Array($0.utf8) } ?? []
    let prefix = Array("Bearer ".utf8)
    return presented.count == prefix.count + token.count && presented.starts(with: prefix)
        && constantTimeEqual(Array(presented.dropFirst(prefix.count)), token)
}

/// Equality whose time depends on the length only.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in a.indices { difference |= a[i] ^ b[i] }
    return difference == 0
}
