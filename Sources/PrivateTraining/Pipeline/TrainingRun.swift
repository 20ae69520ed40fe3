import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms

/// A training run as `veil train` performs it, in two steps that follow docs/design.md §2 rule 3.
///
/// ``prepare(pipeline:source:analyst:charger:)`` checks everything that can fail without drawing
/// noise — the pipeline's numbers, the plan and σ (from the declared size, so before any data is read),
/// the output path, the charger's budget, then the data, the model's size and the output folder — and
/// builds the model. Nothing is reserved, so a failure here costs no budget.
/// ``execute(progressInterval:progress:)`` then reserves the planned cost, runs DP-SGD, writes the
/// model file, commits the reservation with the file's SHA-256, and evaluates the test split if the
/// pipeline has one; from the reservation on, the charge stands whatever happens.
public struct TrainingRun {
    /// What a finished run released and spent.
    public struct Release: Sendable {
        /// The model file written.
        public var modelPath: String
        /// Its privacy card (with the ledger entry).
        public var card: PrivacyCard
        /// Steps, ε, time and expected examples of the loop.
        public var outcome: TrainingOutcome
        /// The lowercase hexadecimal SHA-256 of the model file, the digest the ledger entry was committed with.
        public var modelDigest: String
        /// The ledger reservation the run was charged to (nil for a non-private run).
        public var reservation: Reservation?
        /// The ledger file charged (nil for a non-private run).
        public var ledgerPath: String?
        /// Accuracy and loss on the pipeline's test split, if it has one: exact statistics of that split,
        /// for the operator (see docs/training.md, "What a training run releases").
        public var evaluation: Evaluation?
    }

    /// The pipeline, with any overrides applied.
    public let pipeline: TrainingPipeline
    /// The validated plan (σ calibrated, steps fixed).
    public let plan: TrainingPlan
    private let train: Dataset
    private let test: Dataset?
    private var model: SequentialModel
    /// The fixed feature layers in front of `model` (already applied to `train` and `test`), and the shape
    /// of the raw examples they take; the model file holds them followed by `model`.
    private let featureLayers: FixedFeatureLayers
    private let rawInputShape: ImageShape
    private let metadata: [String: String]
    private let charger: (any BudgetCharger)?
    private let analyst: String
    private let purpose: String

    /// Warnings that do not stop the run (e.g. δ ≥ 1/N, training without privacy).
    public var warnings: [String] { plan.warnings }

    /// Checks and loads everything a run needs before its budget is reserved.
    /// - Parameters:
    ///   - pipeline: the pipeline (overrides such as `--epochs` already applied).
    ///   - source: names the pipeline in messages and in the ledger's purpose (e.g. its file name).
    ///   - analyst: who trains, recorded with the ledger charge.
    ///   - charger: makes the charger of a DP run for the pipeline's `privacy.ledger_scope` (e.g. a
    ///     ``LedgerBudgetCharger`` over the ledger it opens); not called for a non-private run.
    ///   - status: receives the progress lines of fixed features (see ``FixedFeatureLayers/apply(to:cache:part:status:)``).
    /// - Throws: `VeilError` with one line: `invalidParameter`/`invalidInput` for the pipeline, the output path,
    ///   the data or the model's size, `unknownScope` or a ledger error for the ledger. Nothing is reserved.
    public static func prepare(pipeline: TrainingPipeline, source: String, analyst: String,
                               charger makeCharger: (_ scope: String) throws -> any BudgetCharger,
                               status: (String) -> Void = { _ in }) throws -> TrainingRun {
        // Before any data is read: the plan (declared N), the output path, the ledger and its scope.
        try ModelFileDestination.validate(pipeline.output)
        var plan = try TrainingPlan(datasetSize: pipeline.size, training: pipeline.training, privacy: pipeline.privacy)
        var charger: (any BudgetCharger)? = nil
        if pipeline.privacy != nil {
            // Charge before release (docs/design.md §2 rule 3): a DP run is never trained uncharged.
            guard let scope = pipeline.ledgerScope else {
                throw VeilError(.invalidInput, """
                    privacy.ledger_scope is not set in \(source): a DP run must be charged to a privacy budget \
                    (create one with `veil budget create SCOPE --epsilon E --delta D` and name it there)
                    """)
            }
            let opened = try makeCharger(scope)
            try opened.checkBudget()
            charger = opened
        }
        // Then the data, the model's size and the output folder.
        let (rawTrain, rawTest) = try pipeline.loadData()
        let architecture = pipeline.layerSpecifications
        _ = try ArchitectureFootprint(architecture: architecture, inputShape: rawTrain.inputShape)
        // Fixed features (none for most pipelines) are computed once here, from each example alone; the
        // model trained is the head after them.
        let fixed = FixedFeatureLayers(architecture: architecture)
        // Augmented views are made from each image alone, before the features (which then cover them too).
        let viewed = try pipeline.augmentation.map { try $0.apply(to: rawTrain) } ?? rawTrain
        let (train, test) = try fixed.apply(train: viewed, test: rawTest, settings: pipeline.features, status: status)
        // Statistics released under DP before the steps are charged with them: σ is calibrated for both. Their
        // cost depends on the settings and the number of channels only.
        if let normalization = pipeline.features.dpNormalization {
            plan = try TrainingPlan(datasetSize: pipeline.size, training: pipeline.training, privacy: pipeline.privacy,
                                    preprocessing: normalization.event(channels: train.inputShape.channels))
        }
        var secure = SecureRandomSource()
        let model = try SequentialModel(architecture: fixed.head, inputShape: train.inputShape, random: &secure)
        try model.footprint.checkBatch(pipeline.training.maxPhysicalBatchSize * train.views,
                                       name: train.views == 1 ? "max physical batch size"
                                           : "max physical batch size × \(train.views) views")
        try ModelFileDestination.prepare(pipeline.output)
        // The data's fingerprint goes to the access-controlled ledger, never into the model file.
        let purpose = "veil train \(source) → \(pipeline.output) (training data sha256:\(train.sha256))"
        return TrainingRun(pipeline: pipeline, plan: plan, train: train, test: test, model: model,
                           featureLayers: fixed, rawInputShape: rawTrain.inputShape,
                           metadata: [TrainingDataDescription.metadataKey: pipeline.dataDescription(trainedOn: train).json],
                           charger: charger, analyst: analyst, purpose: purpose)
    }

    /// Reserves the planned cost, trains, writes the model file and commits the reservation with its digest.
    /// - Parameters:
    ///   - progressInterval: report every this many steps (and after the last).
    ///   - progress: called with each report (step, ε spent, expected throughput: no loss, no batch sizes).
    /// - Returns: what was released and spent.
    /// - Throws: `budgetExhausted` when the ledger refuses the reservation (nothing drawn, nothing written);
    ///   after the reservation, any failure leaves the charge standing.
    public func execute(progressInterval: Int, progress: (TrainingProgress) -> Void = { _ in }) throws -> Release {
        var model = self.model
        var secure = SecureRandomSource()
        var order: any RandomSource = pipeline.seed.map { InsecureSeededRandomSource(seed: $0) as any RandomSource }
            ?? SecureRandomSource()
        var orderSource = AnyRandomSource(&order)
        var (train, test, featureLayers) = (self.train, self.test, self.featureLayers)
        var notes = (pipeline.features.cardNote.map { [$0] } ?? []) + (pipeline.augmentation.map { [$0.cardNote] } ?? [])
        var reserved: Reservation? = nil
        if let normalization = pipeline.features.dpNormalization, let charger, let privacy = plan.privacy,
           let event = plan.event(stepsTaken: plan.steps), let epsilon = plan.plannedEpsilon {
            // Charge before release: the whole run (statistics and steps) is reserved before the statistics are.
            reserved = try charger.reserve(event: event, cost: PrivacyParameters.cost(epsilon: epsilon, delta: privacy.delta),
                                           analyst: analyst, purpose: purpose)
            var layer = try normalization.release(features: train.features, shape: train.inputShape,
                                                  declaredSize: plan.datasetSize, using: &secure)
            train.features = layer.forward(train.features)
            if var split = test {
                split.features = layer.forward(split.features)
                test = split
            }
            featureLayers = FixedFeatureLayers(features: featureLayers.features + [layer.specification],
                                               head: featureLayers.head)
            notes.append(normalization.cardNote)
        }
        let outcome = try DPSGDTrainer.train(
            model: &model, data: train, plan: plan, charger: charger, analyst: analyst, purpose: purpose,
            privacyRandom: &secure, orderRandom: &orderSource,
            progressInterval: progressInterval, ledgerScope: pipeline.ledgerScope,
            notes: notes, reserved: reserved, progress: progress)
        var card = outcome.card
        if let charger, let reservation = outcome.reservation {
            card.ledgerEntry = charger.entryReference(for: reservation)
        }
        let released = try featureLayers.released(head: model, rawInputShape: rawInputShape)
        let digest = try SafetensorsFile.write(model: released, card: card, to: pipeline.output, extraMetadata: metadata)
        if let charger, let reservation = outcome.reservation {
            try charger.commit(reservation, resultDigest: "sha256:" + digest)
        }
        // Evaluating on the test split is the operator's own use of their data, shown to them only.
        let evaluation = try test.map { try Evaluation(model: model, data: $0) }
        return Release(modelPath: pipeline.output, card: card, outcome: outcome, modelDigest: digest,
                       reservation: outcome.reservation, ledgerPath: charger?.ledgerPath, evaluation: evaluation)
    }
}

/// A random source that forwards to an existential one (the data-order source is chosen at run time).
private struct AnyRandomSource: RandomSource {
    private var base: any RandomSource
    init(_ base: inout any RandomSource) { self.base = base }
    mutating func next() -> UInt64 { base.next() }
}
