import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// A one-run audit of a training run (Steinke, Nasr & Jagielski 2023, "Privacy Auditing with One (1)
/// Training Run", NeurIPS; black-box setting with input-space canaries).
///
/// `m` canaries are drawn from held-out examples (the test split, never trained on otherwise) and given a
/// wrong label, uniform among the other classes, so that the model only predicts that label where it has
/// learnt the canary itself. Each canary joins the training set independently with probability ½. One run of
/// the training algorithm is made on the training set plus the chosen canaries, exactly as `veil train`
/// trains it (same plan, Poisson sampling, clipping and noise). The auditor then scores every canary by the
/// final model's loss on its wrong label, guesses "included" for the `r/2` lowest losses and "excluded" for
/// the `r/2` highest, and abstains on the rest. ``OneRunAudit`` turns the right guesses into ε̂.
///
/// What the audit can show: the guesses can only beat a coin by as much as the training run lets one example
/// move the model, so a run that is (ε, δ)-DP per example gives ε̂ ≤ ε with probability at least the
/// confidence. It sees the final model only, the usual deployment; such black-box bounds are known to lie far
/// below the claimed ε for correct DP-SGD (the paper's CIFAR-10 runs, and Jagielski et al. 2020), so the audit
/// catches a run with far too little noise or clipping — not an accountant that is a few percent off.
///
/// The run is a throw-away: the model is never written, and the cost is charged to no ledger
/// (``InsecureUnrecordedBudgetCharger``) because nothing is released. The audit reads the data as its owner
/// would and its figures are not differentially private: the report carries counts of guesses and bounds,
/// never a loss, a label or an index of an example.
public struct TrainingAudit: OneRunAuditReport, Sendable {
    /// The claimed (ε, δ) of the training run.
    public let claim: PrivacyClaim
    /// The bound and the counts behind it.
    public let result: OneRunAudit
    /// How many canaries the run trained on (about half of ``OneRunAudit/canaries``; random, not data).
    public let includedCanaries: Int
    /// Steps of the run.
    public let steps: Int
    /// Seconds the training took.
    public let trainingSeconds: Double

    /// Audits one training run.
    ///
    /// - Parameters:
    ///   - train: the training set (after any fixed feature layers).
    ///   - canaryPool: held-out examples to draw the canaries from, shaped like `train`; at least `canaries`.
    ///   - architecture: the trained model's layers (the head after any fixed feature layers).
    ///   - plan: the training plan, as `veil train` would run it.
    ///   - claim: the (ε, δ) to test; `nil` takes the plan's planned ε and δ (a non-private plan needs one).
    ///   - canaries: `m ≥ 2`.
    ///   - guesses: `r`, even, in `2...m` (half guessed included, half excluded).
    ///   - confidence: in (0, 1).
    ///   - source: draws the canaries, their wrong labels and their inclusion, and drives the training run's
    ///     sampling and noise: a ``SecureRandomSource`` outside tests.
    ///   - progress: the training run's progress reports.
    /// - Throws: ``VeilError`` (`invalid_parameter`, `invalid_input`) naming what is out of range, before
    ///   anything is trained.
    public init<R: RandomSource>(train: Dataset, canaryPool: Dataset, architecture: [LayerSpecification],
                                 plan: TrainingPlan, claim: PrivacyClaim? = nil, canaries: Int, guesses: Int,
                                 confidence: Double = 0.95, using source: inout R,
                                 progress: (TrainingProgress) -> Void = { _ in }) throws {
        try OneRunAudit.checkCounts(canaries: canaries, guesses: guesses)
        try ParameterCheck.confidenceLevel(confidence, name: "confidence")
        guard canaryPool.count >= canaries else {
            throw VeilError(.invalidInput, """
                \(canaries) canaries need as many held-out examples to draw them from; the test split has \
                \(canaryPool.count) (use --canaries \(canaryPool.count) or fewer)
                """)
        }
        guard canaryPool.inputShape.count == train.inputShape.count, canaryPool.classCount == train.classCount else {
            throw VeilError(.invalidInput, "the held-out examples are not shaped like the training set")
        }
        self.claim = try claim ?? OneRunAudit.plannedClaim(epsilon: plan.plannedEpsilon, delta: plan.privacy?.delta)

        let drawn = CanarySet(pool: canaryPool, count: canaries, using: &source)
        let augmented = try drawn.trainingSet(adding: train)
        var model = try SequentialModel(architecture: architecture, inputShape: train.inputShape, random: &source)
        // The same memory check as `veil train` (TrainingRun.prepare), before anything is trained.
        try model.footprint.checkBatch(plan.training.maxPhysicalBatchSize)
        // Shuffles the batches of a non-private plan only; DP steps draw from `source`.
        var order = InsecureSeededRandomSource(seed: source.next())
        let outcome = try DPSGDTrainer.train(
            model: &model, data: augmented, plan: plan,
            charger: plan.privacy == nil ? nil : InsecureUnrecordedBudgetCharger(),
            analyst: "veil audit training", purpose: "one-run audit (throw-away model)",
            privacyRandom: &source, orderRandom: &order, progressInterval: max(1, plan.steps / 10),
            progress: progress)
        let correct = drawn.rightGuesses(model: model, guesses: guesses)
        result = try OneRunAudit(canaries: canaries, guesses: guesses, correct: correct, delta: self.claim.delta,
                                 confidence: confidence)
        includedCanaries = drawn.included.filter { $0 }.count
        steps = outcome.steps
        trainingSeconds = outcome.seconds
    }

    /// Audits one run of a `veil train` pipeline, its canaries drawn from the pipeline's test split.
    ///
    /// The data are loaded and put through any fixed feature layers as `veil train` does (reading or
    /// filling the same feature cache); nothing is reserved and no model file is written.
    /// - Parameters:
    ///   - status: the feature layers' progress lines.
    ///   - Other parameters: as in ``init(train:canaryPool:architecture:plan:claim:canaries:guesses:confidence:using:progress:)``.
    /// - Throws: ``VeilError`` for the pipeline, its data or the parameters, before anything is trained.
    public init<R: RandomSource>(pipeline: TrainingPipeline, claim: PrivacyClaim? = nil, canaries: Int,
                                 guesses: Int, confidence: Double = 0.95, using source: inout R,
                                 status: (String) -> Void = { _ in },
                                 progress: (TrainingProgress) -> Void = { _ in }) throws {
        guard pipeline.features.dpNormalization == nil else {
            throw VeilError(.invalidInput, "model.normalization type dp is not audited yet: audit the pipeline with "
                            + "type: group, or without the normalisation")
        }
        guard pipeline.augmentation == nil else {
            throw VeilError(.invalidInput, "training.augmentation is not audited yet: audit the pipeline without it")
        }
        let plan = try TrainingPlan(datasetSize: pipeline.size, training: pipeline.training, privacy: pipeline.privacy)
        let (rawTrain, rawTest) = try pipeline.loadData()
        guard let rawTest else {
            throw VeilError(.invalidInput, "the pipeline has no test split: the canaries are drawn from held-out "
                            + "examples (data.test_images and test_labels, data.test, or data.test_table)")
        }
        let fixed = FixedFeatureLayers(architecture: pipeline.layerSpecifications)
        let (train, test) = try fixed.apply(train: rawTrain, test: rawTest, settings: pipeline.features, status: status)
        try self.init(train: train, canaryPool: test ?? rawTest, architecture: fixed.head, plan: plan, claim: claim,
                      canaries: canaries, guesses: guesses, confidence: confidence, using: &source, progress: progress)
    }
}

/// The outcome of a one-run canary audit: the claim tested and the bound its guesses prove.
public protocol OneRunAuditReport: Sendable {
    /// The claimed (ε, δ).
    var claim: PrivacyClaim { get }
    /// The bound and the counts behind it.
    var result: OneRunAudit { get }
    /// How many canaries were trained on (about half; random, not data).
    var includedCanaries: Int { get }
}

extension OneRunAuditReport {
    /// With probability at least the confidence, the run's true ε is at least this.
    public var epsilonLowerBound: Double { result.epsilon }

    /// Whether ``epsilonLowerBound`` exceeds the claimed ε.
    public var exceedsClaim: Bool { epsilonLowerBound > claim.epsilon }
}

extension OneRunAudit {
    /// Checks the counts of a canary audit: `m ≥ 2` canaries and an even number of guesses in `2...m`.
    static func checkCounts(canaries: Int, guesses: Int) throws {
        try ParameterCheck.count(canaries, name: "canaries", minimum: 2)
        guard guesses >= 2, guesses <= canaries, guesses % 2 == 0 else {
            throw VeilError.invalidParameter("guesses", guesses, allowed: "even, in 2...\(canaries) (the canaries)")
        }
    }

    /// The claim of a run's plan: its planned ε and δ, or a refusal for a run without privacy.
    static func plannedClaim(epsilon: Double?, delta: Double?) throws -> PrivacyClaim {
        guard let epsilon, let delta else {
            throw VeilError(.invalidParameter, "a training run without differential privacy claims no ε: "
                            + "give the ε (and δ) to audit it against")
        }
        return try PrivacyClaim(epsilon: epsilon, delta: delta)
    }
}

/// The canaries of a one-run audit: held-out examples with wrong labels, in groups (one example each for
/// DP-SGD, one client's examples for federated training), each group included with probability ½.
struct CanarySet {
    /// The canaries' examples, one per row, group after group.
    let features: Matrix
    /// Their wrong labels.
    let labels: [Int32]
    /// Examples in each group.
    let groupSize: Int
    /// Whether each group joins the training set.
    let included: [Bool]

    /// Draws `count × groupSize` distinct examples of `pool` uniformly, a label uniform among the
    /// `classCount − 1` wrong ones for each, and a fair coin for each group's inclusion.
    init<R: RandomSource>(pool: Dataset, count: Int, groupSize: Int = 1, using source: inout R) {
        let total = count * groupSize
        // A partial Fisher–Yates shuffle: the first `total` positions are a uniform sample without replacement.
        var order = Array(0..<pool.count)
        for i in 0..<total {
            order.swapAt(i, i + Int(source.uniform(below: UInt64(pool.count - i))))
        }
        let chosen = Array(order[0..<total])
        features = pool.features.gatherRows(chosen)
        labels = chosen.map { index in
            let shift = 1 + Int32(source.uniform(below: UInt64(pool.classCount - 1)))
            return (pool.labels[index] + shift) % Int32(pool.classCount)
        }
        self.groupSize = groupSize
        included = (0..<count).map { _ in source.bit() }
    }

    /// The rows of the included groups, group after group.
    var includedRows: [Int] {
        included.indices.filter { included[$0] }.flatMap { ($0 * groupSize)..<(($0 + 1) * groupSize) }
    }

    /// `train` followed by the included canaries' examples (``includedRows``, in order).
    func trainingSet(adding train: Dataset) throws -> Dataset {
        let rows = includedRows
        var storage = train.features.storage
        storage.append(contentsOf: features.gatherRows(rows).storage)
        return try Dataset(features: Matrix(rows: train.count + rows.count, columns: train.features.columns,
                                            storage: storage),
                           labels: train.labels + rows.map { labels[$0] }, inputShape: train.inputShape,
                           classCount: train.classCount, sha256: train.sha256 + ":audit-canaries")
    }

    /// Scores every group by `model`'s mean loss on its wrong labels, guesses "included" for the `guesses/2`
    /// lowest and "excluded" for the `guesses/2` highest, and counts the right guesses.
    func rightGuesses(model: SequentialModel, guesses: Int) -> Int {
        let (losses, _) = SoftmaxCrossEntropy.lossAndGradient(logits: model.logits(features), labels: labels[...])
        let scores = included.indices.map { group in
            let mean = losses[(group * groupSize)..<((group + 1) * groupSize)].reduce(0, +) / Float(groupSize)
            // A diverged model's NaN losses rank last (guessed excluded), so that the order stays a total order.
            return mean.isNaN ? Float.infinity : mean
        }
        let ranked = scores.indices.sorted { scores[$0] < scores[$1] }
        let half = guesses / 2
        return ranked.prefix(half).filter { included[$0] }.count + ranked.suffix(half).filter { !included[$0] }.count
    }
}
