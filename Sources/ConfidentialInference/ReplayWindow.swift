import Foundation

/// Anti-replay for Oblivious HTTP requests (RFC 9458 §6.5): a request's inner `Date` must lie within
/// `window` of the gateway's clock, and its encapsulated key (`enc`, unique per request) must not have
/// been seen within that window. Keys older than the window are forgotten, so memory is bounded by
/// `capacity`; when the window holds `capacity` fresh keys the gateway refuses new requests rather than
/// forget one early (forgetting would let that request be replayed).
public final class ReplayWindow: @unchecked Sendable {
    public enum Verdict: Sendable, Equatable {
        case accepted
        /// Seen before within the window.
        case replayed
        /// No Date, or one outside the window; the answer carries the gateway's time (§6.5.1).
        case stale
        /// The window is full of fresh requests.
        case busy
    }

    public let window: TimeInterval
    public let capacity: Int
    private let lock = NSLock()
    private var seen: [[UInt8]: Date] = [:]
    private var order: [([UInt8], Date)] = []
    private var head = 0

    public init(window: TimeInterval = 60, capacity: Int = 100_000) {
        self.window = window
        self.capacity = capacity
    }

    /// Checks and records a request.
    public func check(encapsulatedKey: [UInt8], date: Date?, now: Date = Date()) -> Verdict {
        guard let date, abs(date.timeIntervalSince(now)) <= window else { return .stale }
        return lock.withLock {
            // Forget keys that fell out of the window (they would be refused as stale anyway).
            while head < order.count, now.timeIntervalSince(order[head].1) > 2 * window {
                seen[order[head].0] = nil
                head += 1
            }
            if head > 4096, head * 2 > order.count { order.removeFirst(head); head = 0 }
            if seen[encapsulatedKey] != nil { return .replayed }
            guard seen.count < capacity else { return .busy }
            seen[encapsulatedKey] = now
            order.append((encapsulatedKey, now))
            return .accepted
        }
    }
}
