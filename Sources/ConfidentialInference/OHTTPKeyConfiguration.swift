import Crypto

/// An Oblivious HTTP key configuration (RFC 9458 §3): the key identifier, the HPKE KEM and public key,
/// and the (KDF, AEAD) pairs the gateway accepts.
///
/// Encoding: `key_id (8) || kem_id (16) || public_key (Npk) || length (16) || (kdf_id (16), aead_id (16))*`.
/// A list of them is served as `application/ohttp-keys`, each prefixed with its 16-bit length (§3.2).
/// Veil's gateway uses DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM, the suite of the RFC's
/// example.
public struct OHTTPKeyConfiguration: Sendable, Equatable {
    public static let kemX25519SHA256: UInt16 = 0x0020
    public static let kdfHKDFSHA256: UInt16 = 0x0001
    public static let aeadAES128GCM: UInt16 = 0x0001
    public static let mediaType = "application/ohttp-keys"

    public struct SymmetricAlgorithm: Sendable, Equatable {
        public let kdf: UInt16
        public let aead: UInt16
        public init(kdf: UInt16, aead: UInt16) { self.kdf = kdf; self.aead = aead }
    }

    public let keyID: UInt8
    public let kem: UInt16
    public let publicKey: [UInt8]
    public let algorithms: [SymmetricAlgorithm]

    public init(keyID: UInt8, publicKey: Curve25519.KeyAgreement.PublicKey,
                algorithms: [SymmetricAlgorithm] = [SymmetricAlgorithm(kdf: kdfHKDFSHA256, aead: aeadAES128GCM)]) {
        self.keyID = keyID
        kem = Self.kemX25519SHA256
        self.publicKey = Array(publicKey.rawRepresentation)
        self.algorithms = algorithms
    }

    /// Whether the configuration offers the suite Veil speaks.
    public var supportsVeilSuite: Bool {
        kem == Self.kemX25519SHA256 && publicKey.count == 32
            && algorithms.contains(SymmetricAlgorithm(kdf: Self.kdfHKDFSHA256, aead: Self.aeadAES128GCM))
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = [keyID, UInt8(kem >> 8), UInt8(kem & 0xFF)]
        out += publicKey
        let length = algorithms.count * 4
        out += [UInt8(length >> 8), UInt8(length & 0xFF)]
        for a in algorithms { out += [UInt8(a.kdf >> 8), UInt8(a.kdf & 0xFF), UInt8(a.aead >> 8), UInt8(a.aead & 0xFF)] }
        return out
    }

    /// Decodes one configuration (X25519 keys only: the public key length follows from the KEM).
    /// - Throws: `invalidInput` for a malformed or unsupported configuration.
    public init(decoding bytes: [UInt8]) throws {
        func fail(_ why: String) -> ConfidentialInferenceError { .invalid("key configuration: \(why)") }
        guard bytes.count >= 3 else { throw fail("too short") }
        keyID = bytes[0]
        kem = UInt16(bytes[1]) << 8 | UInt16(bytes[2])
        guard kem == Self.kemX25519SHA256 else { throw fail("KEM 0x\(String(kem, radix: 16)) is not DHKEM(X25519, HKDF-SHA256)") }
        guard bytes.count >= 3 + 32 + 2 else { throw fail("too short") }
        publicKey = Array(bytes[3..<35])
        let length = Int(bytes[35]) << 8 | Int(bytes[36])
        guard length > 0, length % 4 == 0, bytes.count == 37 + length else { throw fail("the algorithm list is malformed") }
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]) }
        algorithms = stride(from: 37, to: bytes.count, by: 4).map { SymmetricAlgorithm(kdf: u16($0), aead: u16($0 + 2)) }
    }

    /// The `application/ohttp-keys` body for these configurations, in order of preference.
    public static func encodeList(_ configurations: [OHTTPKeyConfiguration]) -> [UInt8] {
        var out: [UInt8] = []
        for c in configurations {
            let bytes = c.encoded
            out += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
        }
        return out
    }

    /// Decodes an `application/ohttp-keys` body; any encoding error discards the whole list (§3.2).
    public static func decodeList(_ bytes: [UInt8]) throws -> [OHTTPKeyConfiguration] {
        var out: [OHTTPKeyConfiguration] = []
        var i = 0
        while i < bytes.count {
            guard i + 2 <= bytes.count else { throw ConfidentialInferenceError.invalid("key configuration list: truncated") }
            let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            guard i + 2 + length <= bytes.count else { throw ConfidentialInferenceError.invalid("key configuration list: truncated") }
            out.append(try OHTTPKeyConfiguration(decoding: Array(bytes[(i + 2)..<(i + 2 + length)])))
            i += 2 + length
        }
        guard !out.isEmpty else { throw ConfidentialInferenceError.invalid("key configuration list: empty") }
        return out
    }

    /// The 7-byte request header of §4.3 (`key_id || kem_id || kdf_id || aead_id`) for Veil's suite.
    var requestHeader: [UInt8] {
        [keyID, UInt8(kem >> 8), UInt8(kem & 0xFF), 0x00, UInt8(Self.kdfHKDFSHA256), 0x00, UInt8(Self.aeadAES128GCM)]
    }

    /// The HPKE `info` of §4.3: `"message/bhttp request" || 0x00 || header`.
    static func requestInfo(header: [UInt8]) -> [UInt8] {
        Array("message/bhttp request".utf8) + [0] + header
    }
}
