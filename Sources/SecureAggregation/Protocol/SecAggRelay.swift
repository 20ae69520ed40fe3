import Mechanisms

/// The server's side of a SecAgg+ round for a transport on which clients send messages whenever they are ready and
/// fetch the server's answer for a step when it exists (HTTP polling): it drives ``SecAggServer`` step by step,
/// keeps each client's encoded server-to-client message of the current step, and knows which clients the step
/// still waits for. It adds no protocol of its own: every message goes through the server's checks, and every
/// step ends with the server's `close…`/`finish`, as ``SecAggSimulation`` drives them in one process.
///
/// Steps, and the message a client fetches in each (``message(for:step:)``):
/// 0 advertising (none) → 1 sharing (``KeyDirectory``) → 2 masking (``EncryptedShares``) →
/// 3 unmasking (``UnmaskingRequest``) → 4 finished, with the sum in ``sum``.
public struct SecAggRelay: Sendable {
    /// A step of the round, numbered as clients fetch them.
    public enum Step: Int, Sendable, Comparable {
        case advertising = 0, sharing, masking, unmasking, finished
        public static func < (a: Step, b: Step) -> Bool { a.rawValue < b.rawValue }
    }

    /// What a client fetching its message of a step gets.
    public enum Delivery: Sendable, Equatable {
        /// The encoded message.
        case message([UInt8])
        /// The step has not begun: ask again later.
        case wait
        /// The round aborted, or the step began without this client (it missed an earlier step or this one's
        /// message), or is over: it has no further part in the round.
        case gone
    }

    /// The state machine being driven.
    public private(set) var server: SecAggServer
    /// The current step.
    public private(set) var step = Step.advertising
    /// Why the round aborted (nothing is released), nil while it runs or once it finished.
    public private(set) var abortReason: String?
    /// Σ inputs mod 2^b once the round finished.
    public private(set) var sum: [UInt64]?
    private var expected: Set<UInt32>
    private var outbox: [UInt32: [UInt8]] = [:]

    public init(server: SecAggServer) {
        self.server = server
        expected = Set(0..<UInt32(server.configuration.clientCount))
    }

    /// Hands one encoded message of `sender` to the server.
    /// - Throws: `message_refused` with the reason (the round goes on); `round_aborted` once the round aborted.
    public mutating func receive(bytes: [UInt8], from sender: UInt32) throws {
        if let abortReason { throw VeilError(.roundAborted, abortReason) }
        try server.receive(bytes: bytes, from: sender)
    }

    /// Whether every client the current step waits for has answered (the step can close before its deadline).
    public var stepComplete: Bool {
        let answered: Set<UInt32>
        switch step {
        case .advertising: answered = server.advertisedClients
        case .sharing: answered = server.sharingClients
        case .masking: answered = server.maskedInputClients
        case .unmasking: answered = server.unmaskingClients
        case .finished: return true
        }
        return expected.isSubset(of: answered)
    }

    /// Ends the current step (everyone answered or its deadline passed) and prepares the next step's messages.
    /// - Throws: `round_aborted` when too few clients are left or a secret cannot be rebuilt: nothing is released
    ///   and every later call throws too.
    public mutating func closeStep() throws {
        if let abortReason { throw VeilError(.roundAborted, abortReason) }
        let width = server.configuration.bytesPerElement
        do {
            var next: [UInt32: [UInt8]] = [:]
            switch step {
            case .advertising:
                for m in try server.closeAdvertising() { next[m.recipient] = SecAggMessage.keyDirectory(m).encoded(bytesPerElement: width) }
            case .sharing:
                for m in try server.closeSharing() { next[m.recipient] = SecAggMessage.encryptedShares(m).encoded(bytesPerElement: width) }
            case .masking:
                for m in try server.closeMasking() { next[m.recipient] = SecAggMessage.unmaskingRequest(m).encoded(bytesPerElement: width) }
            case .unmasking:
                sum = try server.finish()
            case .finished:
                return
            }
            outbox = next
            expected = Set(next.keys)
            step = Step(rawValue: step.rawValue + 1)!
        } catch let error as VeilError where error.code == .roundAborted {
            abortReason = error.message
            outbox = [:]
            throw error
        }
    }

    /// The message of step `requested` (1 ... 3) for `client`.
    public func message(for client: UInt32, step requested: Int) -> Delivery {
        guard abortReason == nil, (1...3).contains(requested), requested >= step.rawValue else { return .gone }
        guard requested == step.rawValue else { return .wait }
        return outbox[client].map { .message($0) } ?? .gone
    }
}
