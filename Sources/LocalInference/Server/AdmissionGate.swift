import Synchronization

/// A bound on the inference requests a server holds at once (running or waiting for a core): a request
/// that would exceed it is turned away at once (HTTP 503) instead of queueing without limit.
public final class AdmissionGate: Sendable {
    /// The most requests admitted at once.
    public let capacity: Int
    private let admitted = Mutex(0)

    /// A gate admitting at most `capacity` (≥ 1) requests at once.
    public init(capacity: Int) {
        precondition(capacity >= 1, "capacity must be at least 1")
        self.capacity = capacity
    }

    /// Admits one request when fewer than ``capacity`` are in; every `true` must be matched by ``leave()``.
    public func enter() -> Bool {
        admitted.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
    }

    /// Releases one admitted request.
    public func leave() {
        admitted.withLock { count in
            precondition(count > 0, "leave() without enter()")
            count -= 1
        }
    }

    /// The requests admitted now.
    public var current: Int { admitted.withLock { $0 } }
}
