import Crypto
import Foundation

/// The gateway side of Oblivious HTTP (RFC 9458 §4.3–4.4, §5): holds the current and the previous HPKE
/// key (rotation keeps the old key for a grace period, until clients have fetched the new configuration),
/// opens encapsulated requests and seals their responses. A request for a key past its grace period is
/// refused like any unknown key (422, §5.3), which tells the client to fetch the new configuration.
///
/// A request that cannot be opened is answered without revealing why beyond the RFC's two cases: an
/// unknown key identifier or suite (`keyConfigurationMismatch`: 422 with the `ohttp-key` problem type,
/// §5.3) and anything else (`undecryptable`: 400). Nothing about the plaintext is learnt or logged.
public final class ObliviousHTTPGateway: @unchecked Sendable {
    public struct Key: Sendable {
        public let configuration: OHTTPKeyConfiguration
        private let stored: StoredPrivateKey

        public init(keyID: UInt8, privateKey: Curve25519.KeyAgreement.PrivateKey) {
            configuration = OHTTPKeyConfiguration(keyID: keyID, publicKey: privateKey.publicKey)
            stored = StoredPrivateKey(key: privateKey)
        }

        /// The private key (to open requests, and to seal it for persistence). Kept as the key object it was made
        /// from: rebuilding it from its raw bytes, as an earlier version did per request, recomputes its public key,
        /// an X25519 scalar multiplication that cost as much as the request's own key agreement.
        public var privateKey: Curve25519.KeyAgreement.PrivateKey { stored.key }
    }

    /// A swift-crypto private key shared between threads. swift-crypto does not declare its keys `Sendable`, but a
    /// key is an immutable value (its bytes are written once, when it is made), so reading it from several
    /// threads at once is safe.
    private struct StoredPrivateKey: @unchecked Sendable {
        let key: Curve25519.KeyAgreement.PrivateKey
    }

    /// What the gateway needs to seal the response to one request.
    public struct ResponseContext: Sendable {
        let encapsulatedKey: [UInt8]
        let secret: [UInt8]

        /// Seals `response` (`response_nonce || ct`), with a fresh random response nonce from the operating
        /// system's generator, eight bytes per call (one system call each, not one per byte).
        public func seal(_ response: [UInt8]) throws -> [UInt8] {
            var nonce: [UInt8] = []
            nonce.reserveCapacity(ObliviousResponseKeys.nonceLength + 8)
            var generator = SystemRandomNumberGenerator()
            while nonce.count < ObliviousResponseKeys.nonceLength {
                withUnsafeBytes(of: generator.next() as UInt64) { nonce += $0 }
            }
            return try seal(response, responseNonce: Array(nonce.prefix(ObliviousResponseKeys.nonceLength)))
        }

        /// Seals with a given nonce: for known-answer tests.
        public func seal(_ response: [UInt8], responseNonce: [UInt8]) throws -> [UInt8] {
            try ObliviousResponseKeys.seal(response, secret: secret, encapsulatedKey: encapsulatedKey, responseNonce: responseNonce)
        }
    }

    /// Why an encapsulated request was refused, as RFC 9458 says to answer it.
    public enum Refusal: Error, Sendable, Equatable {
        /// Unknown key identifier or unsupported suite: 422, problem type `ohttp-key` (§5.3).
        case keyConfigurationMismatch
        /// Malformed or failing decryption: 400 (§5.2).
        case undecryptable

        public var status: Int { self == .keyConfigurationMismatch ? 422 : 400 }

        /// The `application/problem+json` body for the key mismatch (RFC 9457, RFC 9458 §5.3); empty otherwise.
        public var body: [UInt8] {
            guard self == .keyConfigurationMismatch else { return [] }
            return Array(#"{"type":"https://iana.org/assignments/http-problem-types#ohttp-key","title":"key identification or encryption algorithm not supported"}"#.utf8)
        }
    }

    private let lock = NSLock()
    private var current: Key
    private var previous: Key?
    /// When the previous key stops being accepted and published (`nil`: at the next rotation).
    private var previousExpiry: Date?

    public init(current: Key, previous: Key? = nil) {
        self.current = current
        self.previous = previous
    }

    /// A gateway with a fresh key (identifier 1).
    public convenience init() {
        self.init(current: Key(keyID: 1, privateKey: Curve25519.KeyAgreement.PrivateKey()))
    }

    /// The configurations to publish, current first.
    public var configurations: [OHTTPKeyConfiguration] { configurations(at: Date()) }

    /// The configurations accepted at `time`, current first: the previous key only within its grace period.
    public func configurations(at time: Date) -> [OHTTPKeyConfiguration] {
        lock.withLock { [current.configuration] + (acceptedPrevious(at: time).map { [$0.configuration] } ?? []) }
    }

    /// The current private key (to seal it for persistence).
    public var currentKey: Key { lock.withLock { current } }

    /// Makes `next` current and keeps the current key as the previous one, accepted for `grace` seconds from `time`
    /// (`nil`: until the next rotation); the key before that is dropped.
    public func rotate(to next: Key, keepingPreviousFor grace: TimeInterval? = nil, at time: Date = Date()) {
        lock.withLock {
            previous = current
            previousExpiry = grace.map { time.addingTimeInterval($0) }
            current = next
        }
    }

    /// A fresh key whose identifier follows the current one's (wrapping after 255), for ``rotate(to:keepingPreviousFor:at:)``.
    public func nextKey() -> Key {
        Key(keyID: lock.withLock { current.configuration.keyID &+ 1 }, privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// The previous key if it is still within its grace period at `time`; call with the lock held.
    private func acceptedPrevious(at time: Date) -> Key? {
        guard let previous else { return nil }
        if let previousExpiry, time >= previousExpiry { return nil }
        return previous
    }

    /// Opens an encapsulated request received at `time`.
    /// - Returns: the Binary HTTP request bytes, the encapsulated key (for replay checks) and the context to
    ///   seal the response.
    /// - Throws: ``Refusal``.
    public func open(_ encapsulated: [UInt8], at time: Date = Date()) throws -> (request: [UInt8], encapsulatedKey: [UInt8], response: ResponseContext) {
        guard encapsulated.count >= 7 else { throw Refusal.undecryptable }
        let header = Array(encapsulated[0..<7])
        let key = lock.withLock {
            current.configuration.keyID == header[0] ? current : acceptedPrevious(at: time).flatMap { $0.configuration.keyID == header[0] ? $0 : nil }
        }
        guard let key, header == key.configuration.requestHeader else {
            throw Refusal.keyConfigurationMismatch
        }
        guard encapsulated.count >= 7 + 32 + 16 else { throw Refusal.undecryptable }
        let enc = Array(encapsulated[7..<39])
        do {
            var recipient = try HPKE.Recipient(privateKey: key.privateKey, ciphersuite: .veilSuite,
                                               info: Data(OHTTPKeyConfiguration.requestInfo(header: header)), encapsulatedKey: Data(enc))
            let request = try recipient.open(encapsulated[39...], authenticating: Data())
            let secret = try recipient.exportSecret(context: ObliviousResponseKeys.exportLabel,
                                                    outputByteCount: ObliviousResponseKeys.secretLength).withUnsafeBytes { Array($0) }
            return (Array(request), enc, ResponseContext(encapsulatedKey: enc, secret: secret))
        } catch {
            throw Refusal.undecryptable
        }
    }
}
