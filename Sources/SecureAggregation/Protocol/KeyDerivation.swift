import Crypto
import Foundation
import Mechanisms

/// X25519 key agreement followed by HKDF-SHA256 (RFC 5869), the derivation of every pairwise secret in
/// the protocol. The round identifier is the HKDF salt and the purpose string the HKDF info, so keys
/// of different rounds and different uses are independent.
enum KeyDerivation {
    static let encryptionPurpose = "veil secagg share encryption v1"
    static let maskPurpose = "veil secagg pairwise mask v1"

    /// A fresh X25519 private key from 32 bytes of `source`.
    static func privateKey<R: RandomSource>(using source: inout R) -> Curve25519.KeyAgreement.PrivateKey {
        try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: randomBytes(32, using: &source))
    }

    /// `count` uniformly random bytes.
    static func randomBytes<R: RandomSource>(_ count: Int, using source: inout R) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count { withUnsafeBytes(of: source.next()) { bytes.append(contentsOf: $0) } }
        return Array(bytes.prefix(count))
    }

    /// The 32-byte secret agreed between `privateKey` and the public key `peer` for `purpose` in round `roundID`.
    ///
    /// - Throws: `message_refused` when `peer` is not a valid X25519 public key (wrong length, or a
    ///   low-order point whose shared secret is zero).
    static func derive(_ privateKey: Curve25519.KeyAgreement.PrivateKey, peer: [UInt8], roundID: UInt64,
                       purpose: String) throws -> [UInt8] {
        guard peer.count == 32,
              let publicKey = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: peer),
              let shared = try? privateKey.sharedSecretFromKeyAgreement(with: publicKey) else {
            throw VeilError.refused("invalid X25519 public key")
        }
        var salt = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { salt[i] = UInt8(truncatingIfNeeded: roundID >> (8 * UInt64(7 - i))) }
        let key = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: salt, sharedInfo: Array(purpose.utf8),
                                                 outputByteCount: 32)
        return key.withUnsafeBytes { Array($0) }
    }

    /// Associated data binding a share ciphertext to its round, sender and recipient.
    static func associatedData(roundID: UInt64, sender: UInt32, recipient: UInt32) -> [UInt8] {
        var w = BinaryWriter()
        w.u64(roundID); w.u32(sender); w.u32(recipient)
        return w.bytes
    }

    /// +1 when `a` adds the pairwise mask it shares with `b` (a < b), −1 when it subtracts it.
    static func pairwiseSign(_ a: UInt32, _ b: UInt32) -> Int { a < b ? 1 : -1 }
}
