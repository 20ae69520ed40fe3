import Crypto
import Foundation

/// The bearer tokens of the query service: random 256-bit secrets, of which the configuration stores only the
/// SHA-256 digest, so that reading the configuration does not give anyone an analyst's access.
public enum AccessToken {
    /// The prefix of every secret, so that a leaked one is recognisable (`veil_` then 64 hexadecimal digits).
    public static let prefix = "veil_"

    /// A fresh secret: 256 bits from the operating system's CSPRNG, as `veil_` and 64 lowercase hexadecimal digits.
    public static func newSecret() -> String {
        let key = SymmetricKey(size: .bits256)
        return prefix + key.withUnsafeBytes { hex(Array($0)) }
    }

    /// The lowercase hexadecimal SHA-256 of the secret's UTF-8 bytes: what the configuration stores.
    public static func digest(of secret: String) -> String {
        hex(Array(SHA256.hash(data: Data(secret.utf8))))
    }

    /// Whether `digest` is a SHA-256 digest in lowercase or uppercase hexadecimal.
    public static func isDigest(_ digest: String) -> Bool {
        digest.utf8.count == 64 && digest.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text.append(digits[Int(byte >> 4)]); text.append(digits[Int(byte & 15)]) }
        return String(decoding: text, as: UTF8.self)
    }
}
