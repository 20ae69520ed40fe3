import Crypto
import Foundation
import Mechanisms

/// The clients a federated server accepts: each client id with the SHA-256 digest of its bearer token. The
/// roster file holds one client a line, `CLIENT-ID SHA256-HEX` (`#` starts a comment); the tokens themselves
/// are never stored by the server.
public struct ClientRoster: Sendable {
    /// Client ids in file order.
    public let clients: [String]
    private let digests: [String: [UInt8]]

    /// A roster of `(id, token digest)` pairs.
    /// - Throws: `VeilError.invalidInput` on an empty or duplicate id or a digest that is not 64 hex digits.
    public init(entries: [(id: String, digestHex: String)]) throws {
        var digests: [String: [UInt8]] = [:]
        var clients: [String] = []
        for (id, hex) in entries {
            guard !id.isEmpty, id.utf8.count <= 128, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw VeilError(.invalidInput, "roster: client id \"\(id.prefix(40))\" must be 1 to 128 letters, digits, - _ or .")
            }
            guard let digest = Self.bytes(hex: hex), digest.count == 32 else {
                throw VeilError(.invalidInput, "roster: the token digest of \(id) is not 64 hexadecimal digits")
            }
            guard digests[id] == nil else { throw VeilError(.invalidInput, "roster: client \(id) is listed twice") }
            digests[id] = digest
            clients.append(id)
        }
        guard !clients.isEmpty else { throw VeilError(.invalidInput, "roster: no clients") }
        self.clients = clients
        self.digests = digests
    }

    /// Reads a roster file.
    public static func load(path: String) throws -> ClientRoster {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VeilError(.invalidInput, "roster file not found: \(path)")
        }
        var entries: [(String, String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw VeilError(.invalidInput, "\(path) line \(n + 1): expected `CLIENT-ID SHA256-HEX`")
            }
            entries.append((String(fields[0]), String(fields[1])))
        }
        return try ClientRoster(entries: entries)
    }

    /// The lowercase hexadecimal SHA-256 of a token, as the roster stores it.
    public static func digestHex(token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The client whose id is `id` and whose token hashes to its digest; nil otherwise (unknown id or wrong token).
    /// The digests are compared in constant time.
    public func authenticate(id: String, token: String) -> String? {
        guard let expected = digests[id] else { return nil }
        let actual = Array(SHA256.hash(data: Data(token.utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(actual, expected) { difference |= a ^ b }
        return difference == 0 ? id : nil
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
