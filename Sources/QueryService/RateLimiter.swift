import Foundation

/// Per-account request limits: a token bucket of `perMinute` requests per account, refilled continuously.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private let capacity: Double
    private let refillPerSecond: Double
    private var buckets: [String: (tokens: Double, updated: ContinuousClock.Instant)] = [:]

    init(perMinute: Int) {
        capacity = Double(perMinute)
        refillPerSecond = Double(perMinute) / 60
    }

    /// Takes one request from `account`'s bucket; false when it is empty.
    func admit(_ account: String, now: ContinuousClock.Instant = .now) -> Bool {
        lock.withLock {
            var bucket = buckets[account] ?? (capacity, now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(capacity, bucket.tokens + seconds * refillPerSecond)
            bucket.updated = now
            let admitted = bucket.tokens >= 1
            if admitted { bucket.tokens -= 1 }
            buckets[account] = bucket
            return admitted
        }
    }
}
