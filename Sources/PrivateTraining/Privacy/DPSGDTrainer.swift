import Accounting
import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms

/// What the training loop reports while it runs.
public struct TrainingProgress: Sendable {
    /// Steps done.
    public var step: Int
    /// Steps planned.
    public var totalSteps: Int
    /// ε spent so far (nil for non-private training).
    public var epsilonSpent: Double?
    /// Expected training examples per second of wall time: steps × the expected batch size `q·N`
    /// (with the declared `N`) over the elapsed time. Not the realised batch sizes, which are a
    /// function of the data (docs/design.md §2 rule 7); non-private batches have a fixed size.
    public var examplesPerSecond: Double
    /// Seconds since the loop started.
    public var elapsedSeconds: Double
    /// Estimated seconds to the end.
    public var remainingSeconds: Double

    /// `seconds` as progress lines show it: `4m07s`, or `2h05m` from an hour on.
    public static func clockText(seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}

/// The result of a training run.
public struct TrainingOutcome: Sendable {
    /// Steps taken.
    public var steps: Int
    /// The DP event of the steps taken (nil for non-private training).
    public var event: DPEvent?
    /// ε spent by the steps taken.
    public var epsilon: Double?
    /// Wall time of the loop.
    public var seconds: Double
    /// Expected examples processed: steps × the expected batch size (not the realised batch sizes).
    public var examples: Int
    /// The model's privacy card.
    public var card: PrivacyCard
    /// The reservation of the planned cost (nil for non-private training). The trainer does not commit it: the
    /// release is the trained model, so the caller commits it with the model file's digest
    /// (``BudgetCharger/commit(_:resultDigest:)``), as ``TrainingRun`` does. Left open, it counts as spent.
    public var reservation: Reservation?
}

/// DP-SGD (Abadi et al. 2016) with Poisson sampling, per-example clipping by ghost norms, and
/// Gaussian noise; or plain mini-batch training when the plan has no privacy settings.
///
/// One DP step: sample a batch by Poisson sampling at rate q from `privacyRandom`; process it in
/// physical chunks of at most `maxPhysicalBatchSize` examples; for each chunk compute each
/// example's gradient norm without forming per-example gradients (``Layer``), scale example `i`
/// by ``PerExampleClipping/factor(squaredNorm:clipNorm:)`` (0 for a non-finite norm) and accumulate
/// `Σᵢ cᵢ ∇ℓᵢ`; add `N(0, σ²C²)` noise to every coordinate of the sum; divide by the expected batch
/// size `q·N` with the plan's declared `N` (never the realised size, docs/design.md §2 rule 5); apply the
/// optimizer. Poisson sampling at rate `q` is DP with rate `q` whatever the true number of examples,
/// so `q` and the normalisation depend on the declared size only.
public enum DPSGDTrainer {
    /// Trains `model` on `data` according to `plan`.
    ///
    /// - Parameters:
    ///   - model: the model to train in place.
    ///   - data: the training set (any number of examples; the plan's declared size sets `q·N`).
    ///   - plan: the validated plan (σ already calibrated).
    ///   - charger: reserves the planned cost before any noise is drawn (returned as
    ///     ``TrainingOutcome/reservation``). Required for a DP plan (``LedgerBudgetCharger`` in production;
    ///     ``InsecureUnrecordedBudgetCharger`` in tests and experiments); a non-private plan needs none.
    ///   - analyst: who trains, recorded with the reservation.
    ///   - purpose: why, recorded with the reservation.
    ///   - privacyRandom: the source of batch sampling and noise: ``SecureRandomSource`` in
    ///     production; a seeded source only in tests.
    ///   - orderRandom: shuffles non-private batches and nothing else (never used by DP steps).
    ///   - progressInterval: report every this many steps (and after the last).
    ///   - ledgerScope: recorded in the card.
    ///   - notes: added to the privacy card (data-dependent steps outside the DP guarantee).
    ///   - reserved: the reservation of the plan's whole cost when the caller made it already, because it
    ///     released something before the steps (``TrainingPlan/preprocessing``); the trainer then reserves nothing.
    ///   - progress: called with each report.
    /// - Throws: `VeilError.invalidParameter` when a DP plan has no `charger` or the data does not fit the
    ///   plan or the model (before the model changes or any random value is drawn); whatever the charger
    ///   throws to refuse the run (before any noise is drawn).
    public static func train<P: RandomSource, O: RandomSource>(
        model: inout SequentialModel, data: Dataset, plan: TrainingPlan,
        charger: (any BudgetCharger)? = nil, analyst: String = "", purpose: String = "DP-SGD training",
        privacyRandom: inout P, orderRandom: inout O,
        progressInterval: Int = 10, ledgerScope: String? = nil, notes: [String] = [],
        reserved: Reservation? = nil, progress: (TrainingProgress) -> Void = { _ in }
    ) throws -> TrainingOutcome {
        // Charge before release (docs/design.md §2 rule 3): a DP plan without a charger is refused before
        // anything is drawn, so DP training can never run uncharged by omission.
        guard plan.privacy == nil || charger != nil else {
            throw VeilError(.invalidParameter, "a DP training plan needs a privacy budget charger: pass a "
                            + "LedgerBudgetCharger (or, for tests and experiments only, InsecureUnrecordedBudgetCharger); "
                            + "nothing was trained")
        }
        guard data.classCount == model.classCount else {
            throw VeilError(.invalidParameter, "data has \(data.classCount) classes, model outputs \(model.classCount)")
        }
        guard data.inputShape.count == model.inputShape.count else {
            throw VeilError(.invalidParameter, "data examples have shape \(data.inputShape), model expects \(model.inputShape)")
        }
        var optimizer = try Optimizer(kind: plan.training.optimizer, learningRate: plan.training.learningRate)
        var average = plan.training.averageDecay.map { ParameterAverage(decay: $0, initial: model.parameters) }
        let notes = notes + (average.map { [$0.cardNote] } ?? [])
        /// The parameters after a step, and their average.
        func advance(to parameters: [Matrix]) {
            model.parameters = parameters
            average?.update(with: parameters)
        }
        let started = Date()
        var examples = 0
        let accountant = try plan.privacy?.accountant.makeAccountant()

        func report(_ step: Int) throws {
            let elapsed = Date().timeIntervalSince(started)
            var epsilon: Double? = nil
            if let accountant, let event = plan.event(stepsTaken: step), let privacy = plan.privacy {
                epsilon = try accountant.epsilon(for: event, delta: privacy.delta)
            }
            progress(TrainingProgress(
                step: step, totalSteps: plan.steps, epsilonSpent: epsilon,
                examplesPerSecond: elapsed > 0 ? Double(examples) / elapsed : 0, elapsedSeconds: elapsed,
                remainingSeconds: step > 0 ? elapsed / Double(step) * Double(plan.steps - step) : 0))
        }

        guard let privacy = plan.privacy, let sigma = plan.noiseMultiplier, let accountant else {
            // Non-private: shuffled mini-batches, mean gradient.
            let b = min(plan.training.expectedBatchSize, data.count)
            var order = Array(0..<data.count)
            var position = data.count
            for step in 1...plan.steps {
                if position + b > data.count {
                    order.shuffle(using: &orderRandom)
                    position = 0
                }
                let indices = Array(order[position..<(position + b)])
                position += b
                var gradients = accumulate(model: &model, data: data, indices: indices,
                                           chunk: plan.training.maxPhysicalBatchSize, clipNorm: nil)
                for i in gradients.indices { gradients[i].scale(by: 1 / Float(b)) }
                var parameters = model.parameters
                optimizer.update(&parameters, gradients: gradients)
                advance(to: parameters)
                examples += b
                if step % progressInterval == 0 || step == plan.steps { try report(step) }
            }
            if let average { model.parameters = average.parameters }
            let card = PrivacyCard(
                differentiallyPrivate: false, epsilon: nil, delta: nil, accountant: nil, noiseMultiplier: nil,
                clipNorm: nil, samplingRate: nil, steps: plan.steps, expectedBatchSize: nil, targetEpsilon: nil,
                sampling: "shuffled fixed-size batches (no privacy guarantee)", noise: nil,
                declaredDatasetSize: plan.datasetSize, ledgerScope: nil,
                notes: ["trained WITHOUT differential privacy"] + notes)
            return TrainingOutcome(steps: plan.steps, event: nil, epsilon: nil,
                                   seconds: Date().timeIntervalSince(started), examples: examples, card: card,
                                   reservation: nil)
        }

        // DP-SGD. Charge before release: reserve the planned cost before drawing any noise.
        // Everything that can fail without drawing noise happens before the reservation; after it,
        // the first step draws noise, so the reservation stands whatever happens next.
        let sampler = try PoissonSampler(samplingRate: plan.samplingRate, populationSize: data.count)
        // q·N with the declared N: a constant of the plan, never a function of the data.
        let expectedBatchSize = plan.expectedBatchSize
        guard let charger else { preconditionFailure("a DP plan's charger is checked on entry") }
        let reservation = try reserved ?? charger.reserve(
            event: plan.event(stepsTaken: plan.steps)!,
            cost: PrivacyParameters.cost(epsilon: plan.plannedEpsilon!, delta: privacy.delta),
            analyst: analyst, purpose: purpose)
        var noise = GaussianNoiseSampler()
        let noiseStandardDeviation = sigma * privacy.clipNorm
        let normalisation = Float(1 / expectedBatchSize)
        var stepsTaken = 0
        for step in 1...plan.steps {
            let indices = sampler.sample(using: &privacyRandom)
            var gradients = accumulate(model: &model, data: data, indices: indices,
                                       chunk: plan.training.maxPhysicalBatchSize, clipNorm: Float(privacy.clipNorm))
            for i in gradients.indices {
                noise.addNoise(to: &gradients[i].storage, standardDeviation: noiseStandardDeviation, using: &privacyRandom)
                gradients[i].scale(by: normalisation)
            }
            stepsTaken = step
            var parameters = model.parameters
            optimizer.update(&parameters, gradients: gradients)
            advance(to: parameters)
            examples = Int((Double(step) * expectedBatchSize).rounded())
            if step % progressInterval == 0 || step == plan.steps { try report(step) }
        }
        if let average { model.parameters = average.parameters }
        let spent = plan.event(stepsTaken: stepsTaken)!
        let epsilon = try accountant.epsilon(for: spent, delta: privacy.delta)
        let card = PrivacyCard(
            differentiallyPrivate: true, epsilon: epsilon, delta: privacy.delta, accountant: accountant.name,
            noiseMultiplier: sigma, clipNorm: privacy.clipNorm, samplingRate: plan.samplingRate, steps: stepsTaken,
            expectedBatchSize: expectedBatchSize, targetEpsilon: privacy.targetEpsilon,
            sampling: "Poisson (each example independently with probability q: "
                + PoissonSampler.randomnessDescription + "); sum divided by q·N with the declared N",
            noise: GaussianNoiseSampler.methodDescription, declaredDatasetSize: plan.datasetSize,
            ledgerScope: ledgerScope,
            notes: notes + charger.releaseNotes)
        return TrainingOutcome(steps: stepsTaken, event: spent, epsilon: epsilon,
                               seconds: Date().timeIntervalSince(started), examples: examples, card: card,
                               reservation: reservation)
    }

    /// The gradient of the batch `indices`, processed in chunks of at most `chunk` examples:
    /// `Σᵢ cᵢ ∇ℓᵢ` with `cᵢ` = ``PerExampleClipping/factor(squaredNorm:clipNorm:)`` when `clipNorm` is
    /// set (an example whose norm is not finite contributes exactly zero), else `Σᵢ ∇ℓᵢ`. With augmented views
    /// (``Dataset/views``), `∇ℓᵢ` is the mean of the gradients of example `i`'s views (De et al. 2022).
    public static func accumulate(model: inout SequentialModel, data: Dataset, indices: [Int], chunk: Int,
                                  clipNorm: Float?) -> [Matrix] {
        var total: [Matrix] = []
        var start = 0
        while start < indices.count {
            let end = min(indices.count, start + chunk)
            let (x, y) = data.batch(Array(indices[start..<end]))
            let logits = model.forward(x)
            var (_, g) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y[...])
            // An example with views contributes the mean of its views' gradients.
            if data.views > 1 { g.scale(by: 1 / Float(data.views)) }
            model.backward(g)
            var scales: [Float]? = nil
            if let clipNorm {
                scales = model.perExampleSquaredNorms(batch: end - start, rowsPerExample: data.views).map {
                    PerExampleClipping.factor(squaredNorm: $0, clipNorm: clipNorm)
                }
            }
            let gradients = model.parameterGradients(exampleScales: scales, rowsPerExample: data.views)
            // Drop this chunk's activations before the next chunk's forward pass builds its own, so
            // that at most one chunk's caches are alive whatever the size of the logical batch.
            model.clearCaches()
            if total.isEmpty {
                total = gradients  // the first chunk's sum, taken as it is
            } else {
                for i in total.indices { total[i].add(gradients[i]) }
            }
            start = end
        }
        return total.isEmpty ? model.parameters.map { Matrix(rows: $0.rows, columns: $0.columns) } : total
    }
}

/// Accuracy and mean loss of a model on a labelled data set.
public struct Evaluation: Sendable, Codable {
    /// Fraction of examples whose predicted class is the label.
    public var accuracy: Double
    /// Mean softmax cross-entropy.
    public var loss: Double
    /// Number of examples.
    public var examples: Int

    /// Evaluates `model` on `data` in chunks of 1000 examples.
    /// - Throws: `VeilError.invalidInput` when the data does not fit the model.
    public init(model: SequentialModel, data: Dataset) throws {
        guard data.inputShape.count == model.inputShape.count else {
            throw VeilError(.invalidInput, "data examples have shape \(data.inputShape), model expects \(model.inputShape)")
        }
        guard data.classCount <= model.classCount else {
            throw VeilError(.invalidInput, "data has \(data.classCount) classes, model outputs \(model.classCount)")
        }
        let logits = model.logits(data.features)
        let (losses, _) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: data.labels[...])
        let predicted = SoftmaxCrossEntropy.predictions(logits: logits)
        let correct = zip(predicted, data.labels).filter { $0 == $1 }.count
        examples = data.count
        accuracy = data.count > 0 ? Double(correct) / Double(data.count) : 0
        loss = data.count > 0 ? losses.reduce(0.0) { $0 + Double($1) } / Double(data.count) : 0
    }
}
