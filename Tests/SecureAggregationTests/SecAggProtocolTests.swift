import Mechanisms
import Testing
import _TestSupport
@testable import SecureAggregation

/// End-to-end SecAgg+ rounds in one process: the server's output is the plain sum modulo 2^b of the
/// inputs it counted, with and without dropouts; rounds below threshold release nothing.
@Suite("SecAgg+ protocol")
struct SecAggProtocolTests {
    static func randomInputs(_ configuration: SecAggConfiguration, seed: UInt64) -> [[UInt64]] {
        var source = InsecureSeededRandomSource(seed: seed)
        let bits = configuration.modulus.bits
        return (0..<configuration.clientCount).map { _ in
            (0..<configuration.vectorLength).map { _ in source.next() & bits }
        }
    }

    /// The plain sum modulo 2^b, computed independently of the protocol.
    static func plainSum(_ inputs: [[UInt64]], of clients: Set<UInt32>, bitWidth: Int) -> [UInt64] {
        let modulus = bitWidth == 64 ? UInt128(1) << 64 : UInt128(1) << UInt128(bitWidth)
        return (0..<inputs[0].count).map { i in
            UInt64(clients.reduce(UInt128(0)) { ($0 + UInt128(inputs[Int($1)][i])) % modulus })
        }
    }

    /// `count` distinct clients chosen from `source`, split evenly between dropping before and after
    /// sending the masked input.
    static func dropouts(count: Int, of n: Int, seed: UInt64) -> [UInt32: SecAggSimulation.Dropout] {
        var source = InsecureSeededRandomSource(seed: seed)
        var clients = Array(0..<UInt32(n))
        clients.shuffle(using: &source)
        var result: [UInt32: SecAggSimulation.Dropout] = [:]
        for (k, client) in clients.prefix(count).enumerated() {
            result[client] = k % 2 == 0 ? .beforeMaskedInput : .afterMaskedInput
        }
        return result
    }

    @Test("Masks cancel exactly with 0%, 10% and 30% dropouts, before and after the masked input",
          arguments: [
            // (clients, neighbours (0: SecAgg+ default), bit width, dropped, seed)
            (60, 0, 32, 0, UInt64(11)),
            (100, 0, 20, 10, 12),
            (40, 39, 64, 12, 13),          // complete graph: Bonawitz et al. 2017
            (50, 0, 16, 5, 14),
          ])
    func masksCancel(clients: Int, neighbours: Int, bitWidth: Int, dropped: Int, seed: UInt64) throws {
        let configuration = neighbours == 0
            ? try SecAggConfiguration.secAggPlus(clientCount: clients, vectorLength: 16, bitWidth: bitWidth)
            : try SecAggConfiguration(clientCount: clients, vectorLength: 16, bitWidth: bitWidth, neighbours: neighbours,
                                      threshold: (neighbours + 1) / 2 + 1,
                                      minimumSurvivors: max((neighbours + 1) / 2 + 1, clients / 2))
        let inputs = Self.randomInputs(configuration, seed: seed)
        let drops = Self.dropouts(count: dropped, of: clients, seed: seed)
        var source = InsecureSeededRandomSource(seed: seed + 100)
        let outcome = try SecAggSimulation.run(configuration: configuration, inputs: inputs, dropouts: drops, using: &source)
        let expectedIncluded = Set((0..<UInt32(clients)).filter { drops[$0] != .beforeMaskedInput })
        #expect(outcome.included == expectedIncluded)
        #expect(outcome.sum == Self.plainSum(inputs, of: expectedIncluded, bitWidth: bitWidth))
        #expect(outcome.refusals.isEmpty)
        if dropped > 0 {
            // The same inputs without unmasking one dropped client's keys would not sum correctly:
            // the recovery really removed masks.
            #expect(expectedIncluded.count < clients)
        }
    }

    @Test("Clients that drop before sharing keys are left out of every mask")
    func dropBeforeSharing() throws {
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 30, vectorLength: 8, bitWidth: 24)
        let inputs = Self.randomInputs(configuration, seed: 21)
        let drops: [UInt32: SecAggSimulation.Dropout] = [3: .beforeSharing, 17: .beforeSharing, 9: .beforeMaskedInput, 25: .afterMaskedInput]
        var source = InsecureSeededRandomSource(seed: 22)
        let outcome = try SecAggSimulation.run(configuration: configuration, inputs: inputs, dropouts: drops, using: &source)
        let included = Set((0..<UInt32(30)).filter { ![3, 17, 9].contains($0) })
        #expect(outcome.sum == Self.plainSum(inputs, of: included, bitWidth: 24))
    }

    @Test("A single masked input is uniform modulo 2^8 (chi-squared, false-failure probability 1e-4)")
    func maskedInputIsUniform() throws {
        // One client's masked vector of a constant, far-from-uniform input: 65,536 values in 256 cells.
        // For a uniform mask the p-value is uniform, so the test fails a correct implementation with
        // probability 1e-4 over the seed (fixed here).
        let configuration = try SecAggConfiguration(clientCount: 3, vectorLength: 65_536, bitWidth: 8, neighbours: 2,
                                                    threshold: 2, minimumSurvivors: 2)
        var source = InsecureSeededRandomSource(seed: 31)
        var server = try SecAggServer(configuration: configuration, using: &source)
        var clients = try (0..<UInt32(3)).map {
            try SecAggClient(index: $0, configuration: configuration, roundID: server.roundID, using: &source)
        }
        for c in clients { try server.receive(.advertiseKeys(c.advertiseKeys()), from: c.index) }
        for d in try server.closeAdvertising() {
            try server.receive(.shareKeys(try clients[Int(d.recipient)].shareKeys(d, using: &source)), from: d.recipient)
        }
        let forwarded = try server.closeSharing()
        let input = [UInt64](repeating: 7, count: configuration.vectorLength)
        let masked = try clients[0].maskedInput(forwarded[0], input: input)
        var counts = [Int](repeating: 0, count: 256)
        for v in masked.values { counts[Int(v)] += 1 }
        let test = chiSquaredGoodnessOfFit(observed: counts, probabilities: [Double](repeating: 1.0 / 256, count: 256),
                                           sampleCount: masked.values.count)
        #expect(test.pValue > 1e-4, "p-value \(test.pValue)")
        // And the unmasked input is exactly what the sum recovers for this client alone.
        #expect(masked.values != input)
    }

    @Test("Too few masked inputs: the round aborts and releases nothing")
    func abortBelowMinimum() throws {
        let configuration = try SecAggConfiguration(clientCount: 10, vectorLength: 4, bitWidth: 16, neighbours: 9,
                                                    threshold: 6, minimumSurvivors: 8)
        let inputs = Self.randomInputs(configuration, seed: 41)
        var source = InsecureSeededRandomSource(seed: 42)
        let drops: [UInt32: SecAggSimulation.Dropout] = [1: .beforeMaskedInput, 4: .beforeMaskedInput, 7: .beforeMaskedInput]
        #expect { try SecAggSimulation.run(configuration: configuration, inputs: inputs, dropouts: drops, using: &source) }
            throws: { ($0 as? VeilError)?.code == .roundAborted }
    }

    @Test("Too few unmasking answers for a threshold: the round aborts and every later call refuses")
    func abortBelowThreshold() throws {
        let configuration = try SecAggConfiguration(clientCount: 10, vectorLength: 4, bitWidth: 16, neighbours: 9,
                                                    threshold: 6, minimumSurvivors: 6)
        var source = InsecureSeededRandomSource(seed: 43)
        var server = try SecAggServer(configuration: configuration, using: &source)
        var clients = try (0..<UInt32(10)).map {
            try SecAggClient(index: $0, configuration: configuration, roundID: server.roundID, using: &source)
        }
        for c in clients { try server.receive(.advertiseKeys(c.advertiseKeys()), from: c.index) }
        for d in try server.closeAdvertising() {
            try server.receive(.shareKeys(try clients[Int(d.recipient)].shareKeys(d, using: &source)), from: d.recipient)
        }
        for s in try server.closeSharing() {
            try server.receive(.maskedInput(try clients[Int(s.recipient)].maskedInput(s, input: [1, 2, 3, 4])), from: s.recipient)
        }
        // Only five of ten answer: five shares per secret, below t = 6.
        for r in try server.closeMasking() where r.recipient < 5 {
            try server.receive(.unmaskingResponse(try clients[Int(r.recipient)].unmask(r)), from: r.recipient)
        }
        #expect { try server.finish() } throws: { ($0 as? VeilError)?.code == .roundAborted }
        #expect { try server.finish() } throws: { ($0 as? VeilError)?.code == .roundAborted }
        #expect { try server.receive(.advertiseKeys(clients[0].advertiseKeys()), from: 0) }
            throws: { ($0 as? VeilError)?.code == .roundAborted }
    }

    @Test("A round of 1,000 clients with 10% dropouts sums exactly")
    func thousandClients() throws {
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 1_000, vectorLength: 4, bitWidth: 16)
        #expect(configuration.neighbours == 22 && configuration.threshold == 12)
        let inputs = Self.randomInputs(configuration, seed: 51)
        let drops = Self.dropouts(count: 100, of: 1_000, seed: 51)
        var source = InsecureSeededRandomSource(seed: 52)
        let outcome = try SecAggSimulation.run(configuration: configuration, inputs: inputs, dropouts: drops, using: &source)
        let included = Set((0..<UInt32(1_000)).filter { drops[$0] != .beforeMaskedInput })
        #expect(outcome.included.count == 950)
        #expect(outcome.sum == Self.plainSum(inputs, of: included, bitWidth: 16))
    }

    @Test("The neighbour graph is k-regular and symmetric, and complete when k ≥ n − 1")
    func neighbourGraph() {
        let seed = [UInt8](repeating: 9, count: 32)
        let graph = NeighbourGraph(clientCount: 101, degree: 14, seed: seed)
        for a in 0..<101 {
            let neighbours = graph.neighbours(of: a)
            #expect(neighbours.count == 14 && !neighbours.contains(a))
            for b in neighbours { #expect(graph.areNeighbours(b, a) && graph.neighbours(of: b).contains(a)) }
        }
        // A random relabelling: not the plain ring.
        #expect(graph.neighbours(of: 0) != [1, 2, 3, 4, 5, 6, 7, 94, 95, 96, 97, 98, 99, 100])
        let complete = NeighbourGraph(clientCount: 5, degree: 4, seed: seed)
        #expect(complete.isComplete && complete.neighbours(of: 2) == [0, 1, 3, 4])
    }
}
