import Crypto
import Foundation

/// HPKE base mode (RFC 9180 §5.1) for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM, written
/// from swift-crypto's primitives, for the case swift-crypto's `HPKE.Sender` cannot serve: a sender whose
/// ephemeral key is given (known-answer tests against RFC 9458 Appendix A, and keys made ahead of time by an
/// ``EphemeralKeyPool``). The gateway opens with swift-crypto's HPKE; a round-trip test checks this sender
/// against its `HPKE.Recipient`.
///
/// Only the first message (sequence number 0) is sealed, as Oblivious HTTP needs.
struct HPKEBaseModeSender {
    /// The encapsulated key, `pkE`.
    let encapsulatedKey: [UInt8]
    private let key: SymmetricKey
    private let baseNonce: [UInt8]
    private let exporterSecret: SymmetricKey

    private static let kemSuite = Array("KEM".utf8) + [0x00, 0x20]
    private static let hpkeSuite = Array("HPKE".utf8) + [0x00, 0x20, 0x00, 0x01, 0x00, 0x01]

    /// SetupBaseS(pkR, info) with the ephemeral key `skE` (RFC 9180 §4.1 Encap, §5.1 KeySchedule).
    init(recipientKey: Curve25519.KeyAgreement.PublicKey, info: [UInt8], ephemeralKey: Curve25519.KeyAgreement.PrivateKey) throws {
        let dh = try ephemeralKey.sharedSecretFromKeyAgreement(with: recipientKey).withUnsafeBytes { Array($0) }
        encapsulatedKey = Array(ephemeralKey.publicKey.rawRepresentation)
        let kemContext = encapsulatedKey + Array(recipientKey.rawRepresentation)
        let eaePRK = Self.labeledExtract(salt: [], label: "eae_prk", ikm: dh, suite: Self.kemSuite)
        let sharedSecret = Self.labeledExpand(prk: eaePRK, label: "shared_secret", info: kemContext, length: 32, suite: Self.kemSuite)

        let pskIDHash = Self.labeledExtract(salt: [], label: "psk_id_hash", ikm: [], suite: Self.hpkeSuite)
        let infoHash = Self.labeledExtract(salt: [], label: "info_hash", ikm: info, suite: Self.hpkeSuite)
        let context = [0x00] + pskIDHash + infoHash   // mode_base
        let secret = Self.labeledExtract(salt: sharedSecret, label: "secret", ikm: [], suite: Self.hpkeSuite)
        key = SymmetricKey(data: Self.labeledExpand(prk: secret, label: "key", info: context, length: 16, suite: Self.hpkeSuite))
        baseNonce = Self.labeledExpand(prk: secret, label: "base_nonce", info: context, length: 12, suite: Self.hpkeSuite)
        exporterSecret = SymmetricKey(data: Self.labeledExpand(prk: secret, label: "exp", info: context, length: 32, suite: Self.hpkeSuite))
    }

    /// Seal(aad, pt) with sequence number 0: AES-128-GCM under the base nonce, ciphertext || tag.
    func seal(_ plaintext: [UInt8], authenticating aad: [UInt8] = []) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: try AES.GCM.Nonce(data: baseNonce), authenticating: aad)
        var out: [UInt8] = []
        out.reserveCapacity(plaintext.count + 16)
        out += box.ciphertext
        out += box.tag
        return out
    }

    /// Export(exporter_context, L) of RFC 9180 §5.3.
    func exportSecret(context: [UInt8], length: Int) -> [UInt8] {
        Self.labeledExpand(prk: exporterSecret.withUnsafeBytes { Array($0) }, label: "sec", info: context, length: length, suite: Self.hpkeSuite)
    }

    private static func labeledExtract(salt: [UInt8], label: String, ikm: [UInt8], suite: [UInt8]) -> [UInt8] {
        let labeled = Array("HPKE-v1".utf8) + suite + Array(label.utf8) + ikm
        return Array(HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: labeled), salt: salt))
    }

    private static func labeledExpand(prk: [UInt8], label: String, info: [UInt8], length: Int, suite: [UInt8]) -> [UInt8] {
        let labeled = [UInt8(length >> 8), UInt8(length & 0xFF)] + Array("HPKE-v1".utf8) + suite + Array(label.utf8) + info
        return HKDF<SHA256>.expand(pseudoRandomKey: prk, info: labeled, outputByteCount: length).withUnsafeBytes { Array($0) }
    }
}
