import Mechanisms
import SecureAggregation

/// Secure aggregation of the round's clipped updates with SecAgg+ (Bell et al. 2020, "Secure Single-Server
/// Aggregation with (Poly)Logarithmic Overhead"), all parties in this process (``SecAggSimulation``: every message
/// goes through its binary encoding).
///
/// On each client's side of ``accept(_:from:)`` the clipped update is quantised (``UpdateQuantizer``: stochastic
/// rounding to a grid, modulo 2^b, chosen so that the sum of the round's updates cannot wrap around). In
/// ``finishRound()`` the round's clients run SecAgg+: each masks its input, the server unmasks only the sum of the
/// inputs of the clients that sent a masked input, and decodes it. The server then adds the central Gaussian noise as
/// with ``PlainSumAggregator`` (``addsNoise`` is false): the privacy guarantee and its accounting are DP-FedAvg's;
/// what changes is that the server sees only the sum, never one client's update.
///
/// **Dropouts.** With `dropoutRate` p each client of the round independently stops answering with probability p,
/// half of them before sending its masked input (its update is not in the sum; its pairwise masks are removed
/// through its rebuilt masking key) and half after it (its update is in the sum; its self-mask is rebuilt from its
/// neighbours' shares). When fewer clients than the configuration's minimum survive, or a secret cannot be
/// rebuilt, the round aborts: ``finishRound()`` throws `round_aborted` and nothing is released. So does a round
/// with fewer than 3 clients, which SecAgg+ cannot hide. A run that stops there keeps its whole reservation.
public struct SecureAggregationAggregator<Random: RandomSource>: UpdateAggregator {
    /// What the last completed round aggregated.
    public struct RoundRecord: Sendable {
        /// The clients whose updates are in the sum.
        public var included: Set<Int>
        /// The clients that stopped answering during the protocol (before or after their masked input).
        public var dropped: Set<Int>
        /// The exact integer sum of the included clients' quantised updates, as unmasked by the server.
        public var quantizedSum: [Int64]
    }

    /// The grid and modulus.
    public let quantizer: UpdateQuantizer
    /// The probability that a client of the round stops answering during the protocol.
    public let dropoutRate: Double
    /// A round needs at least this fraction of its clients to send masked inputs (SecAgg+'s minimum survivors).
    public let minimumSurvivorFraction: Double
    /// The last completed round, nil before the first.
    public private(set) var lastRound: RoundRecord?
    /// The quantised updates of the open round, by client: the clients' own state in this simulation, which the
    /// server never reads (it receives only masked values).
    public private(set) var quantizedInputs: [(client: Int, values: [Int64])] = []
    private var random: Random
    private var dimension = 0

    /// - Parameters:
    ///   - quantizer: the grid; its `maximumClients` bounds the clients of one round.
    ///   - dropoutRate: probability in [0, 1) that a client drops out during the protocol.
    ///   - minimumSurvivorFraction: SecAgg+'s minimum fraction of surviving clients.
    ///   - random: the clients' rounding and key material and the simulated dropouts (``SecureRandomSource`` in
    ///     production).
    public init(quantizer: UpdateQuantizer, dropoutRate: Double = 0, minimumSurvivorFraction: Double = 0.5,
                random: Random) throws {
        guard dropoutRate.isFinite, dropoutRate >= 0, dropoutRate < 1 else {
            throw VeilError.invalidParameter("dropout rate", dropoutRate, allowed: "in [0, 1)")
        }
        try ParameterCheck.probability(minimumSurvivorFraction, name: "minimum survivor fraction")
        self.quantizer = quantizer
        self.dropoutRate = dropoutRate
        self.minimumSurvivorFraction = minimumSurvivorFraction
        self.random = random
    }

    /// The server adds the noise to the unmasked sum.
    public var addsNoise: Bool { false }

    public mutating func beginRound(_ round: Int, dimension: Int) {
        self.dimension = dimension
        quantizedInputs = []
    }

    /// The client's side: quantises the clipped update (norm ≤ C).
    public mutating func accept(_ update: [Float], from client: Int) throws {
        guard update.count == dimension else {
            throw VeilError(.invalidInput, "client \(client)'s update has \(update.count) values, the model has \(dimension)")
        }
        guard !quantizedInputs.contains(where: { $0.client == client }) else {
            throw VeilError(.invalidInput, "client \(client) already sent an update this round")
        }
        guard quantizedInputs.count < quantizer.maximumClients else {
            throw SecureAggregationAggregatorError.tooManyClients(quantizer.maximumClients)
        }
        quantizedInputs.append((client, quantizer.quantize(update, using: &random)))
    }

    /// Runs SecAgg+ over the round's quantised updates and returns the decoded sum (zeros when no client answered).
    /// - Throws: `round_aborted` (nothing released) below the protocol's thresholds.
    public mutating func finishRound() throws -> [Double] {
        defer { quantizedInputs = [] }
        guard !quantizedInputs.isEmpty else {
            lastRound = RoundRecord(included: [], dropped: [], quantizedSum: [Int64](repeating: 0, count: dimension))
            return [Double](repeating: 0, count: dimension)
        }
        guard quantizedInputs.count >= 3 else {
            throw SecureAggregationAggregatorError.tooFewClients(minimum: 3)
        }
        let configuration = try SecAggConfiguration.secAggPlus(
            clientCount: quantizedInputs.count, vectorLength: dimension, bitWidth: quantizer.bitWidth,
            minimumSurvivorFraction: minimumSurvivorFraction)
        var dropouts: [UInt32: SecAggSimulation.Dropout] = [:]
        if dropoutRate > 0 {
            for index in quantizedInputs.indices where OpenUnitInterval.sample(&random) < dropoutRate {
                dropouts[UInt32(index)] = random.next() & 1 == 0 ? .beforeMaskedInput : .afterMaskedInput
            }
        }
        let outcome = try SecureAggregationAggregatorError.withoutCounts {
            try SecAggSimulation.run(configuration: configuration,
                                     inputs: quantizedInputs.map { quantizer.residues($0.values) },
                                     dropouts: dropouts, using: &random)
        }
        lastRound = RoundRecord(included: Set(outcome.included.map { quantizedInputs[Int($0)].client }),
                                dropped: Set(dropouts.keys.map { quantizedInputs[Int($0)].client }),
                                quantizedSum: quantizer.centred(outcome.sum))
        return quantizer.decode(outcome.sum)
    }
}

/// Aborts of ``SecureAggregationAggregator`` and ``DistributedGaussianAggregator``. Their messages name declared
/// figures only: how many clients a round held or how many survived is a function of the population, which may be
/// private (clients from a column), so it is never printed (docs/design.md §2 rule 7).
enum SecureAggregationAggregatorError {
    /// A round with fewer answering clients than secure aggregation needs.
    static func tooFewClients(minimum: Int) -> VeilError {
        VeilError(.roundAborted, "round aborted, nothing released: fewer than \(minimum) clients answered, and "
                  + "secure aggregation needs them to hide each one's update")
    }

    /// Runs a SecAgg+ round, replacing the message of its abort (which counts clients and shares) by one without counts.
    static func withoutCounts<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VeilError where error.code == .roundAborted {
            throw VeilError(.roundAborted, "round aborted, nothing released: too few clients were left at a step of "
                            + "secure aggregation, or a secret could not be rebuilt")
        }
    }

    /// More updates in one round than the quantisation grid was sized for.
    static func tooManyClients(_ limit: Int) -> VeilError {
        VeilError(.roundAborted, "round aborted, nothing released: more than \(limit) clients in one round, the most "
                  + "whose quantised sum fits the secure aggregation modulus")
    }
}
