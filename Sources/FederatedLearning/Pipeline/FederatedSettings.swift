import Mechanisms
import PrivateTraining

/// Where a federated pipeline's clients come from.
public enum ClientSource: Sendable, Equatable {
    /// Every distinct value of a column of the table is one client holding its own rows (e.g. `person_id`
    /// of the health panel: client-level DP is then person-level DP). SQLite sources only.
    case column(String)
    /// The examples are dealt to `count` simulated clients, uniformly at random (IID) or label-skewed by a
    /// Dirichlet(α) draw per class (Hsu, Qi & Brown 2019), reproducibly from `seed`.
    case split(count: Int, skew: SplitSkew, seed: UInt64)

    /// How a split deals examples.
    public enum SplitSkew: Sendable, Equatable {
        /// Uniformly at random, client sizes differing by at most one.
        case iid
        /// Each class's examples shared out by proportions drawn from Dirichlet(α, …, α).
        case dirichlet(alpha: Double)
    }
}

/// How a private federated run adds its noise.
public enum FederatedAlgorithm: String, Sendable, Equatable {
    /// DP-FedAvg (McMahan et al. 2018): Poisson client sampling, Gaussian noise of std σC on each round's sum,
    /// divided by q·N (FedAvg without privacy when the pipeline is non-private).
    case dpFedAvg = "dp-fedavg"
    /// DP-FTRL (Kairouz et al. 2021): no sampling, each client at most once per pass, noise on prefix sums by
    /// tree aggregation, the tree restarted each pass.
    case dpFTRL = "dp-ftrl"
}

/// Adaptive clipping settings (Andrew et al. 2021, "Differentially Private Learning with Adaptive Clipping").
public struct AdaptiveClippingSettings: Sendable, Equatable {
    /// The quantile γ of update norms that C follows.
    public var targetQuantile: Double
    /// The geometric learning rate η_C: `C ← C · exp(−η_C (b̃ − γ))`.
    public var learningRate: Double
    /// σ_b: the standard deviation of the Gaussian noise on the count of clients with norm ≤ C.
    public var countNoiseStandardDeviation: Double

    /// Settings as given; validated by ``FederatedPlan``.
    public init(targetQuantile: Double, learningRate: Double, countNoiseStandardDeviation: Double) {
        self.targetQuantile = targetQuantile
        self.learningRate = learningRate
        self.countNoiseStandardDeviation = countNoiseStandardDeviation
    }
}

/// The `federated:` section of a pipeline: clients, rounds, sampling and the server's optimiser. The client's
/// local training (epochs E, batch size b, learning rate, optimiser) is the pipeline's `training:` section and
/// the client-level privacy target its `privacy:` section (`clip_norm` is the bound C on a client's update).
public struct FederatedSettings: Sendable, Equatable {
    /// Where the clients come from.
    public var clients: ClientSource
    /// The declared number of clients N (public, not counted from the data): `q = clients_per_round / N`.
    public var declaredClients: Int
    /// Rounds T.
    public var rounds: Int
    /// The expected number of clients per round q·N, the divisor of the noisy sum.
    public var clientsPerRound: Int
    /// The server's update rule on the pseudo-gradient `−Δ̄` (Reddi et al. 2021): SGD with momentum or Adam.
    public var serverOptimizer: OptimizerKind
    /// The server's learning rate.
    public var serverLearningRate: Double
    /// Adaptive clipping, or nil for a fixed C.
    public var adaptiveClipping: AdaptiveClippingSettings?
    /// DP-FedAvg or DP-FTRL.
    public var algorithm: FederatedAlgorithm
    /// How the round's updates are summed: on the server, or by secure aggregation.
    public var aggregation: FederatedAggregation

    /// Settings as given; validated by ``FederatedPlan``.
    public init(clients: ClientSource, declaredClients: Int, rounds: Int, clientsPerRound: Int,
                serverOptimizer: OptimizerKind = .sgd(momentum: 0), serverLearningRate: Double = 1,
                adaptiveClipping: AdaptiveClippingSettings? = nil, algorithm: FederatedAlgorithm = .dpFedAvg,
                aggregation: FederatedAggregation = .plain) {
        self.clients = clients
        self.declaredClients = declaredClients
        self.rounds = rounds
        self.clientsPerRound = clientsPerRound
        self.serverOptimizer = serverOptimizer
        self.serverLearningRate = serverLearningRate
        self.adaptiveClipping = adaptiveClipping
        self.algorithm = algorithm
        self.aggregation = aggregation
    }

    /// The largest number of clients and rounds accepted.
    public static let clientLimit = 1...10_000_000
    /// Rounds accepted.
    public static let roundLimit = 1...1_000_000

    /// Reads the `federated:` section.
    init(reading section: inout Section) throws {
        var clientsSection = try section.section("clients")
        let source: ClientSource
        if let column = try clientsSection.optionalString("column") {
            source = .column(column)
        } else {
            let kind = try clientsSection.string("split")
            let count = try clientsSection.int("count", in: Self.clientLimit)
            let seed = UInt64(try clientsSection.int("seed", default: 0, in: 0...Int.max))
            switch kind {
            case "iid": source = .split(count: count, skew: .iid, seed: seed)
            case "dirichlet":
                let alpha = try clientsSection.double("alpha")
                guard alpha.isFinite, alpha > 0, alpha <= 1e6 else {
                    throw VeilError(.invalidInput, "\(clientsSection.path).alpha must be a number in (0, 1e6]")
                }
                source = .split(count: count, skew: .dirichlet(alpha: alpha), seed: seed)
            default:
                throw VeilError(.invalidInput, "\(clientsSection.path).split must be iid or dirichlet, got \(kind)")
            }
        }
        try clientsSection.finish()
        let declared: Int
        if case .split(let count, _, _) = source {
            // A split's clients are the configuration itself: their number is public.
            declared = try section.int("declared_clients", default: count, in: Self.clientLimit)
        } else {
            guard let d = try section.optionalInt("declared_clients", in: Self.clientLimit) else {
                throw VeilError(.invalidInput, """
                    \(section.path) lacks declared_clients: declare the number of clients N (a public figure, not \
                    counted from the data: q = clients_per_round / N and each round's noisy sum is divided by q·N)
                    """)
            }
            declared = d
        }
        let algorithmName = try section.string("algorithm", default: FederatedAlgorithm.dpFedAvg.rawValue)
        guard let algorithm = FederatedAlgorithm(rawValue: algorithmName) else {
            throw VeilError(.invalidInput, "\(section.path).algorithm must be dp-fedavg or dp-ftrl, got \(algorithmName)")
        }
        let rounds = try section.int("rounds", in: Self.roundLimit)
        let perRound = try section.int("clients_per_round", in: Self.clientLimit)
        let optimizerName = try section.string("server_optimizer", default: "sgd")
        let optimizer: OptimizerKind
        switch optimizerName {
        case "sgd": optimizer = .sgd(momentum: try section.double("server_momentum", default: 0))
        case "adam":
            optimizer = .adam(beta1: try section.double("server_beta1", default: 0.9),
                              beta2: try section.double("server_beta2", default: 0.99),
                              epsilon: try section.double("server_adam_epsilon", default: 1e-3))
        default:
            throw VeilError(.invalidInput, "\(section.path).server_optimizer must be sgd or adam, got \(optimizerName)")
        }
        let learningRate = try section.double("server_learning_rate", default: 1)
        var adaptive: AdaptiveClippingSettings? = nil
        if var a = try section.optionalSection("adaptive_clipping") {
            adaptive = AdaptiveClippingSettings(targetQuantile: try a.double("target_quantile", default: 0.5),
                                                learningRate: try a.double("learning_rate", default: 0.2),
                                                countNoiseStandardDeviation: try a.double("count_noise_stddev"))
            try a.finish()
        }
        let aggregationName = try section.string("aggregation", default: FederatedAggregation.plain.name)
        let bitWidth = try section.int("aggregation_bit_width", default: FederatedAggregation.defaultBitWidth,
                                       in: FederatedAggregation.bitWidthLimit)
        let aggregation: FederatedAggregation
        do {
            aggregation = try FederatedAggregation(name: aggregationName, bitWidth: bitWidth)
        } catch let error as VeilError {
            throw VeilError(.invalidInput, "\(section.path).\(error.message)")
        }
        self.init(clients: source, declaredClients: declared, rounds: rounds, clientsPerRound: perRound,
                  serverOptimizer: optimizer, serverLearningRate: learningRate, adaptiveClipping: adaptive,
                  algorithm: algorithm, aggregation: aggregation)
    }
}
