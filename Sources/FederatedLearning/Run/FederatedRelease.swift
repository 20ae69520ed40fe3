import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import PrivateTraining

/// The charging and the release of a federated run, shared by the simulation (``FederatedRun``) and the network
/// server (``FederatedServerRun``): reserve the whole planned run before round 1, write the model file with its
/// privacy card, commit with the file's digest, or — when the run stops after the reservation — commit the whole
/// reservation all the same (the ledger has no partial commit).
struct FederatedRelease: Sendable {
    let plan: FederatedPlan
    let local: LocalTraining
    let clients: ClientSource?
    let charger: (any BudgetCharger)?
    let analyst: String
    let purpose: String
    let ledgerScope: String?
    let output: String
    let metadata: [String: String]
    /// The card's note on fixed features that open the model (`model.features`), if any.
    var featureNote: String? = nil

    /// The charger of a DP pipeline's `privacy.ledger_scope`, its budget checked to exist; nil for FedAvg.
    /// - Throws: `VeilError.invalidInput` when a DP pipeline names no scope; whatever the charger throws.
    static func openCharger(pipeline: FederatedPipeline, source: String,
                            makeCharger: (_ scope: String) throws -> any BudgetCharger) throws -> (any BudgetCharger)? {
        guard pipeline.base.privacy != nil else { return nil }
        // Charge before release (docs/design.md §2 rule 3): a DP run is never run uncharged.
        guard let scope = pipeline.base.ledgerScope else {
            throw VeilError(.invalidInput, """
                privacy.ledger_scope is not set in \(source): a DP federated run must be charged to a privacy budget \
                (create one with `veil budget create SCOPE --epsilon E --delta D` and name it there)
                """)
        }
        let charger = try makeCharger(scope)
        try charger.checkBudget()
        return charger
    }

    /// The accountant a DDG run's card names.
    static let distributedGaussianAccountant = "ddg"
    /// The noise a DDG run's card describes.
    static let distributedGaussianNoise = "distributed discrete Gaussian with secure aggregation: each client's "
        + "discrete Gaussian noise from Veil's exact sampler (Canonne, Kamath, Steinke 2020) on words of an AES-256-CTR "
        + "fast-key-erasure stream keyed with 256 bits from the OS CSPRNG, one per client and round; the server adds none"

    /// Reserves the planned cost of every round (nil for FedAvg).
    func reserve() throws -> Reservation? {
        guard let charger, let privacy = plan.privacy, let event = plan.event(rounds: plan.rounds),
              let planned = plan.plannedEpsilon else { return nil }
        return try charger.reserve(event: event, cost: PrivacyParameters.cost(epsilon: planned, delta: privacy.delta),
                                   analyst: analyst, purpose: purpose)
    }

    /// Writes the model file with its card and commits the reservation with the file's SHA-256.
    func release(model: SequentialModel, roundsRun: Int, reservation: Reservation?) throws -> (card: PrivacyCard, digest: String) {
        var card = try self.card(roundsRun: roundsRun)
        if let charger, let reservation { card.ledgerEntry = charger.entryReference(for: reservation) }
        let digest = try SafetensorsFile.write(model: model, card: card, to: output, extraMetadata: metadata)
        if let charger, let reservation { try charger.commit(reservation, resultDigest: "sha256:" + digest) }
        return (card, digest)
    }

    /// Commits the whole reservation of a run that stopped after it was made.
    func stopEarly(_ reservation: Reservation?, roundsRun: Int) {
        if let charger, let reservation {
            try? charger.commit(reservation, resultDigest: "stopped-early:after-round-\(roundsRun)")
        }
    }

    /// ε of `roundsRun` rounds (nil for FedAvg).
    func epsilon(roundsRun: Int) throws -> Double? {
        try plan.epsilon(rounds: roundsRun)
    }

    /// The released model's privacy card: client-level, declared clients, rounds, q, σ, C, accountant.
    func card(roundsRun: Int) throws -> PrivacyCard {
        let f = plan.settings
        var notes = [
            "federated: \(f.rounds) rounds planned, \(roundsRun) run; "
                + (f.algorithm == .dpFTRL ? "each pass deals every client into one round, no sampling; "
                                          : "each round Poisson-samples clients at rate q; ")
                + "a client trains locally (\(local.epochs) epochs, batch \(local.batchSize), \(local.optimizer.name), "
                + "learning rate \(local.learningRate)); server optimiser \(f.serverOptimizer.name) at learning rate "
                + "\(f.serverLearningRate)",
            "declared_dataset_size is the declared number of clients N; steps are rounds",
        ] + (featureNote.map { [$0] } ?? [])
        guard let privacy = plan.privacy, let z = plan.noiseMultiplier, let epsilon = try epsilon(roundsRun: roundsRun) else {
            return PrivacyCard(
                differentiallyPrivate: false, epsilon: nil, delta: nil, accountant: nil, noiseMultiplier: nil,
                clipNorm: nil, samplingRate: plan.samplingRate, steps: roundsRun, expectedBatchSize: nil,
                targetEpsilon: nil, privacyUnit: "one client", sampling: "Poisson client sampling (no privacy guarantee)",
                noise: nil, declaredDatasetSize: f.declaredClients, ledgerScope: nil,
                notes: ["trained WITHOUT differential privacy (FedAvg)"] + notes)
        }
        if let a = f.adaptiveClipping, let sigmaDelta = plan.updateNoiseMultiplier {
            notes.append("adaptive clipping (Andrew et al. 2021): C starts at \(privacy.clipNorm) and follows the "
                         + "\(a.targetQuantile) quantile of update norms (η_C = \(a.learningRate), count noise σ_b = "
                         + "\(a.countNoiseStandardDeviation)); update noise multiplier σ_Δ = \(sigmaDelta), effective "
                         + "noise multiplier z = \(z) (what the accountant uses)")
        }
        if let ddg = plan.distributedGaussian {
            notes.append("aggregation: distributed discrete Gaussian with secure aggregation (Kairouz, Liu, Steinke 2021): "
                         + "each client rotated its clipped update, rounded it to a grid of step γ = "
                         + "\(ddg.parameters.granularity), added discrete Gaussian noise (exact sampler) and masked it "
                         + "modulo 2^\(ddg.parameters.bitWidth) (SecAgg+); the server saw only the noisy sum and added no "
                         + "noise; σ = \(ddg.noiseStandardDeviation) with \(ddg.expectedClients) clients, certified for "
                         + "\(ddg.minimumClients); no sampling amplification claimed")
        }
        if let quantizer = plan.updateQuantizer {
            notes.append("aggregation: secure aggregation (SecAgg+, Bell et al. 2020): each client's clipped update "
                         + "quantised by stochastic rounding to a grid of step C/\(quantizer.levels) modulo "
                         + "2^\(quantizer.bitWidth) (no wrap-around for up to \(quantizer.maximumClients) clients) and "
                         + "masked; the server unmasked only the sum and added the Gaussian noise")
        }
        let unit: String
        switch clients {
        case .column(let column): unit = "one client: every example sharing one value of \(column)"
        case .split: unit = "one client (one simulated client's examples)"
        case nil: unit = "one client (one roster entry's data)"
        }
        if let perPass = plan.roundsPerPass, let height = plan.treeHeight {
            notes.append("DP-FTRL with tree aggregation (Kairouz et al. 2021): no sampling, each client in at most one "
                         + "round of each pass of \(perPass) rounds, the tree (height \(height)) restarted each pass; "
                         + "zCDP accounting; sampling_rate is the share of clients per round")
        }
        let sampling = plan.roundsPerPass == nil
            ? "DP-FedAvg (McMahan et al. 2018): Poisson client sampling (each client independently with "
                + "probability q: " + PoissonSampler.randomnessDescription + "); each client's update clipped to L2 norm C; sum divided by q·N with the "
                + "declared N"
            : "DP-FTRL: clients shuffled each pass (OS CSPRNG) and dealt clients_per_round a round; each update "
                + "clipped to L2 norm C; noisy prefix sums by tree aggregation"
        let accountant: String?
        if plan.distributedGaussian != nil {
            accountant = Self.distributedGaussianAccountant
        } else {
            accountant = try plan.makeAccountant()?.name
        }
        return PrivacyCard(
            differentiallyPrivate: true, epsilon: epsilon, delta: privacy.delta, accountant: accountant,
            noiseMultiplier: z, clipNorm: privacy.clipNorm, samplingRate: plan.samplingRate, steps: roundsRun,
            expectedBatchSize: plan.expectedClientsPerRound, targetEpsilon: privacy.targetEpsilon, privacyUnit: unit,
            sampling: sampling,
            noise: plan.distributedGaussian != nil ? Self.distributedGaussianNoise : GaussianNoiseSampler.methodDescription,
            declaredDatasetSize: f.declaredClients,
            ledgerScope: ledgerScope, notes: notes + (charger?.releaseNotes ?? []))
    }
}
