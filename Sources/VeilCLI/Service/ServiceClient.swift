import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Mechanisms
import PrivateSQL

/// The client side of `veil query --service URL --token-file F --dataset NAME`: one request to the query service,
/// its answer printed as `veil query` prints a local one, its error mapped to the same exit code.
struct ServiceClient {
    /// The service's base URL (`http://127.0.0.1:8470`).
    let base: URL
    /// The bearer token.
    let token: String

    /// Reads the token from `tokenFile` (its first line) and checks the URL: https, or http to a loopback host.
    /// - Throws: `CLIFailure` (exit 2) for an unreadable or empty token file or an unusable URL.
    init(service: String, tokenFile: String) throws {
        guard let url = URL(string: service), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CLIFailure("--service must be an http:// or https:// URL, got \(service)", exitCode: CLIExitCode.badInput)
        }
        guard LoopbackHost.allowsToken(to: url) else {
            throw CLIFailure("--service \(service): a token is only sent over https, or over http to a loopback address",
                             exitCode: CLIExitCode.badInput)
        }
        guard let text = FileManager.default.contents(atPath: tokenFile).flatMap({ String(data: $0, encoding: .utf8) }),
              let line = text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }),
              !line.isEmpty else {
            throw CLIFailure("cannot read a token from \(tokenFile)", exitCode: CLIExitCode.badInput)
        }
        base = url
        token = line
    }

    /// POSTs `body` as JSON to `path` and returns the decoded JSON object of a 200 answer.
    /// - Throws: `CLIFailure` with the service's message and the exit code it names (2 bad input or refused query,
    ///   3 budget refused, 1 failure), or exit 1 when the service cannot be reached.
    func post(_ path: String, _ body: [String: Any]) throws -> [String: Any] {
        let root = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        guard let url = URL(string: root + "/" + path) else {
            throw CLIFailure("cannot form a URL from \(base) and \(path)", exitCode: CLIExitCode.badInput)
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        request.timeoutInterval = 3600
        let (status, data) = try send(request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        if status == 200, let object { return object }
        if let error = object?["error"] as? [String: Any], let message = error["message"] as? String {
            let code = (error["exit_code"] as? Int).map(Int32.init) ?? CLIExitCode.failure
            throw CLIFailure("\(message) (service: HTTP \(status))", exitCode: code)
        }
        throw CLIFailure("the service at \(base) answered HTTP \(status) without a Veil error", exitCode: CLIExitCode.failure)
    }

    private func send(_ request: URLRequest) throws -> (Int, Data) {
        final class Box: @unchecked Sendable { var result: Result<(Int, Data), any Error>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let session = URLSession(configuration: .ephemeral)
        session.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(error)
            } else {
                box.result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            }
            done.signal()
        }.resume()
        done.wait()
        session.finishTasksAndInvalidate()
        switch box.result {
        case .success(let answer): return answer
        case .failure(let error):
            throw CLIFailure("cannot reach the service at \(base): \(error.localizedDescription)", exitCode: CLIExitCode.failure)
        case nil:
            throw CLIFailure("cannot reach the service at \(base)", exitCode: CLIExitCode.failure)
        }
    }

    // MARK: - Reading an answer back

    /// The rows of a query answer as values.
    static func rows(_ object: [String: Any]) -> (columns: [String], rows: [[SQLValue]], intervals: [[String: ClosedRange<Double>]]) {
        let columns = object["columns"] as? [String] ?? []
        let rows = (object["rows"] as? [[String: Any]] ?? []).map { row in columns.map { value(row[$0]) } }
        let intervals = (object["confidence_intervals"] as? [[String: Any]] ?? []).map { row in
            row.compactMapValues { pair -> ClosedRange<Double>? in
                guard let pair = pair as? [Any], pair.count == 2, let low = number(pair[0]), let high = number(pair[1]),
                      low <= high else { return nil }
                return low...high
            }
        }
        return (columns, rows, intervals)
    }

    static func number(_ any: Any?) -> Double? {
        (any as? NSNumber)?.doubleValue
    }

    static func value(_ any: Any?) -> SQLValue {
        switch any {
        case let text as String: return .text(text)
        case let number as NSNumber:
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 9e15, !"\(number)".contains(".") { return .integer(Int64(double)) }
            return .real(double)
        default: return .null
        }
    }
}
