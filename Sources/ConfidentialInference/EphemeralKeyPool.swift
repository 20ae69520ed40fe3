import Crypto
import Foundation

/// Client ephemeral X25519 keys made ahead of time, off the request path. HPKE's Encap (RFC 9180 §4.1) draws a
/// fresh key pair per message; drawing it (random bytes and a fixed-base scalar multiplication) does not depend on
/// the request, so a long-lived client can do it before the request exists. Each key is handed out once and
/// removed from the pool: a key is never used twice (reusing one would let the two requests' key schedules
/// coincide). When the pool runs low it is refilled on a background queue; when it is empty a key is made on the spot.
public final class EphemeralKeyPool: @unchecked Sendable {
    /// A swift-crypto key held across threads: an immutable value once made (see ``ObliviousHTTPGateway``'s keys).
    private struct StoredKey: @unchecked Sendable { let key: Curve25519.KeyAgreement.PrivateKey }

    public let size: Int
    private let lock = NSLock()
    private var keys: [StoredKey] = []
    private var refilling = false
    private let queue = DispatchQueue(label: "veil.ohttp.ephemeral-keys", qos: .utility)

    /// A pool that keeps up to `size` keys ready (filled in the background from now on).
    public init(size: Int = 32) {
        self.size = max(1, size)
        scheduleRefill()
    }

    /// How many keys are ready.
    public var ready: Int { lock.withLock { keys.count } }

    /// A key no one else has been or will be given.
    public func take() -> Curve25519.KeyAgreement.PrivateKey {
        let key = lock.withLock { keys.popLast()?.key }
        scheduleRefill()
        return key ?? Curve25519.KeyAgreement.PrivateKey()
    }

    /// Starts a refill when the pool is below half full and none is running.
    private func scheduleRefill() {
        let start = lock.withLock {
            guard !refilling, keys.count < (size + 1) / 2 else { return false }
            refilling = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            while true {
                let made = StoredKey(key: Curve25519.KeyAgreement.PrivateKey())
                let full = lock.withLock {
                    keys.append(made)
                    if keys.count >= size { refilling = false }
                    return keys.count >= size
                }
                if full { return }
            }
        }
    }
}
