import Foundation
import Crypto

/// A model file encrypted under a key the broker holds (AES-256-GCM, the key ID authenticated).
/// Format: `VEIL-SEALED-MODEL-v1\n` ‖ u16be(|id|) ‖ id ‖ nonce (12) ‖ ciphertext ‖ tag (16).
public enum SealedModel {
    static let magic = Array("VEIL-SEALED-MODEL-v1\n".utf8)

    public static func seal(_ model: [UInt8], keyID: String, key: [UInt8]) throws -> [UInt8] {
        let id = Array(keyID.utf8)
        guard !id.isEmpty, id.count <= 255 else { throw TrustedExecutionError.invalid("key id must be 1–255 bytes") }
        let box = try AES.GCM.seal(model, using: SymmetricKey(data: key), authenticating: magic + id)
        return magic + [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id + Array(box.combined!)
    }

    /// The key ID a sealed model needs.
    public static func keyID(of sealed: [UInt8]) throws -> String {
        guard sealed.starts(with: magic), sealed.count >= magic.count + 2 else {
            throw TrustedExecutionError.invalid("not a sealed model (VEIL-SEALED-MODEL-v1)")
        }
        let n = Int(sealed[magic.count]) << 8 | Int(sealed[magic.count + 1])
        guard sealed.count >= magic.count + 2 + n + 28 else { throw TrustedExecutionError.invalid("sealed model is truncated") }
        return String(decoding: sealed[(magic.count + 2)..<(magic.count + 2 + n)], as: UTF8.self)
    }

    public static func open(_ sealed: [UInt8], key: [UInt8]) throws -> [UInt8] {
        let id = Array(try keyID(of: sealed).utf8)
        let start = magic.count + 2 + id.count
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[start...])
            return Array(try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: magic + id))
        } catch {
            throw TrustedExecutionError(.verificationFailed, "sealed model does not open with the released key (wrong key or altered file)")
        }
    }
}
