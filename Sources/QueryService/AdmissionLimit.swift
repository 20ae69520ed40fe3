import Foundation

/// The most `/v1/` requests the service works on at once; one more gets 503 at once instead of a thread of its own.
final class AdmissionLimit: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    /// The most requests admitted at once.
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Admits one request unless `capacity` are in flight.
    func enter() -> Bool {
        lock.withLock {
            guard inFlight < capacity else { return false }
            inFlight += 1
            return true
        }
    }

    /// Ends an admitted request.
    func leave() { lock.withLock { inFlight -= 1 } }
}
