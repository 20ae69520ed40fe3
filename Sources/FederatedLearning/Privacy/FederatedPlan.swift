import Accounting
import Mechanisms
import PrivateTraining

/// A validated federated run: client sampling rate, rounds and (for DP-FedAvg) the calibrated noise, all fixed
/// from declared figures before any data is read.
///
/// DP-FedAvg (McMahan et al. 2018, "Learning Differentially Private Recurrent Language Models") is the subsampled
/// Gaussian mechanism at the client level: each round samples each client with probability `q = clients_per_round /
/// N` (declared N), sums updates clipped to C, adds N(0, σ²C²) and divides by `q·N`; T rounds are the event
/// ``NoiseCalibration/dpsgdEvent(samplingRate:noiseMultiplier:steps:)`` with `(q, σ, T)`, the same as DP-SGD's.
///
/// With adaptive clipping (Andrew et al. 2021, "Differentially Private Learning with Adaptive Clipping", §3.1)
/// each round also releases a count of clients whose update norm is ≤ C, with noise N(0, σ_b²) on a sum whose
/// per-client sensitivity is 1/2 (the count is centred). The two Gaussian releases compose into one of noise
/// multiplier z with `z⁻² = σ_Δ⁻² + (2σ_b)⁻²`; the accountant is given z (calibrated to the target), and the
/// updates get the larger `σ_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2)`, which needs `2σ_b > z`.
public struct FederatedPlan: Sendable {
    /// The settings.
    public let settings: FederatedSettings
    /// The client-level privacy target, or nil for non-private FedAvg.
    public let privacy: PrivacySettings?
    /// The client sampling rate `q = clients_per_round / N`.
    public let samplingRate: Double
    /// Rounds to run.
    public private(set) var rounds: Int
    /// z: the noise multiplier the accountant sees (DP only).
    public private(set) var noiseMultiplier: Double?
    /// σ_Δ: the noise multiplier on the update sum (z itself without adaptive clipping).
    public private(set) var updateNoiseMultiplier: Double?
    /// ε of all rounds (DP only), ≤ the target.
    public private(set) var plannedEpsilon: Double?
    /// Warnings that do not stop the run.
    public let warnings: [String]
    /// DP-FTRL: rounds of one pass over the declared clients, ⌈N / clients_per_round⌉ (nil for DP-FedAvg).
    public let roundsPerPass: Int?
    /// DP-FTRL: ⌈log₂(roundsPerPass + 1)⌉, the tree nodes one round's sum enters (nil for DP-FedAvg).
    public let treeHeight: Int?

    /// The distributed discrete Gaussian of `aggregation: ddg`, set by ``withDistributedGaussian(dimension:)`` once the
    /// model's size is known (nil otherwise).
    public private(set) var distributedGaussian: DistributedGaussianPlan?

    /// The expected number of clients per round `q·N`, the divisor of the noisy sum.
    public var expectedClientsPerRound: Double { Double(settings.clientsPerRound) }

    /// Validates the settings and, for DP, calibrates z to the target ε over all rounds (or, with a fixed
    /// `noise_multiplier`, cuts the rounds to those within the target).
    /// - Throws: `VeilError.invalidParameter` on settings out of range, `2σ_b ≤ z` with adaptive clipping, or a
    ///   fixed σ that exceeds the target in one round.
    public init(settings: FederatedSettings, privacy: PrivacySettings?) throws {
        try TrainingLimits.check(settings.declaredClients, in: FederatedSettings.clientLimit, name: "declared clients")
        try TrainingLimits.check(settings.rounds, in: FederatedSettings.roundLimit, name: "rounds")
        try ParameterCheck.count(settings.clientsPerRound, name: "clients per round", minimum: 1)
        guard settings.clientsPerRound <= settings.declaredClients else {
            throw VeilError(.invalidParameter, "clients per round \(settings.clientsPerRound) is more than the "
                            + "\(settings.declaredClients) declared clients")
        }
        try TrainingLimits.checkPositive(settings.serverLearningRate, name: "server learning rate")
        _ = try Optimizer(kind: settings.serverOptimizer, learningRate: settings.serverLearningRate)
        if let a = settings.adaptiveClipping {
            guard a.targetQuantile > 0, a.targetQuantile < 1 else {
                throw VeilError.invalidParameter("adaptive clipping target quantile", a.targetQuantile, allowed: "in (0, 1)")
            }
            try TrainingLimits.checkPositive(a.learningRate, name: "adaptive clipping learning rate")
            try TrainingLimits.checkPositive(a.countNoiseStandardDeviation, name: "adaptive clipping count noise")
        }
        try Self.checkAggregation(settings, privacy: privacy)
        self.settings = settings
        self.privacy = privacy
        let q = Double(settings.clientsPerRound) / Double(settings.declaredClients)
        samplingRate = q
        var warnings: [String] = []
        if settings.algorithm == .dpFTRL {
            guard let privacy else {
                throw VeilError(.invalidParameter, "dp-ftrl is a private algorithm: give the pipeline a privacy target")
            }
            guard settings.adaptiveClipping == nil else {
                throw VeilError(.invalidParameter, "adaptive clipping is available with dp-fedavg, not dp-ftrl")
            }
            // The tree's accounting (h nodes per client per pass) holds for a fixed population that only changes a
            // client's own update. Clients dealt out by position from a data column are not that: adding or removing
            // one person moves every later client into another round, and so changes many nodes.
            if case .column = settings.clients {
                throw VeilError(.invalidParameter, "dp-ftrl needs clients from a split of the data set: with clients "
                                + "from a column, one person more or less would move other clients between rounds, "
                                + "which its accounting does not cover; use dp-fedavg (Poisson sampling)")
            }
            guard settings.serverOptimizer == .sgd(momentum: 0) else {
                throw VeilError(.invalidParameter, "dp-ftrl steps along the noisy prefix sums itself: leave "
                                + "server_optimizer at sgd without server_momentum (server_learning_rate is its η)")
            }
            try TrainingLimits.checkPositive(privacy.clipNorm, name: "clip norm")
            try TrainingLimits.checkPositive(privacy.targetEpsilon, name: "target epsilon")
            try ParameterCheck.delta(privacy.delta)
            let perPass = (settings.declaredClients + settings.clientsPerRound - 1) / settings.clientsPerRound
            let height = TreeAggregationNoise.height(rounds: perPass)
            let passes = (settings.rounds + perPass - 1) / perPass
            let z: Double
            if let sigma = privacy.noiseMultiplier {
                try TrainingLimits.checkPositive(sigma, name: "noise multiplier")
                z = sigma
            } else {
                // ρ = passes · h / (2σ²) (one tree per pass, a client in one round per pass), at most the largest ρ
                // that converts to the target (ε, δ).
                let rho = ZCDP.largestRho(epsilon: privacy.targetEpsilon, delta: privacy.delta)
                z = (Double(passes * height) / (2 * rho)).squareRoot() * (1 + 1e-9)
            }
            roundsPerPass = perPass
            treeHeight = height
            rounds = settings.rounds
            noiseMultiplier = z
            updateNoiseMultiplier = z
            let planned = try ZCDPAccountant().epsilon(
                for: Self.ftrlEvent(noiseMultiplier: z, height: height, passes: passes), delta: privacy.delta)
            guard planned <= privacy.targetEpsilon else {
                throw VeilError(.invalidParameter, "noise multiplier \(z) gives ε = \(planned) over \(passes) passes, "
                                + "more than the target \(privacy.targetEpsilon)")
            }
            plannedEpsilon = planned
            self.warnings = warnings
            return
        }
        roundsPerPass = nil
        treeHeight = nil
        guard let privacy else {
            rounds = settings.rounds
            noiseMultiplier = nil
            updateNoiseMultiplier = nil
            plannedEpsilon = nil
            self.warnings = ["federated training without differential privacy: the model may memorise clients' data"]
            return
        }
        try TrainingLimits.checkPositive(privacy.clipNorm, name: "clip norm")
        try TrainingLimits.checkPositive(privacy.targetEpsilon, name: "target epsilon")
        try ParameterCheck.delta(privacy.delta)
        if privacy.delta >= 1 / Double(settings.declaredClients) {
            warnings.append("delta = \(privacy.delta) is not below 1/N = \(1 / Double(settings.declaredClients)) "
                            + "for N declared clients")
        }
        let accountant = try privacy.accountant.makeAccountant()
        func epsilon(_ sigma: Double, _ t: Int) throws -> Double {
            try accountant.epsilon(for: NoiseCalibration.dpsgdEvent(samplingRate: q, noiseMultiplier: sigma, steps: t),
                                   delta: privacy.delta)
        }
        let z: Double
        if let sigma = privacy.noiseMultiplier {
            try TrainingLimits.checkPositive(sigma, name: "noise multiplier")
            var allowed = settings.rounds
            if try epsilon(sigma, allowed) > privacy.targetEpsilon {
                var (lo, hi) = (0, allowed)  // ε(lo) ≤ target < ε(hi); ε(0) = 0
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2
                    if try epsilon(sigma, mid) <= privacy.targetEpsilon { lo = mid } else { hi = mid }
                }
                guard lo >= 1 else {
                    throw VeilError(.invalidParameter, "noise multiplier \(sigma) exceeds ε = \(privacy.targetEpsilon) in a single round")
                }
                warnings.append("noise multiplier \(sigma) allows only \(lo) of \(allowed) rounds within ε = \(privacy.targetEpsilon)")
                allowed = lo
            }
            z = sigma
            rounds = allowed
            plannedEpsilon = try epsilon(sigma, allowed)
        } else {
            let calibrated = try NoiseCalibration.noiseMultiplier(
                targetEpsilon: privacy.targetEpsilon, samplingRate: q, steps: settings.rounds,
                delta: privacy.delta, accountant: accountant)
            z = calibrated.noiseMultiplier
            rounds = settings.rounds
            plannedEpsilon = calibrated.epsilon
        }
        noiseMultiplier = z
        if let a = settings.adaptiveClipping {
            updateNoiseMultiplier = try Self.updateNoiseMultiplier(effective: z, countNoise: a.countNoiseStandardDeviation)
        } else {
            updateNoiseMultiplier = z
        }
        self.warnings = warnings
    }

    /// The grid of secure aggregation (nil with plain aggregation): C the clip norm, at most N declared clients in a
    /// round's sum.
    public var updateQuantizer: UpdateQuantizer? {
        guard case .secureAggregation(let bitWidth) = settings.aggregation, let privacy else { return nil }
        return try? UpdateQuantizer(clipNorm: privacy.clipNorm, bitWidth: bitWidth, maximumClients: settings.declaredClients)
    }

    /// Secure aggregation quantises updates to a grid sized by the clip norm C: it needs a privacy target (FedAvg
    /// without privacy does not clip), a fixed C, and a modulus that holds the sum of N declared clients' updates.
    private static func checkAggregation(_ settings: FederatedSettings, privacy: PrivacySettings?) throws {
        if case .distributedDiscreteGaussian = settings.aggregation {
            guard let privacy else {
                throw VeilError(.invalidParameter, "aggregation ddg adds the noise on the clients: give the pipeline a "
                                + "privacy target")
            }
            guard settings.algorithm == .dpFedAvg, settings.adaptiveClipping == nil else {
                throw VeilError(.invalidParameter, "aggregation ddg is available with dp-fedavg and a fixed clip norm "
                                + "(no dp-ftrl, no adaptive_clipping)")
            }
            guard privacy.noiseMultiplier == nil else {
                throw VeilError(.invalidParameter, "aggregation ddg calibrates its noise to target_epsilon: remove "
                                + "privacy.noise_multiplier")
            }
            return
        }
        guard case .secureAggregation(let bitWidth) = settings.aggregation else { return }
        guard let privacy else {
            throw VeilError(.invalidParameter, "aggregation secagg quantises clipped updates: give the pipeline a "
                            + "privacy target with clip_norm")
        }
        guard settings.adaptiveClipping == nil else {
            throw VeilError(.invalidParameter, "aggregation secagg needs a fixed clip norm: its grid is sized by C; "
                            + "remove adaptive_clipping")
        }
        _ = try UpdateQuantizer(clipNorm: privacy.clipNorm, bitWidth: bitWidth, maximumClients: settings.declaredClients)
    }

    /// σ_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2) (Andrew et al. 2021, §3.1): the update sum's noise multiplier that, together
    /// with the noisy count of noise σ_b, composes to the effective multiplier z.
    /// - Throws: `VeilError.invalidParameter` unless `2σ_b > z`.
    public static func updateNoiseMultiplier(effective z: Double, countNoise sigmaB: Double) throws -> Double {
        let remaining = 1 / (z * z) - 1 / (4 * sigmaB * sigmaB)
        guard remaining > 0, remaining.isFinite else {
            throw VeilError(.invalidParameter, "adaptive clipping needs count_noise_stddev σ_b > z/2 = \(z / 2) "
                            + "(the count's noise cannot exceed the whole budget)")
        }
        return 1 / remaining.squareRoot()
    }

    /// The DP event of `roundsRun` rounds (nil for non-private FedAvg). DP-FTRL: every pass begun counts whole.
    public func event(rounds roundsRun: Int) -> DPEvent? {
        guard let z = noiseMultiplier else { return nil }
        if let ddg = distributedGaussian { return ddg.event(rounds: roundsRun) }
        if let perPass = roundsPerPass, let height = treeHeight {
            return Self.ftrlEvent(noiseMultiplier: z, height: height, passes: (roundsRun + perPass - 1) / perPass)
        }
        return NoiseCalibration.dpsgdEvent(samplingRate: samplingRate, noiseMultiplier: z, steps: roundsRun)
    }

    /// DP-FTRL's event (Kairouz et al. 2021, §4 and Appendix D): per pass, one tree whose nodes carry N(0, σ²C²) and in
    /// which a client's clipped update (norm ≤ C) enters at most h nodes, so the pass is a Gaussian mechanism of
    /// sensitivity √h·C, noise multiplier σ/√h, ρ = h/(2σ²); passes compose.
    public static func ftrlEvent(noiseMultiplier z: Double, height: Int, passes: Int) -> DPEvent {
        .selfComposed(event: .gaussian(noiseMultiplier: z / Double(height).squareRoot()), count: passes)
    }

    /// ε of `roundsRun` rounds at the target δ (nil for FedAvg): the distributed discrete Gaussian's accounting, or the
    /// plan's accountant on ``event(rounds:)``.
    public func epsilon(rounds roundsRun: Int) throws -> Double? {
        guard let privacy else { return nil }
        if let ddg = distributedGaussian { return try ddg.epsilon(rounds: roundsRun, delta: privacy.delta) }
        guard let event = event(rounds: roundsRun), let accountant = try makeAccountant() else { return nil }
        return try accountant.epsilon(for: event, delta: privacy.delta)
    }

    /// The plan with `aggregation: ddg` calibrated for a model of `dimension` parameters
    /// (``DistributedGaussianPlan/calibrate(dimension:clipNorm:expectedClients:maximumClients:bitWidth:rounds:targetEpsilon:delta:)``):
    /// ε is the DDG accounting's, the server adds no noise, and `noiseMultiplier` is σ/C for the record. Other
    /// aggregations return the plan unchanged. Depends on declared figures and the model's size only.
    public func withDistributedGaussian(dimension: Int) throws -> FederatedPlan {
        guard case .distributedDiscreteGaussian(let bitWidth) = settings.aggregation, let privacy else { return self }
        let ddg = try DistributedGaussianPlan.calibrate(
            dimension: dimension, clipNorm: privacy.clipNorm, expectedClients: settings.clientsPerRound,
            maximumClients: settings.declaredClients, bitWidth: bitWidth, rounds: rounds,
            targetEpsilon: privacy.targetEpsilon, delta: privacy.delta)
        var plan = self
        plan.distributedGaussian = ddg
        plan.noiseMultiplier = ddg.noiseStandardDeviation / privacy.clipNorm
        plan.updateNoiseMultiplier = plan.noiseMultiplier
        plan.plannedEpsilon = try ddg.epsilon(rounds: rounds, delta: privacy.delta)
        return plan
    }

    /// The accountant of this plan: zCDP for DP-FTRL (its accounting in the paper), else the pipeline's.
    public func makeAccountant() throws -> (any PrivacyAccountant)? {
        guard let privacy else { return nil }
        return settings.algorithm == .dpFTRL ? ZCDPAccountant() : try privacy.accountant.makeAccountant()
    }
}
