import Mechanisms
import PrivateTraining
import SecureAggregation

/// The distributed discrete Gaussian with SecAgg+ (Kairouz, Liu, Steinke 2021), all parties in this process
/// (``SecAggSimulation``: every message goes through its binary encoding).
///
/// On each client's side of ``accept(_:from:)`` the clipped update is encoded by ``DistributedDiscreteGaussian``:
/// rotated with the round's randomised Hadamard, rounded to the grid γ by conditional randomised rounding, given its
/// share of the discrete Gaussian noise (exact sampler) and reduced modulo 2^b. In ``finishRound()`` SecAgg+ sums the
/// encodings and the server decodes the sum, which already carries the noise: ``addsNoise`` is true and the server
/// adds none. The server never sees an unnoised sum, nor any one client's encoding.
///
/// A round needs at least ``DistributedGaussianPlan/minimumClients`` masked inputs — the noise contributions its
/// accounting counts on — and at most the declared N clients, for which the modulus was sized; otherwise it aborts
/// (`round_aborted`, nothing released). Dropouts (rate p, as in ``SecureAggregationAggregator``) happen before or
/// after a client's masked input: one that sent it is in the sum with its noise.
public struct DistributedGaussianAggregator<Random: RandomSource>: UpdateAggregator {
    /// What the last completed round aggregated.
    public struct RoundRecord: Sendable {
        /// The clients whose encodings are in the sum.
        public var included: Set<Int>
        /// The clients that stopped answering during the protocol.
        public var dropped: Set<Int>
    }

    /// The calibrated mechanism.
    public let plan: DistributedGaussianPlan
    /// The probability that a client of the round stops answering during the protocol.
    public let dropoutRate: Double
    /// The last completed round, nil before the first.
    public private(set) var lastRound: RoundRecord?
    private let encoder: DistributedDiscreteGaussian
    private var random: Random
    private var dimension = 0
    private var rotationSeed: [UInt8] = []
    private var encoded: [(client: Int, values: [UInt64])] = []

    /// - Parameters:
    ///   - plan: the calibrated DDG.
    ///   - dropoutRate: probability in [0, 1) that a client drops out during the protocol.
    ///   - random: the round's rotation seed, the keys of the clients' rounding and noise streams
    ///     (``KeyErasingAESStream``), their SecAgg+ keys, and the simulated dropouts (``SecureRandomSource`` in
    ///     production).
    public init(plan: DistributedGaussianPlan, dropoutRate: Double = 0, random: Random) throws {
        guard dropoutRate.isFinite, dropoutRate >= 0, dropoutRate < 1 else {
            throw VeilError.invalidParameter("dropout rate", dropoutRate, allowed: "in [0, 1)")
        }
        self.plan = plan
        self.dropoutRate = dropoutRate
        self.random = random
        encoder = try DistributedDiscreteGaussian(parameters: plan.parameters)
    }

    /// The clients add the noise; the server adds none.
    public var addsNoise: Bool { true }

    /// Opens a round with a fresh public rotation seed, shared by the clients and the server.
    public mutating func beginRound(_ round: Int, dimension: Int) {
        self.dimension = dimension
        encoded = []
        rotationSeed = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
    }

    /// The client's side: encodes the clipped update with its share of the noise.
    public mutating func accept(_ update: [Float], from client: Int) throws {
        guard update.count == dimension, dimension == plan.parameters.dimension else {
            throw VeilError(.invalidInput, "client \(client)'s update has \(update.count) values, the model has "
                            + "\(plan.parameters.dimension)")
        }
        guard !encoded.contains(where: { $0.client == client }) else {
            throw VeilError(.invalidInput, "client \(client) already sent an update this round")
        }
        guard encoded.count < plan.parameters.clients else {
            throw SecureAggregationAggregatorError.tooManyClients(plan.parameters.clients)
        }
        // The client's rounding and noise read a stream of its own, keyed with 256 bits of `random`: the kernel's
        // generator would be most of a round's time at a model's size (docs/federated.md, "What a DDG round costs").
        var clientRandom = KeyErasingAESStream(keyFrom: &random)
        encoded.append((client, try encoder.encode(update.map { Double($0) }, rotationSeed: rotationSeed,
                                                   using: &clientRandom)))
    }

    /// Runs SecAgg+ over the encodings and returns the decoded noisy sum.
    /// - Throws: `round_aborted` (nothing released) when fewer than the certified minimum of clients answered or
    ///   sent masked inputs, or a secret could not be rebuilt.
    public mutating func finishRound() throws -> [Double] {
        defer { encoded = [] }
        guard encoded.count >= plan.minimumClients else {
            throw SecureAggregationAggregatorError.tooFewClients(minimum: plan.minimumClients)
        }
        let defaults = try SecAggConfiguration.secAggPlus(clientCount: encoded.count,
                                                          vectorLength: plan.parameters.paddedDimension,
                                                          bitWidth: plan.parameters.bitWidth)
        // The server refuses to unmask a sum of fewer masked inputs than the accounting counts on.
        let configuration = try SecAggConfiguration(
            clientCount: defaults.clientCount, vectorLength: defaults.vectorLength, bitWidth: defaults.bitWidth,
            neighbours: defaults.neighbours, threshold: defaults.threshold,
            minimumSurvivors: max(defaults.minimumSurvivors, plan.minimumClients))
        var dropouts: [UInt32: SecAggSimulation.Dropout] = [:]
        if dropoutRate > 0 {
            for index in encoded.indices where OpenUnitInterval.sample(&random) < dropoutRate {
                dropouts[UInt32(index)] = random.next() & 1 == 0 ? .beforeMaskedInput : .afterMaskedInput
            }
        }
        let outcome = try SecureAggregationAggregatorError.withoutCounts {
            try SecAggSimulation.run(configuration: configuration, inputs: encoded.map { $0.values },
                                     dropouts: dropouts, using: &random)
        }
        // The server's minimum of masked inputs is at least the certified minimum; checked again before decoding.
        guard outcome.included.count >= plan.minimumClients else {
            throw SecureAggregationAggregatorError.tooFewClients(minimum: plan.minimumClients)
        }
        lastRound = RoundRecord(included: Set(outcome.included.map { encoded[Int($0)].client }),
                                dropped: Set(dropouts.keys.map { encoded[Int($0)].client }))
        return try encoder.decode(outcome.sum, rotationSeed: rotationSeed)
    }
}
