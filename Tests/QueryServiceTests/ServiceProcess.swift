import _TestSupport
import Foundation
@testable import QueryService
#if canImport(Glibc)
import Glibc
#endif

/// A `veil service` process started by a test on a free loopback port, its request log in the test's folder.
typealias ServiceProcess = VeilServerProcess

extension VeilServerProcess {
    /// Starts `veil service --config CONFIG --port 0 EXTRA` in `folder`.
    convenience init(config: URL, folder: URL, extra: [String] = []) throws {
        try self.init(["service", "--config", config.path] + extra, folder: folder,
                      logName: "service-\(UUID().uuidString)")
    }

    /// One HTTP/1.1 request on a new loopback connection (`Connection: close`); the status and the body.
    func exchange(_ method: String, _ path: String, token: String?, json: [String: Any]? = nil,
                  timeoutSeconds: Int = 60) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if json != nil { head += "Content-Type: application/json\r\n" }
        let bytes = Array((head + "\r\n").utf8) + Array(body)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = text.hasPrefix("HTTP/1.1 ") ? Int(text.dropFirst(9).prefix(3)) ?? 0 : 0
        let answer = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, answer)
    }
}

/// A folder with a service configuration over `database` and `metadata` (dataset `NAME`, budget ε 10), a ledger,
/// and token files for analyst `ana` (limit ε `analystEpsilon`) and auditor `audrey`.
struct ServiceFolder {
    let url: URL
    let config: URL
    let ledger: String
    let tokens: [String: String]

    init(dataset: String, database: String, metadata: String, analystEpsilon: Double = 2, extra: String = "") throws {
        url = try TemporaryDirectory.make("service-process")
        config = url.appendingPathComponent("service.yaml")
        ledger = url.appendingPathComponent("ledger.sqlite").path
        var tokens: [String: String] = [:]
        for name in ["ana", "audrey"] {
            let secret = AccessToken.newSecret()
            tokens[name] = secret
            try (secret + "\n").write(to: url.appendingPathComponent("\(name).token"), atomically: true, encoding: .utf8)
        }
        self.tokens = tokens
        try """
            datasets:
              \(dataset):
                database: \(database)
                metadata: \(metadata)
                ledger: ledger.sqlite
                budget: {epsilon: 10, delta: 1e-5}
            accounts:
              ana:
                role: analyst
                token_sha256: \(AccessToken.digest(of: tokens["ana"]!))
                limits:
                  \(dataset): {epsilon: \(analystEpsilon), delta: 1e-6}
              audrey: {role: auditor, token_sha256: \(AccessToken.digest(of: tokens["audrey"]!))}
            \(extra)
            """.write(to: config, atomically: true, encoding: .utf8)
    }

    func tokenFile(_ name: String) -> String { url.appendingPathComponent("\(name).token").path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
