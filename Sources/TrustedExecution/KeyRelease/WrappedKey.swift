import Foundation
import Crypto

/// A key wrapped by ``KeyBroker`` for one enclave key; only the holder of that private key can open it.
public struct WrappedKey: Codable, Sendable, Equatable {
    public let keyID: String
    public let encapsulatedKey: [UInt8]
    public let ciphertext: [UInt8]

    /// Opens the wrapped key with the enclave's HPKE private key.
    public func open(with privateKey: P384.KeyAgreement.PrivateKey) throws -> [UInt8] {
        do {
            var recipient = try HPKE.Recipient(privateKey: privateKey, ciphersuite: KeyBroker.ciphersuite,
                                               info: Data(KeyBroker.infoPrefix + Array(keyID.utf8)), encapsulatedKey: Data(encapsulatedKey))
            return Array(try recipient.open(ciphertext))
        } catch {
            throw TrustedExecutionError(.verificationFailed, "wrapped key '\(keyID)' does not open with this enclave key")
        }
    }
}
