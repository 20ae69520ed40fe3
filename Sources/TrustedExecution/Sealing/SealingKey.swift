import Foundation
import Crypto

/// The key that seals an enclave's local secrets (its HPKE private key, tokens): HKDF-SHA-384 (RFC 5869)
/// of the platform secret, salted with the enclave measurement. A changed binary, model or configuration
/// has another measurement, hence another key, and cannot unseal what the original sealed.
public struct SealingKey: Sendable {
    static let info = Array("veil-sealing-key-v1".utf8)
    let keyBytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(platformSecret: [UInt8], measurement: [UInt8]) throws {
        guard platformSecret.count >= 32 else { throw TrustedExecutionError.invalid("platform secret must be at least 32 bytes") }
        keyBytes = HKDF<SHA384>.deriveKey(inputKeyMaterial: SymmetricKey(data: platformSecret), salt: measurement,
                                     info: Self.info, outputByteCount: 32).withUnsafeBytes { Array($0) }
    }
}

/// AES-256-GCM sealing of small secrets under a ``SealingKey``; the label (what the secret is) is
/// authenticated as associated data. Format: `VEIL-SEALED-v1\n` ‖ nonce (12) ‖ ciphertext ‖ tag (16).
public enum SealedSecret {
    static let magic = Array("VEIL-SEALED-v1\n".utf8)

    public static func seal(_ secret: [UInt8], label: String, key: SealingKey) throws -> [UInt8] {
        let box = try AES.GCM.seal(secret, using: key.key, authenticating: Array(label.utf8))
        return magic + Array(box.combined!)
    }

    /// - Throws: ``TrustedExecutionError`` when the blob is malformed, or (`verificationFailed`) when it was
    ///   sealed under another platform secret, measurement or label.
    public static func unseal(_ sealed: [UInt8], label: String, key: SealingKey) throws -> [UInt8] {
        guard sealed.starts(with: magic), sealed.count >= magic.count + 28 else {
            throw TrustedExecutionError.invalid("sealed secret '\(label)': not a VEIL-SEALED-v1 blob")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[magic.count...])
            return Array(try AES.GCM.open(box, using: key.key, authenticating: Array(label.utf8)))
        } catch {
            throw TrustedExecutionError(.verificationFailed,
                "sealed secret '\(label)' cannot be unsealed here: the measurement or the platform secret differs from the sealer's")
        }
    }
}

/// The simulated platform secret: 32 random bytes in a file whose first line says SIMULATED. On real
/// hardware the secret comes from the TEE (a TDX or SNP derived key); this file is only as safe as the
/// disk it sits on.
public enum SimulatedPlatformSecret {
    static let header = "VEIL SIMULATED PLATFORM SECRET v1 (software only, no hardware protection)"

    /// Loads the secret file, or creates it (mode 0600) with fresh random bytes.
    public static func load(_ url: URL) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: url.path) {
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            guard lines.count == 2, lines[0] == header else {
                throw TrustedExecutionError.invalid("simulated platform secret \(url.path): first line must be '\(header)'")
            }
            let secret = try Hex.decode(lines[1], field: "simulated platform secret")
            guard secret.count == 32 else { throw TrustedExecutionError.invalid("simulated platform secret must be 32 bytes") }
            return secret
        }
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let text = header + "\n" + Hex.encode(secret) + "\n"
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TrustedExecutionError(.platform, "cannot create the simulated platform secret \(url.path)")
        }
        return secret
    }
}
