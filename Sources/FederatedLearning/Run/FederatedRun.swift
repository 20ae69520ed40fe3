import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// A simulated federated run (all clients in one process), in the two steps of `TrainingRun` (docs/design.md §2
/// rule 3).
///
/// ``prepare(pipeline:source:analyst:charger:)`` checks everything that can fail without drawing noise — the plan
/// and σ (from declared figures, before any data is read), the output path, the budget, then the data, the clients
/// and the model — and reserves nothing. ``execute(aggregator:dropoutRate:privacyRandom:orderRandom:progressInterval:evaluationInterval:progress:)``
/// reserves the whole planned run before round 1, runs the rounds, writes the model file and commits the
/// reservation with the file's SHA-256. If the run stops after the reservation (an error in a round, a failed
/// write), the whole reservation is committed all the same: the ledger has no partial commit, and charging the
/// full plan is the conservative choice (docs/federated.md, "The ledger").
public struct FederatedRun {
    /// What a finished run released and spent.
    public struct Release: Sendable {
        /// The model file written.
        public var modelPath: String
        /// Its privacy card (with the ledger entry).
        public var card: PrivacyCard
        /// Rounds run.
        public var rounds: Int
        /// ε of the rounds run (nil for FedAvg).
        public var epsilon: Double?
        /// Wall time of the rounds.
        public var seconds: Double
        /// The lowercase hexadecimal SHA-256 of the model file.
        public var modelDigest: String
        /// The reservation charged (nil for FedAvg).
        public var reservation: Reservation?
        /// The ledger file charged (nil for FedAvg or an unrecorded charger).
        public var ledgerPath: String?
        /// Accuracy and loss on the pipeline's test split, for the operator.
        public var evaluation: Evaluation?
        /// The trained model without the fixed feature layers in front (the whole released model when the
        /// pipeline has none): it takes examples as the clients trained on them.
        public var head: SequentialModel
    }

    /// The pipeline, with any overrides applied.
    public let pipeline: FederatedPipeline
    /// The validated plan.
    public let plan: FederatedPlan
    /// The clients.
    public let data: FederatedData
    private let model: SequentialModel
    /// The fixed feature layers (already applied to `data`) in front of `model`, and the raw examples' shape.
    private let featureLayers: FixedFeatureLayers
    private let rawInputShape: ImageShape
    private let local: LocalTraining
    private let releasing: FederatedRelease

    /// Warnings that do not stop the run.
    public var warnings: [String] { plan.warnings }

    /// Checks and loads everything a run needs before its budget is reserved; nothing is reserved.
    /// - Parameters:
    ///   - pipeline: the pipeline (overrides applied).
    ///   - source: names the pipeline in the ledger's purpose.
    ///   - analyst: recorded with the charge.
    ///   - charger: makes the charger for the pipeline's `privacy.ledger_scope`; not called for FedAvg.
    ///   - status: receives the progress lines of fixed features (see ``FixedFeatureLayers/apply(to:cache:part:status:)``).
    ///   - editClients: changes the clients once the data are loaded and through the fixed feature layers
    ///     (the one-run privacy audit adds canary clients there); nothing by default.
    /// - Throws: `VeilError` (bad pipeline, data or output path, unknown scope), or what `editClients` throws.
    ///   Nothing is reserved.
    public static func prepare(pipeline: FederatedPipeline, source: String, analyst: String,
                               charger makeCharger: (_ scope: String) throws -> any BudgetCharger,
                               status: (String) -> Void = { _ in },
                               editClients: (inout FederatedData) throws -> Void = { _ in }) throws -> FederatedRun {
        try ModelFileDestination.validate(pipeline.base.output)
        guard pipeline.base.features.dpNormalization == nil else {
            throw VeilError(.invalidInput, "\(source): model.normalization type dp (statistics of the pooled training "
                            + "set) is not available in federated training; use type: group (each client's own examples)")
        }
        guard pipeline.base.augmentation == nil else {
            throw VeilError(.invalidInput, "\(source): training.augmentation is not available in federated training; "
                            + "remove it")
        }
        var plan = try FederatedPlan(settings: pipeline.federated, privacy: pipeline.base.privacy)
        let local = try LocalTraining(pipeline.base.training)
        let charger = try FederatedRelease.openCharger(pipeline: pipeline, source: source, makeCharger: makeCharger)
        var data = try FederatedData.load(pipeline)
        // Fixed features (a scattering transform, group normalisation) are a function of each example alone, as
        // a client would compute them on its own device; they are computed once here and the clients train the
        // head after them.
        let fixed = FixedFeatureLayers(architecture: pipeline.base.layerSpecifications)
        let rawInputShape = data.examples.inputShape
        (data.examples, data.test) = try fixed.apply(train: data.examples, test: data.test,
                                                     settings: pipeline.base.features, status: status)
        try editClients(&data)
        var secure = SecureRandomSource()
        let model = try SequentialModel(architecture: fixed.head, inputShape: data.examples.inputShape, random: &secure)
        try model.footprint.checkBatch(pipeline.base.training.maxPhysicalBatchSize)
        // The distributed discrete Gaussian is calibrated to the model's size (declared architecture and input).
        plan = try plan.withDistributedGaussian(dimension: model.parameterCount)
        try ModelFileDestination.prepare(pipeline.base.output)
        let purpose = "veil federated \(source) → \(pipeline.base.output) (training data sha256:\(data.examples.sha256))"
        let releasing = FederatedRelease(
            plan: plan, local: local, clients: pipeline.federated.clients, charger: charger, analyst: analyst,
            purpose: purpose, ledgerScope: pipeline.base.ledgerScope, output: pipeline.base.output,
            metadata: [TrainingDataDescription.metadataKey: pipeline.base.dataDescription(trainedOn: data.examples).json],
            featureNote: pipeline.base.features.cardNote)
        return FederatedRun(pipeline: pipeline, plan: plan, data: data, model: model, featureLayers: fixed,
                            rawInputShape: rawInputShape, local: local, releasing: releasing)
    }

    /// Runs with the aggregation the pipeline names (``FederatedSettings/aggregation``): ``PlainSumAggregator``, or
    /// ``SecureAggregationAggregator`` or ``DistributedGaussianAggregator`` with the OS CSPRNG for the clients' rounding,
    /// noise and keys. With secure aggregation
    /// the dropout rate applies inside the protocol (a client stops before or after its masked input), not before
    /// local training. See ``execute(aggregator:dropoutRate:privacyRandom:orderRandom:progressInterval:evaluationInterval:progress:)``.
    public func execute<P: RandomSource, O: RandomSource>(
        dropoutRate: Double = 0, privacyRandom: inout P, orderRandom: inout O,
        progressInterval: Int = 1, evaluationInterval: Int? = nil, progress: (FederatedProgress) -> Void = { _ in }
    ) throws -> Release {
        // The protocol's aggregators drop clients inside the protocol; the plain sum drops them before training.
        var aggregator: any UpdateAggregator
        switch plan.settings.aggregation {
        case .plain:
            aggregator = PlainSumAggregator()
        case .secureAggregation:
            guard let quantizer = plan.updateQuantizer else {
                throw VeilError(.invalidParameter, "aggregation secagg needs a privacy target with clip_norm")
            }
            aggregator = try SecureAggregationAggregator(quantizer: quantizer, dropoutRate: dropoutRate,
                                                         random: SecureRandomSource())
        case .distributedDiscreteGaussian:
            guard let ddg = plan.distributedGaussian else {
                throw VeilError(.invalidParameter, "aggregation ddg needs a privacy target")
            }
            aggregator = try DistributedGaussianAggregator(plan: ddg, dropoutRate: dropoutRate, random: SecureRandomSource())
        }
        return try execute(aggregator: &aggregator, dropoutRate: plan.settings.aggregation == .plain ? dropoutRate : 0,
                           privacyRandom: &privacyRandom, orderRandom: &orderRandom, progressInterval: progressInterval,
                           evaluationInterval: evaluationInterval, progress: progress)
    }

    /// Reserves the planned run, runs every round, writes the model file and commits the reservation.
    /// - Parameters:
    ///   - aggregator: sums each round's updates (``PlainSumAggregator`` by default).
    ///   - dropoutRate: the probability that a sampled client fails to answer (a simulation setting, drawn
    ///     independently of the data).
    ///   - privacyRandom: client sampling and noise (``SecureRandomSource``; a seeded source in tests only).
    ///   - orderRandom: local batch order and simulated dropouts.
    ///   - progressInterval: report every this many rounds (and after the last).
    ///   - evaluationInterval: when set (and the pipeline has a test split), also report every this many rounds
    ///     with the model's accuracy on the test split (``FederatedProgress/testAccuracy``), for the operator's
    ///     accuracy-against-rounds curves; the evaluation reads only the test split and draws nothing.
    ///   - progress: called with each report.
    /// - Throws: `budgetExhausted` when the reservation is refused (nothing drawn); after it, the charge stands.
    public func execute<A: UpdateAggregator, P: RandomSource, O: RandomSource>(
        aggregator: inout A, dropoutRate: Double = 0, privacyRandom: inout P, orderRandom: inout O,
        progressInterval: Int = 1, evaluationInterval: Int? = nil, progress: (FederatedProgress) -> Void = { _ in }
    ) throws -> Release {
        guard dropoutRate >= 0, dropoutRate < 1 else {
            throw VeilError.invalidParameter("dropout rate", dropoutRate, allowed: "in [0, 1)")
        }
        try ParameterCheck.count(progressInterval, name: "progress interval", minimum: 1)
        if let evaluationInterval { try ParameterCheck.count(evaluationInterval, name: "evaluation interval", minimum: 1) }
        var rounds = try FederatedRounds(plan: plan, local: local, model: model, clientCount: data.clients.count)
        let reservation = try releasing.reserve()
        let started = Date()
        do {
            for round in 1...plan.rounds {
                let sampled = rounds.sampleClients(using: &privacyRandom)
                let global = rounds.model
                let outcome = try rounds.runRound(clients: sampled, aggregator: &aggregator,
                                                  privacyRandom: &privacyRandom) { client in
                    if dropoutRate > 0, OpenUnitInterval.sample(&orderRandom) < dropoutRate { return nil }
                    return local.update(from: global, data: data.examples, examples: data.clients[client],
                                        order: &orderRandom)
                }
                let evaluates = evaluationInterval.map { round % $0 == 0 || round == plan.rounds } ?? false
                if round % progressInterval == 0 || round == plan.rounds || evaluates {
                    // Evaluating on the test split is the operator's own use of their data, shown to them only.
                    let model = rounds.model
                    let accuracy = try data.test.flatMap { evaluates ? try Evaluation(model: model, data: $0).accuracy : nil }
                    progress(FederatedProgress(
                        round: round, totalRounds: plan.rounds,
                        clientsReached: data.populationIsPublic ? outcome.reached : nil,
                        clientsDropped: data.populationIsPublic ? outcome.dropped : nil,
                        expectedClients: plan.expectedClientsPerRound, epsilonSpent: try releasing.epsilon(roundsRun: round),
                        clipNorm: rounds.clipNorm, elapsedSeconds: Date().timeIntervalSince(started),
                        testAccuracy: accuracy))
                }
            }
            // The file holds the fixed feature layers in front of the trained head.
            let (card, digest) = try releasing.release(
                model: try featureLayers.released(head: rounds.model, rawInputShape: rawInputShape),
                roundsRun: rounds.roundsDone, reservation: reservation)
            // Evaluating on the test split is the operator's own use of their data, shown to them only.
            let evaluation = try data.test.map { try Evaluation(model: rounds.model, data: $0) }
            return Release(modelPath: pipeline.base.output, card: card, rounds: rounds.roundsDone, epsilon: card.epsilon,
                           seconds: Date().timeIntervalSince(started), modelDigest: digest, reservation: reservation,
                           ledgerPath: releasing.charger?.ledgerPath, evaluation: evaluation, head: rounds.model)
        } catch {
            // Data was read and noise may have been released: the whole reservation stands.
            releasing.stopEarly(reservation, roundsRun: rounds.roundsDone)
            throw error
        }
    }
}
