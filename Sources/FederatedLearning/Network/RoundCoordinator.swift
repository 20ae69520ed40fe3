import Foundation
import Mechanisms
import SecureAggregation

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
    /// The SecAgg+ round being relayed (secure aggregation), with each sampled client's index in it.
    private var relay: SecAggRelay?
    private var indices: [String: UInt32] = [:]
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
        relay = nil
        indices = [:]
        open = true
    }

    /// Opens `round` of secure aggregation for the sampled `clients`, client `clients[i]` being SecAgg+ client `i` of
    /// `relay`; they train from `model`, which carries the round's ``SecureRoundDescription``. No update reaches the
    /// server: the clients send SecAgg+ messages (``receiveSecure(client:round:bytes:)``) and fetch the server's
    /// (``secureMessage(client:round:step:)``) while the round loop closes the steps.
    public func open(round: Int, clients: [String], model: Data, relay: SecAggRelay) {
        open(round: round, clients: Set(clients), model: model)
        self.relay = relay
        indices = Dictionary(uniqueKeysWithValues: clients.enumerated().map { ($1, UInt32($0)) })
    }

    /// `client`'s index in the open round of secure aggregation, nil for a plain round or a client not sampled.
    public func secureIndex(for client: String) -> UInt32? { relay == nil ? nil : indices[client] }

    /// Takes one SecAgg+ message of `client` for `round`.
    /// - Throws: ``Refusal``: 409 for a round that is not open (late or replayed) or a duplicate, 403 for a client not
    ///   sampled, 422 for a message the protocol refuses (with its reason; the round goes on), 410 once the round
    ///   aborted.
    public func receiveSecure(client: String, round: Int, bytes: [UInt8]) throws {
        func refuse(_ status: Int, kind: String, _ reason: String) -> Refusal {
            refusals[kind, default: 0] += 1
            return Refusal(status: status, reason: reason)
        }
        guard open, round == self.round, relay != nil else {
            throw refuse(409, kind: "late or replayed", "round \(round) is not an open round of secure aggregation")
        }
        guard let index = indices[client] else { throw refuse(403, kind: "not sampled", "client not sampled for round \(round)") }
        do {
            try relay!.receive(bytes: bytes, from: index)
        } catch let error as VeilError where error.code == .roundAborted {
            throw Refusal(status: 410, reason: "the round was aborted")
        } catch let error as VeilError {
            // A protocol message carries no client data in the clear: its faults are protocol faults, counted by kind.
            if error.message.contains("twice") { throw refuse(409, kind: "duplicate", error.message) }
            throw refuse(422, kind: "refused protocol message", error.message)
        }
    }

    /// The server's message of `step` (1: key directory, 2: encrypted shares, 3: unmasking request) for `client`.
    public func secureMessage(client: String, round: Int, step: Int) -> SecAggRelay.Delivery {
        guard round == self.round, let relay, let index = indices[client] else { return .gone }
        return relay.message(for: index, step: step)
    }

    /// Whether every client the current step of secure aggregation waits for has answered.
    public var secureStepComplete: Bool { relay?.stepComplete ?? true }

    /// Closes the current step of secure aggregation and returns the step the round is now at.
    /// - Throws: `round_aborted` (nothing released).
    public func closeSecureStep() throws -> SecAggRelay.Step {
        guard relay != nil else { throw VeilError(.invalidParameter, "no round of secure aggregation is open") }
        try relay!.closeStep()
        return relay!.step
    }

    /// The unmasked sum of the finished round of secure aggregation and how many clients' inputs it holds.
    public var secureResult: (sum: [UInt64], included: Int)? {
        guard let relay, let sum = relay.sum else { return nil }
        return (sum, relay.server.maskedInputClients.count)
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
        // A client of secure aggregation gets the model once, while keys are being advertised.
        if let relay, fetched.contains(client) || relay.step != .advertising { return .wait }
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
