import Mechanisms
import Testing
import _TestSupport
@testable import SecureAggregation

/// The relay a polling transport (`veil federated serve`) drives: clients send whenever they are ready and fetch each
/// step's message; the unmasked sum is exactly the plain sum of the clients whose masked inputs arrived.
@Suite("SecAgg+ relay")
struct SecAggRelayTests {
    /// One round over the relay with the messages of every party in their binary encoding; `leaveAfter[i]` is the
    /// last step (1: keys, 2: shares, 3: masked input) client i sends.
    static func run(_ configuration: SecAggConfiguration, inputs: [[UInt64]], leaveAfter: [UInt32: Int],
                    seed: UInt64) throws -> SecAggRelay {
        var source = InsecureSeededRandomSource(seed: seed)
        var relay = SecAggRelay(server: try SecAggServer(configuration: configuration, using: &source))
        let width = configuration.bytesPerElement
        var clients = try (0..<UInt32(configuration.clientCount)).map {
            try SecAggClient(index: $0, configuration: configuration, roundID: relay.server.roundID, using: &source)
        }
        func send(_ message: SecAggMessage, from client: UInt32) throws {
            try relay.receive(bytes: message.encoded(bytesPerElement: width), from: client)
        }
        func fetch(_ client: UInt32, step: Int) throws -> SecAggMessage? {
            guard case .message(let bytes) = relay.message(for: client, step: step) else { return nil }
            return try SecAggMessage(decoding: bytes)
        }
        let all = (0..<UInt32(configuration.clientCount))
        // Before a step begins its message is not there yet: clients wait.
        #expect(relay.message(for: 0, step: 1) == .wait)
        for c in all.reversed() { try send(.advertiseKeys(clients[Int(c)].advertiseKeys()), from: c) }
        #expect(relay.stepComplete)
        try relay.closeStep()
        for c in all where leaveAfter[c].map({ $0 >= 2 }) ?? true {
            guard case .keyDirectory(let d) = try fetch(c, step: 1) else { Issue.record("no directory for \(c)"); continue }
            try send(.shareKeys(try clients[Int(c)].shareKeys(d, using: &source)), from: c)
        }
        #expect(relay.stepComplete == leaveAfter.values.allSatisfy { $0 >= 2 })
        try relay.closeStep()
        // A step that went on is gone for everyone: a late client cannot fetch an earlier step's message.
        #expect(relay.message(for: 0, step: 1) == .gone)
        for c in all where leaveAfter[c].map({ $0 >= 3 }) ?? true {
            guard case .encryptedShares(let s) = try fetch(c, step: 2) else { Issue.record("no shares for \(c)"); continue }
            try send(.maskedInput(try clients[Int(c)].maskedInput(s, input: inputs[Int(c)])), from: c)
        }
        try relay.closeStep()
        for c in all where leaveAfter[c] == nil {
            guard case .unmaskingRequest(let r) = try fetch(c, step: 3) else { Issue.record("no request for \(c)"); continue }
            try send(.unmaskingResponse(try clients[Int(c)].unmask(r)), from: c)
        }
        for c in all where leaveAfter[c] != nil && leaveAfter[c]! < 3 {
            // A client that left before its masked input gets no unmasking request.
            #expect(relay.message(for: c, step: 3) == .gone)
        }
        // The step waits (until its deadline) for the clients that left after their masked input.
        let complete = relay.stepComplete
        #expect(complete == !leaveAfter.values.contains(3))
        try relay.closeStep()
        return relay
    }

    @Test("20 clients, 6 leaving after their shares or their masked input: the sum is exactly the survivors' plain sum")
    func exactSumWithDropouts() throws {
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 20, vectorLength: 33, bitWidth: 32)
        let inputs = SecAggProtocolTests.randomInputs(configuration, seed: 41)
        let leaveAfter: [UInt32: Int] = [0: 2, 3: 2, 9: 2, 4: 3, 11: 3, 19: 3]
        let relay = try Self.run(configuration, inputs: inputs, leaveAfter: leaveAfter, seed: 42)
        let included = Set(0..<UInt32(20)).subtracting([0, 3, 9])
        #expect(relay.server.maskedInputClients == included)
        #expect(relay.step == .finished)
        #expect(relay.sum == SecAggProtocolTests.plainSum(inputs, of: included, bitWidth: 32))
        #expect(relay.server.refusals.isEmpty)
    }

    @Test("a step below the minimum of survivors aborts: nothing is released and every client is told the round is gone")
    func belowMinimumAborts() throws {
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 8, vectorLength: 5, bitWidth: 24,
                                                               minimumSurvivorFraction: 0.75)
        var source = InsecureSeededRandomSource(seed: 7)
        var relay = SecAggRelay(server: try SecAggServer(configuration: configuration, using: &source))
        for c in 0..<UInt32(5) {
            let client = try SecAggClient(index: c, configuration: configuration, roundID: relay.server.roundID, using: &source)
            try relay.receive(bytes: SecAggMessage.advertiseKeys(client.advertiseKeys()).encoded(), from: c)
        }
        #expect(!relay.stepComplete)
        #expect(throws: VeilError.self) { try relay.closeStep() }
        #expect(relay.abortReason != nil && relay.sum == nil)
        #expect(relay.message(for: 0, step: 1) == .gone)
        #expect { try relay.closeStep() } throws: { ($0 as? VeilError)?.code == .roundAborted }
        #expect { try relay.receive(bytes: [], from: 1) } throws: { ($0 as? VeilError)?.code == .roundAborted }
    }
}
