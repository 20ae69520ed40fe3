import Foundation
import Crypto

/// Releases keys (a model's encryption key, a token) only to evidence that satisfies the broker's policy,
/// wrapped with HPKE (RFC 9180; DHKEM(P-384, HKDF-SHA384), HKDF-SHA384, AES-256-GCM) to the public key that
/// the evidence binds — the pattern of the Confidential Containers key broker and Azure secure key release.
///
/// The broker chooses the nonce; the evidence's report data must be
/// ``ReportDataBinding/reportData(nonce:publicKey:)`` of that nonce and the enclave key the key is wrapped
/// to, so old evidence (another nonce) or evidence for another key gets nothing.
public struct KeyBroker: Sendable {
    public static var ciphersuite: HPKE.Ciphersuite { .P384_SHA384_AES_GCM_256 }
    static let infoPrefix = Array("veil-key-release-v1 ".utf8)

    public let keys: [String: [UInt8]]
    public let policy: AttestationPolicy
    public let collateralDirectory: URL?

    public init(keys: [String: [UInt8]], policy: AttestationPolicy, collateralDirectory: URL?) {
        self.keys = keys
        self.policy = policy
        self.collateralDirectory = collateralDirectory
    }

    /// Loads a key store: JSON `{"keys": {"ID": "hex", …}}` (each key 16–64 bytes).
    public static func keyStore(contentsOf url: URL) throws -> [String: [UInt8]] {
        let data = Data(try BoundedFile.read(url.path, limit: 1 << 20, what: "key store"))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], Set(object.keys) == ["keys"],
              let entries = object["keys"] as? [String: String] else {
            throw TrustedExecutionError.invalid("key store \(url.path): expected {\"keys\": {\"ID\": \"hex\", …}}")
        }
        return try entries.mapValues { hex in
            let key = try Hex.decode(hex, field: "key store")
            guard (16...64).contains(key.count) else { throw TrustedExecutionError.invalid("key store: keys must be 16–64 bytes") }
            return key
        }
    }

    /// Verifies `evidence` for `nonce` and `enclavePublicKey` and, if every check passes, wraps the key.
    /// - Returns: the verification report, and the wrapped key only when the report accepted the evidence.
    /// - Throws: ``TrustedExecutionError`` (`invalidInput`) for an unknown key ID, a malformed public key or
    ///   evidence; nothing is released then.
    public func release(keyID: String, evidence: [UInt8], nonce: [UInt8], enclavePublicKey: [UInt8],
                        at time: Date = Date()) throws -> (report: VerificationReport, wrapped: WrappedKey?) {
        guard let key = keys[keyID] else { throw TrustedExecutionError.invalid("key broker: no key with id '\(keyID)'") }
        guard nonce.count >= 16 else { throw TrustedExecutionError.invalid("key broker: the nonce must be at least 16 bytes") }
        let recipient: P384.KeyAgreement.PublicKey
        do { recipient = try P384.KeyAgreement.PublicKey(x963Representation: enclavePublicKey) } catch {
            throw TrustedExecutionError.invalid("key broker: the enclave public key is not a P-384 point (X9.63)")
        }
        let expected = ReportDataBinding.reportData(nonce: nonce, publicKey: enclavePublicKey)
        let report = try EvidenceVerifier.verify(evidence: evidence, policy: policy, at: time,
                                                 collateralDirectory: collateralDirectory, expectedReportData: expected)
        guard report.accepted else { return (report, nil) }
        var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: Self.ciphersuite, info: Data(Self.infoPrefix + Array(keyID.utf8)))
        let ciphertext = try sender.seal(key)
        return (report, WrappedKey(keyID: keyID, encapsulatedKey: Array(sender.encapsulatedKey), ciphertext: Array(ciphertext)))
    }
}
