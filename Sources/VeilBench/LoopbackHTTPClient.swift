import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over one kept-alive loopback TCP connection, for latency benchmarks: it
/// adds almost nothing of its own (one `write`, a few `read`s), so the time it measures is the server's and the
/// network stack's. Only what the benchmarks need: `POST` with a body, responses with `Content-Length`.
final class LoopbackHTTPClient {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let descriptor: Int32
    private let port: Int
    private var buffer: [UInt8] = []

    /// Connects to `127.0.0.1:port` (Nagle's algorithm off).
    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        self.port = port
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var on: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(descriptor) }

    /// Sends `POST path` with `body` (and `headers`, e.g. `Authorization`) and returns the status and body of the answer.
    func post(_ path: String, body: [UInt8], contentType: String,
              headers: [(name: String, value: String)] = []) throws -> (status: Int, body: [UInt8]) {
        let extra = headers.map { "\($0.name): \($0.value)\r\n" }.joined()
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\(extra)Content-Type: \(contentType)\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        var request = Array(head.utf8)
        request.reserveCapacity(request.count + body.count)
        request += body
        var written = 0
        while written < request.count {
            let n = request.withUnsafeBytes { send(descriptor, $0.baseAddress! + written, request.count - written, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            written += n
        }
        // The header block, then Content-Length bytes of body.
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let range = buffer.firstRange(of: separator) { headerEnd = range.lowerBound } else { try fill() }
        }
        let header = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
        let lines = header.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
              let status = Int(statusLine.dropFirst(9).prefix(3)) else { throw Failure(description: "not an HTTP/1.1 answer: \(header.prefix(80))") }
        guard let lengthLine = lines.first(where: { $0.lowercased().hasPrefix("content-length:") }),
              let length = Int(lengthLine.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else {
            throw Failure(description: "the answer has no Content-Length")
        }
        let bodyStart = headerEnd! + separator.count
        while buffer.count < bodyStart + length { try fill() }
        let answer = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        return (status, answer)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let n = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if n < 0, errno == EINTR { return }
        guard n > 0 else { throw Failure(description: n == 0 ? "the server closed the connection" : "recv: \(String(cString: strerror(errno)))") }
        buffer += chunk[0..<n]
    }
}
