import Foundation
import Mechanisms

/// The server's view of the current round, shared by the HTTP handlers and the round loop: which round is
/// open, which clients were sampled for it, the model they train from, and the updates received. Every refusal
/// leaves the round open for the other clients.
public actor RoundCoordinator {
    /// What a client's request for work gets.
    public enum Task: Sendable {
        /// Train on this round's model (safetensors body).
        case train(round: Int, model: Data)
        /// Nothing for this client now; ask again later.
        case wait
        /// The run is over.
        case finished
    }

    /// Why an update was refused (HTTP status and a one-line reason).
    public struct Refusal: Error, Sendable {
        public var status: Int
        public var reason: String
    }

    private var round = 0
    private var open = false
    private var finished = false
    private var sampled: Set<String> = []
    private var model = Data()
    private var received: [String: [Float]] = [:]
    private var fetched: Set<String> = []
    /// Refusals so far, by kind (for the operator's log; a fixed set of keys, none derived from update content).
    public private(set) var refusals: [String: Int] = [:]

    public init() {}

    /// Opens `round` for the `clients` sampled, who train from `model`.
    public func open(round: Int, clients: Set<String>, model: Data) {
        self.round = round
        sampled = clients
        self.model = model
        received = [:]
        fetched = []
        open = true
    }

    /// Closes the open round and returns the updates received (by client id).
    public func close() -> [String: [Float]] {
        open = false
        return received
    }

    /// Marks the run finished: clients are told to stop.
    public func finish() {
        open = false
        finished = true
    }

    /// Whether every sampled client has sent its update.
    public var complete: Bool { received.count == sampled.count }

    /// The task for `client`.
    public func task(for client: String) -> Task {
        if finished { return .finished }
        guard open, sampled.contains(client), received[client] == nil else { return .wait }
        fetched.insert(client)
        return .train(round: round, model: model)
    }

    /// Takes `client`'s update for `round`, decoded by `decode` (which throws on a malformed, wrong-shape or
    /// non-finite body).
    ///
    /// A body `decode` refuses still counts as the client's update, an empty one that the round takes as zero (as a
    /// simulated client's non-finite update is clipped to zero, docs/design.md §2): the client is told (422), but
    /// whether an update was usable, which can depend on the client's data (a NaN), shows in none of the server's
    /// counts of clients reached, dropped or refused. Only protocol faults are counted, by a fixed set of kinds.
    /// - Throws: ``Refusal`` for a round that is not open (late, replayed), a client not sampled, a duplicate, or a
    ///   body `decode` refuses (kept as a zero update).
    public func submit(client: String, round: Int, decode: () throws -> [Float]) throws {
        func refuse(_ status: Int, kind: String, _ reason: String) -> Refusal {
            refusals[kind, default: 0] += 1
            return Refusal(status: status, reason: reason)
        }
        guard open, round == self.round else {
            throw refuse(409, kind: "late or replayed", "round \(round) is not open (a late or replayed update)")
        }
        guard sampled.contains(client) else {
            throw refuse(403, kind: "not sampled", "client not sampled for round \(round)")
        }
        guard received[client] == nil else {
            throw refuse(409, kind: "duplicate", "duplicate update for round \(round)")
        }
        do {
            received[client] = try decode()
        } catch {
            received[client] = []
            let reason = (error as? VeilError)?.message ?? "malformed update"
            throw Refusal(status: 422, reason: reason + "; it counts as a zero update")
        }
    }
}
