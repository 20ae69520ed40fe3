import Foundation
import Mechanisms

/// Runs a whole SecAgg+ round in one process: every client and the server exchange the binary
/// encoding of their messages, exactly as over a network but without sockets. For experiments,
/// tests and benchmarks; a network server drives ``SecAggServer`` and ``SecAggClient`` the same way.
public enum SecAggSimulation {
    /// When a client stops answering.
    public enum Dropout: Sendable, Hashable {
        /// Advertises keys, then sends nothing (not in U2).
        case beforeSharing
        /// Sends shares, then no masked input: its masking key is reconstructed to remove its pairwise masks.
        case beforeMaskedInput
        /// Sends its masked input (it is in the sum), then does not answer the unmasking request.
        case afterMaskedInput
    }

    /// What a round produced and cost.
    public struct Outcome: Sendable {
        /// Σ of the surviving clients' inputs modulo 2^b.
        public let sum: [UInt64]
        /// The clients whose inputs are in the sum (U3).
        public let included: Set<UInt32>
        /// Bytes each client sent, on average over the clients that sent anything.
        public let meanClientBytesSent: Double
        /// Bytes the server sent in all.
        public let serverBytesSent: Int
        /// Seconds spent in the clients' steps, summed over clients.
        public let clientSeconds: Double
        /// Seconds spent in the server's steps (receiving, closing steps, unmasking).
        public let serverSeconds: Double
        /// Messages the server refused.
        public let refusals: [SecAggServer.Refusal]
    }

    /// Runs one round of `configuration` on `inputs` (one vector per client), with `dropouts`.
    ///
    /// - Throws: `round_aborted` when the round falls below its thresholds (nothing is released);
    ///   `invalid_parameter` for inputs of the wrong count, length or range.
    public static func run<R: RandomSource>(
        configuration: SecAggConfiguration, inputs: [[UInt64]], dropouts: [UInt32: Dropout] = [:],
        using source: inout R
    ) throws -> Outcome {
        guard inputs.count == configuration.clientCount else {
            throw VeilError.invalidParameter("input count", inputs.count, allowed: "\(configuration.clientCount), one per client")
        }
        let width = configuration.bytesPerElement
        let clock = ContinuousClock()
        var clientTime = Duration.zero, serverTime = Duration.zero
        var clientBytes = [Int](repeating: 0, count: configuration.clientCount)
        var serverBytes = 0

        var server = try SecAggServer(configuration: configuration, using: &source)
        var clients: [UInt32: SecAggClient] = [:]

        func deliver(_ message: SecAggMessage, from client: UInt32, server: inout SecAggServer) throws {
            let bytes = message.encoded(bytesPerElement: width)
            clientBytes[Int(client)] += bytes.count
            let start = clock.now
            defer { serverTime += clock.now - start }
            // A refusal is recorded by the server and does not stop the round.
            do { try server.receive(bytes: bytes, from: client) } catch let e as VeilError where e.code == .messageRefused {}
        }
        func send(_ message: SecAggMessage) -> SecAggMessage {
            let bytes = message.encoded(bytesPerElement: width)
            serverBytes += bytes.count
            return try! SecAggMessage(decoding: bytes)
        }

        for index in 0..<UInt32(configuration.clientCount) {
            let start = clock.now
            let client = try SecAggClient(index: index, configuration: configuration, roundID: server.roundID, using: &source)
            let message = client.advertiseKeys()
            clientTime += clock.now - start
            clients[index] = client
            try deliver(.advertiseKeys(message), from: index, server: &server)
        }
        var start = clock.now
        let directories = try server.closeAdvertising()
        serverTime += clock.now - start
        for directory in directories {
            guard case .keyDirectory(let d) = send(.keyDirectory(directory)), dropouts[d.recipient] != .beforeSharing else { continue }
            let begin = clock.now
            guard let reply = try? clients[d.recipient]!.shareKeys(d, using: &source) else { continue }
            clientTime += clock.now - begin
            try deliver(.shareKeys(reply), from: d.recipient, server: &server)
        }
        start = clock.now
        let forwarded = try server.closeSharing()
        serverTime += clock.now - start
        for shares in forwarded {
            guard case .encryptedShares(let s) = send(.encryptedShares(shares)), dropouts[s.recipient] != .beforeMaskedInput else { continue }
            let begin = clock.now
            guard let reply = try? clients[s.recipient]!.maskedInput(s, input: inputs[Int(s.recipient)]) else { continue }
            clientTime += clock.now - begin
            try deliver(.maskedInput(reply), from: s.recipient, server: &server)
        }
        start = clock.now
        let requests = try server.closeMasking()
        serverTime += clock.now - start
        for request in requests {
            guard case .unmaskingRequest(let r) = send(.unmaskingRequest(request)), dropouts[r.recipient] != .afterMaskedInput else { continue }
            let begin = clock.now
            guard let reply = try? clients[r.recipient]!.unmask(r) else { continue }
            clientTime += clock.now - begin
            try deliver(.unmaskingResponse(reply), from: r.recipient, server: &server)
        }
        start = clock.now
        let sum = try server.finish()
        serverTime += clock.now - start
        let senders = clientBytes.filter { $0 > 0 }
        return Outcome(sum: sum, included: server.maskedInputClients,
                       meanClientBytesSent: senders.isEmpty ? 0 : Double(senders.reduce(0, +)) / Double(senders.count),
                       serverBytesSent: serverBytes, clientSeconds: clientTime.seconds, serverSeconds: serverTime.seconds,
                       refusals: server.refusals)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
