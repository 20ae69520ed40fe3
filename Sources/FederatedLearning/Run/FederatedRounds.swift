import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// What the server reports after a round.
public struct FederatedProgress: Sendable {
    /// Rounds done.
    public var round: Int
    /// Rounds planned.
    public var totalRounds: Int
    /// Clients sampled this round whose update arrived; nil when the client population is a function of the
    /// private data (a column's distinct values), whose realised counts are not shown (docs/design.md §2 rule 7).
    public var clientsReached: Int?
    /// Clients sampled this round whose update did not arrive (simulated dropouts, lost connections); nil as above.
    public var clientsDropped: Int?
    /// The expected number of clients per round q·N (declared N).
    public var expectedClients: Double
    /// ε spent by the rounds so far (nil for FedAvg).
    public var epsilonSpent: Double?
    /// The clipping norm of the next round (changes with adaptive clipping, through a noisy count only).
    public var clipNorm: Double?
    /// Seconds since round 1 started.
    public var elapsedSeconds: Double
    /// Accuracy of the round's model on the pipeline's test split, when the run evaluates every few rounds
    /// (``FederatedRun/execute(aggregator:dropoutRate:privacyRandom:orderRandom:progressInterval:evaluationInterval:progress:)``);
    /// for the operator, like the final evaluation.
    public var testAccuracy: Double? = nil
}

/// The server's side of FedAvg and DP-FedAvg, one round at a time.
///
/// A round (McMahan et al. 2018, Algorithm 1): sample each client independently with probability q; every sampled
/// client that answers trains locally (``LocalTraining``) and its update is clipped to C (``UpdateClipping``; DP
/// only); the aggregator sums the clipped updates (``UpdateAggregator``); the server adds N(0, σ_Δ²C²) to every
/// coordinate of the sum (unless the aggregator's clients added distributed noise), divides by the expected number of
/// clients `q·N` with the declared N (never the realised count, docs/design.md §2 rule 5), and applies its optimiser
/// to the pseudo-gradient `−Δ̄` (Reddi et al. 2021, "Adaptive Federated Optimization": SGD with momentum is FedAvgM,
/// Adam is FedAdam; SGD with learning rate 1 is plain FedAvg). Non-private FedAvg averages over the clients reached.
///
/// DP-FTRL (Kairouz et al. 2021, Algorithm 1 with tree aggregation, restarted each pass): no sampling; each pass shuffles
/// the clients and deals `clients_per_round` to each round, so a client contributes at most once a pass; the server
/// keeps the pass's running sum S of clipped updates and sets `θ = θ_pass + η/m · (S + tree noise)` (FTRL with linear
/// losses is gradient descent on the noisy prefix sums); a new pass restarts the tree from the current model.
///
/// With adaptive clipping (Andrew et al. 2021, Algorithm 1) the clients also report `bᵢ = 1[‖Δᵢ‖ ≤ C]`; the server
/// releases `b̃ = (Σ(bᵢ − ½) + N(0, σ_b²)) / (q·N) + ½` and sets `C ← C · exp(−η_C (b̃ − γ))`.
public struct FederatedRounds {
    /// The plan (sampling rate, rounds, noise).
    public let plan: FederatedPlan
    /// The clients' local training.
    public let local: LocalTraining
    /// The model being trained.
    public private(set) var model: SequentialModel
    /// The clipping norm of the next round (DP only).
    public private(set) var clipNorm: Double?
    /// Rounds completed.
    public private(set) var roundsDone = 0
    private var optimizer: Optimizer
    private var noise = GaussianNoiseSampler()
    private let sampler: PoissonSampler
    private let clientCount: Int
    private var passOrder: [Int] = []
    private var passRound = 0
    private var passStart: [Matrix] = []
    private var passSum: [Double] = []
    private var tree: TreeAggregationNoise?

    /// The server's state before round 1.
    /// - Parameters:
    ///   - plan: the validated plan.
    ///   - local: the clients' local training.
    ///   - model: the initial model.
    ///   - clientCount: the number of clients present (Poisson sampling needs no more than this).
    public init(plan: FederatedPlan, local: LocalTraining, model: SequentialModel, clientCount: Int) throws {
        self.plan = plan
        self.local = local
        self.model = model
        clipNorm = plan.privacy?.clipNorm
        optimizer = try Optimizer(kind: plan.settings.serverOptimizer, learningRate: plan.settings.serverLearningRate)
        sampler = try PoissonSampler(samplingRate: plan.samplingRate, populationSize: max(1, clientCount))
        self.clientCount = clientCount
        if plan.roundsPerPass != nil, let c = clipNorm, let z = plan.noiseMultiplier {
            tree = TreeAggregationNoise(dimension: model.parameterCount, standardDeviation: z * c)
        }
    }

    /// The clients of the next round (indices into the client list): Poisson sampling at rate q (DP-FedAvg), or
    /// the next `clients_per_round` of the pass's shuffled order (DP-FTRL; a client at most once a pass).
    public mutating func sampleClients<R: RandomSource>(using random: inout R) -> [Int] {
        guard plan.roundsPerPass != nil else { return sampler.sample(using: &random) }
        if passRound == 0 {
            passOrder = Array(0..<clientCount)
            passOrder.shuffle(using: &random)
        }
        let m = plan.settings.clientsPerRound
        let start = min(passOrder.count, passRound * m)
        let end = min(passOrder.count, start + m)
        return Array(passOrder[start..<end])
    }

    /// Runs one round in which `update(client)` gives each sampled client's raw update, or nil when the client
    /// dropped out (its update never arrived).
    /// - Parameters:
    ///   - clients: the sampled clients.
    ///   - aggregator: sums the clipped updates.
    ///   - privacyRandom: the source of the server's noise (``SecureRandomSource`` in production).
    ///   - update: a client's update `θ_local − θ_server`, flattened, or nil for a dropout.
    /// - Returns: how many sampled clients answered and how many dropped.
    public mutating func runRound<A: UpdateAggregator, R: RandomSource>(
        clients: [Int], aggregator: inout A, privacyRandom: inout R, update: (Int) throws -> [Float]?
    ) throws -> (reached: Int, dropped: Int) {
        let dimension = model.parameterCount
        aggregator.beginRound(roundsDone + 1, dimension: dimension)
        var reached = 0, dropped = 0
        var centredCount = 0.0
        for client in clients {
            guard let raw = try update(client) else {
                dropped += 1
                continue
            }
            let contribution: [Float]
            if let c = clipNorm {
                let clipped = UpdateClipping.clip(raw, clipNorm: c)
                contribution = clipped.update
                if let norm = clipped.norm, norm <= c { centredCount += 0.5 } else { centredCount -= 0.5 }
            } else {
                // FedAvg without privacy: a non-finite update is left out rather than poisoning the mean.
                contribution = raw.allSatisfy(\.isFinite) ? raw : [Float](repeating: 0, count: raw.count)
            }
            try aggregator.accept(contribution, from: client)
            reached += 1
        }
        let sum = try aggregator.finishRound()
        try apply(sum: sum, noiseFromClients: aggregator.addsNoise, reached: reached, centredCount: centredCount,
                  privacyRandom: &privacyRandom)
        return (reached, dropped)
    }

    /// The server's step of a round whose sum of clipped updates is known: adds the noise (unless the clients added
    /// distributed noise), scales, and applies the server's optimiser. ``runRound(clients:aggregator:privacyRandom:update:)``
    /// ends with it; a network round of secure aggregation, whose sum the protocol unmasks, calls it directly.
    /// - Parameters:
    ///   - sum: Σ of the round's clipped updates (one value per parameter).
    ///   - noiseFromClients: whether `sum` already carries the round's noise (the distributed discrete Gaussian).
    ///   - reached: clients whose updates are in the sum (the divisor of FedAvg without privacy only).
    ///   - centredCount: Σ(bᵢ − ½) of adaptive clipping (0 without it).
    ///   - privacyRandom: the source of the server's noise.
    public mutating func apply<R: RandomSource>(sum: [Double], noiseFromClients: Bool, reached: Int,
                                                centredCount: Double = 0, privacyRandom: inout R) throws {
        if tree != nil {
            try finishFTRLRound(sum: sum, noiseFromClients: noiseFromClients, privacyRandom: &privacyRandom)
            return
        }
        var mean = sum.map { Float($0) }
        if let c = clipNorm, let sigma = plan.updateNoiseMultiplier {
            if !noiseFromClients {
                noise.addNoise(to: &mean, standardDeviation: sigma * c, using: &privacyRandom)
            }
            Vector.scale(&mean, by: Float(1 / plan.expectedClientsPerRound))
            if let adaptive = plan.settings.adaptiveClipping {
                let noisyCount = centredCount + adaptive.countNoiseStandardDeviation * noise.next(using: &privacyRandom)
                let fraction = noisyCount / plan.expectedClientsPerRound + 0.5
                let next = c * exp(-adaptive.learningRate * (fraction - adaptive.targetQuantile))
                // A noisy count is finite; the bound keeps C a usable positive number whatever the noise drew.
                clipNorm = min(max(next, 1e-12), 1e12)
            }
        } else {
            Vector.scale(&mean, by: 1 / Float(max(reached, 1)))
        }
        // The server's optimiser descends along the pseudo-gradient −Δ̄.
        Vector.scale(&mean, by: -1)
        var parameters = model.parameters
        optimizer.update(&parameters, gradients: ParameterVector.unflatten(mean, like: parameters))
        model.parameters = parameters
        roundsDone += 1
    }

    /// DP-FTRL's server step: add the round's sum to the pass's prefix sum, add the tree's noise for this prefix, and
    /// set the model to `θ_pass + η/m · (S + noise)`; the last round of a pass restarts the tree.
    private mutating func finishFTRLRound<R: RandomSource>(sum: [Double], noiseFromClients: Bool,
                                                           privacyRandom: inout R) throws {
        guard var tree, let perPass = plan.roundsPerPass else { return }
        if passRound == 0 {
            passStart = model.parameters
            passSum = [Double](repeating: 0, count: sum.count)
        }
        for i in sum.indices { passSum[i] += sum[i] }
        var noisy = passSum.map { Float($0) }
        if !noiseFromClients {
            let noise = tree.next(using: &privacyRandom)
            for i in noisy.indices { noisy[i] += noise[i] }
        }
        Vector.scale(&noisy, by: Float(plan.settings.serverLearningRate / plan.expectedClientsPerRound))
        var parameters = ParameterVector.flatten(passStart)
        Vector.axpy(1, noisy, &parameters)
        model.parameters = ParameterVector.unflatten(parameters, like: passStart)
        passRound += 1
        if passRound == perPass {
            passRound = 0
            tree.reset()
        }
        self.tree = tree
        roundsDone += 1
    }
}
