import _TestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `veil serve` process started by a test on a free loopback port, with its own `TMPDIR` (`folder/tmp`).
typealias ServerProcess = VeilServerProcess

extension VeilServerProcess {
    /// Starts `veil serve ARGUMENTS --port 0` in `folder`, standard error in `folder/serve.log`.
    convenience init(_ arguments: [String], folder: URL) throws {
        try self.init(["serve"] + arguments, folder: folder, logName: "serve", privateTemporaryFolder: true)
    }
}

/// HTTP/1.1 over a plain loopback socket, for requests no HTTP library would send (truncated bodies,
/// lying lengths, garbage) and for holding a request open.
final class RawConnection {
    private let fd: Int32
    var descriptor: Int32 { fd }

    init(port: Int, timeoutSeconds: Int = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Ends the sending side (the server sees end of stream).
    func finishSending() { shutdown(fd, Int32(SHUT_WR)) }

    /// Everything received until the server closes or the timeout passes.
    func receiveAll() -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return received
    }

    /// A POST on this connection, kept alive (no `Connection: close`), and its response, read up to the end
    /// its `Content-Length` gives (or whatever arrived before the server closed or the timeout passed).
    func exchangeKeepingAlive(path: String, headers: [String] = [], body: [UInt8]) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for h in headers { head += h + "\r\n" }
        send(head + "\r\n")
        send(body)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
                let fields = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased().split(separator: "\r\n")
                if let field = fields.first(where: { $0.hasPrefix("content-length:") }),
                   let length = Int(field.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
                   received.count >= end.upperBound + length {
                    return Array(received[..<(end.upperBound + length)])
                }
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return received }
            received += buffer[0..<n]
        }
    }

    /// The status code of the first response in `bytes`, if any.
    static func status(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    static func body(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let range = text.range(of: "\r\n\r\n") else { return "" }
        return String(text[range.upperBound...])
    }

    deinit { close(fd) }

    /// One request on a new connection (`Connection: close`), and the whole answer.
    static func exchange(port: Int, method: String = "POST", path: String, headers: [String] = [], body: [UInt8] = [],
                         contentLength: Int? = nil) throws -> [UInt8] {
        let connection = try RawConnection(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        head += "Content-Length: \(contentLength ?? body.count)\r\n"
        for h in headers { head += h + "\r\n" }
        connection.send(head + "\r\n")
        connection.send(body)
        connection.finishSending()
        return connection.receiveAll()
    }
}
