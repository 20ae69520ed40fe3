import Crypto
import Foundation

/// The response protection of RFC 9458 §4.4, shared by gateway and client:
/// `secret = Export("message/bhttp response", 16)`, `salt = enc || response_nonce`,
/// `prk = Extract(salt, secret)`, `key = Expand(prk, "key", 16)`, `nonce = Expand(prk, "nonce", 12)`,
/// and the encapsulated response is `response_nonce || AES-128-GCM(key, nonce, "", response)`.
enum ObliviousResponseKeys {
    static let exportLabel = Array("message/bhttp response".utf8)
    /// max(Nn, Nk) for AES-128-GCM.
    static let secretLength = 16
    static let nonceLength = 16

    static func derive(secret: [UInt8], encapsulatedKey: [UInt8], responseNonce: [UInt8]) -> (key: SymmetricKey, nonce: [UInt8]) {
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: secret), salt: encapsulatedKey + responseNonce)
        let key = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("key".utf8), outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("nonce".utf8), outputByteCount: 12)
        return (key, nonce.withUnsafeBytes { Array($0) })
    }

    static func seal(_ response: [UInt8], secret: [UInt8], encapsulatedKey: [UInt8], responseNonce: [UInt8]) throws -> [UInt8] {
        let (key, nonce) = derive(secret: secret, encapsulatedKey: encapsulatedKey, responseNonce: responseNonce)
        let box = try AES.GCM.seal(response, using: key, nonce: try AES.GCM.Nonce(data: nonce), authenticating: [UInt8]())
        var out: [UInt8] = []
        out.reserveCapacity(responseNonce.count + response.count + 16)
        out += responseNonce
        out += box.ciphertext
        out += box.tag
        return out
    }

    static func open(_ encapsulated: [UInt8], secret: [UInt8], encapsulatedKey: [UInt8]) throws -> [UInt8] {
        guard encapsulated.count >= nonceLength + 16 else {
            throw ConfidentialInferenceError(.decryptionFailed, "the encapsulated response is too short")
        }
        let responseNonce = Array(encapsulated[0..<nonceLength])
        let (key, nonce) = derive(secret: secret, encapsulatedKey: encapsulatedKey, responseNonce: responseNonce)
        let body = encapsulated[nonceLength...]
        do {
            let box = try AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: nonce), ciphertext: body.dropLast(16), tag: body.suffix(16))
            return Array(try AES.GCM.open(box, using: key, authenticating: [UInt8]()))
        } catch {
            throw ConfidentialInferenceError(.decryptionFailed, "the encapsulated response does not decrypt")
        }
    }
}
