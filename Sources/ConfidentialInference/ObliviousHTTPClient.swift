import Crypto
import Foundation

/// The client side of Oblivious HTTP (RFC 9458 §4.3–4.4): seals a Binary HTTP request to a gateway's key
/// configuration and keeps what it needs to open the one response.
public struct ObliviousRequest: Sendable {
    /// `hdr || enc || ct`, the `message/ohttp-req` body.
    public let encapsulated: [UInt8]
    private let encapsulatedKey: [UInt8]
    private let responseSecret: [UInt8]

    public static let requestMediaType = "message/ohttp-req"
    public static let responseMediaType = "message/ohttp-res"

    /// Seals `request` to `configuration` with a fresh ephemeral key (swift-crypto's HPKE).
    /// - Throws: `invalidInput` when the configuration does not offer Veil's suite.
    public init(request: [UInt8], configuration: OHTTPKeyConfiguration) throws {
        let (header, info, recipient) = try Self.prepare(configuration)
        do {
            var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: .veilSuite, info: Data(info))
            let ciphertext = try sender.seal(request, authenticating: Data())
            encapsulatedKey = Array(sender.encapsulatedKey)
            encapsulated = Self.concatenate(header, encapsulatedKey, ciphertext)
            responseSecret = try sender.exportSecret(context: ObliviousResponseKeys.exportLabel,
                                                 outputByteCount: ObliviousResponseKeys.secretLength).withUnsafeBytes { Array($0) }
        } catch {
            throw ConfidentialInferenceError.invalid("cannot seal the request to the key configuration: \(error)")
        }
    }

    /// Seals `request` to `configuration` with an ephemeral key made ahead of time by `ephemeralKeys` (used for this
    /// request only), which takes the key generation off the request path.
    public init(request: [UInt8], configuration: OHTTPKeyConfiguration, ephemeralKeys: EphemeralKeyPool) throws {
        try self.init(request: request, configuration: configuration, ephemeralKey: ephemeralKeys.take())
    }

    /// Seals with a given ephemeral key: for known-answer tests only (a reused ephemeral key breaks HPKE's
    /// security), hence the name.
    public init(request: [UInt8], configuration: OHTTPKeyConfiguration, fixedEphemeralKeyForTesting ephemeral: Curve25519.KeyAgreement.PrivateKey) throws {
        try self.init(request: request, configuration: configuration, ephemeralKey: ephemeral)
    }

    private init(request: [UInt8], configuration: OHTTPKeyConfiguration, ephemeralKey: Curve25519.KeyAgreement.PrivateKey) throws {
        let (header, info, recipient) = try Self.prepare(configuration)
        let sender = try HPKEBaseModeSender(recipientKey: recipient, info: info, ephemeralKey: ephemeralKey)
        encapsulatedKey = sender.encapsulatedKey
        encapsulated = Self.concatenate(header, encapsulatedKey, try sender.seal(request))
        responseSecret = sender.exportSecret(context: ObliviousResponseKeys.exportLabel, length: ObliviousResponseKeys.secretLength)
    }

    /// `header || enc || ciphertext` in one allocation.
    private static func concatenate<C: Collection<UInt8>>(_ header: [UInt8], _ enc: [UInt8], _ ciphertext: C) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(header.count + enc.count + ciphertext.count)
        out += header
        out += enc
        out += ciphertext
        return out
    }

    private static func prepare(_ configuration: OHTTPKeyConfiguration) throws -> ([UInt8], [UInt8], Curve25519.KeyAgreement.PublicKey) {
        guard configuration.supportsVeilSuite,
              let recipient = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: configuration.publicKey) else {
            throw ConfidentialInferenceError.invalid("the key configuration does not offer DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM")
        }
        let header = configuration.requestHeader
        return (header, OHTTPKeyConfiguration.requestInfo(header: header), recipient)
    }

    /// Opens the gateway's `message/ohttp-res` body.
    /// - Throws: `decryptionFailed` when it does not decrypt.
    public func openResponse(_ encapsulatedResponse: [UInt8]) throws -> [UInt8] {
        try ObliviousResponseKeys.open(encapsulatedResponse, secret: responseSecret, encapsulatedKey: encapsulatedKey)
    }
}

extension HPKE.Ciphersuite {
    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM: the suite of RFC 9458's example and of Veil's gateway.
    static var veilSuite: HPKE.Ciphersuite { HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .AES_GCM_128) }
}
