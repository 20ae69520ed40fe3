import Foundation
import LinearAlgebra
import Mechanisms
@testable import PrivacyAudit
import PrivateTraining
import Testing

/// The one-run training audit on synthetic data small enough for a logistic model to memorise its canaries:
/// 64 real examples and 256 random canaries in 256 dimensions, four classes. Without noise, the included
/// canaries are fitted and the audit must prove ε > 1; with noise calibrated to ε = 1 it must not.
@Suite("One-run training audit")
struct TrainingAuditTests {
    static let dimensions = 256
    static let classes = 4

    /// Examples with features uniform on [−1, 1] and a label from a fixed linear rule (so the real part has
    /// structure); the canary pool comes from the same distribution.
    static func synthetic(rows: Int, seed: UInt64) throws -> Dataset {
        var source = InsecureSeededRandomSource(seed: seed)
        var rule = InsecureSeededRandomSource(seed: 1)
        let weights = (0..<(dimensions * classes)).map { _ in Float.random(in: -1...1, using: &rule) }
        var features: [Float] = []
        var labels: [Int32] = []
        for _ in 0..<rows {
            let x = (0..<dimensions).map { _ in Float.random(in: -1...1, using: &source) }
            let scores = (0..<classes).map { c in (0..<dimensions).reduce(Float(0)) { $0 + weights[c * dimensions + $1] * x[$1] } }
            labels.append(Int32(scores.indices.max { scores[$0] < scores[$1] }!))
            features += x
        }
        return try Dataset(features: Matrix(rows: rows, columns: dimensions, storage: features), labels: labels,
                           inputShape: ImageShape(height: 1, width: dimensions, channels: 1), classCount: classes,
                           sha256: "synthetic-\(seed)")
    }

    static func plan(_ privacy: PrivacySettings?) throws -> TrainingPlan {
        try TrainingPlan(datasetSize: 192, training: TrainingSettings(epochs: 60, expectedBatchSize: 32,
                                                                      optimizer: .sgd(momentum: 0), learningRate: 2),
                         privacy: privacy)
    }

    static func audit(_ privacy: PrivacySettings?, seed: UInt64) throws -> TrainingAudit {
        var source = InsecureSeededRandomSource(seed: seed)
        return try TrainingAudit(train: try synthetic(rows: 64, seed: 2), canaryPool: try synthetic(rows: 300, seed: 3),
                                 architecture: ModelArchitecture.logisticRegression(classes: classes),
                                 plan: try plan(privacy), claim: try PrivacyClaim(epsilon: 1, delta: 1e-5),
                                 canaries: 256, guesses: 64, confidence: 0.95, using: &source)
    }

    // The seeds are fixed. Over ten other seeds the two caught runs had 58–63 of 64 guesses right (ε̂ 1.54–2.55;
    // 54 right already prove ε > 1) and the honest run 31–43 (ε̂ ≤ 0.25); by the paper's theorem the honest
    // run's bound exceeds ε = 1 with probability at most 5% over seeds.

    @Test("Training without noise or clipping, claimed as ε = 1, is caught")
    func nonPrivateCaught() throws {
        let audit = try Self.audit(nil, seed: 11)
        #expect(audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound), \(audit.result.correct)/64 right")
        #expect(audit.includedCanaries > 96 && audit.includedCanaries < 160)
    }

    @Test("DP-SGD with a hundredth of the noise ε = 1 needs, claimed as ε = 1, is caught")
    func tooLittleNoiseCaught() throws {
        let calibrated = try Self.plan(PrivacySettings(targetEpsilon: 1, delta: 1e-5, clipNorm: 1)).noiseMultiplier!
        // The plan must admit the smaller σ: its own target is set far above what σ/100 spends. (σ/10 is
        // caught in only about two runs of three here: a black-box audit needs a gross error.)
        let audit = try Self.audit(PrivacySettings(targetEpsilon: 1e6, delta: 1e-5, clipNorm: 1,
                                                   noiseMultiplier: calibrated / 100), seed: 12)
        #expect(audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound), \(audit.result.correct)/64 right")
    }

    @Test("DP-SGD calibrated to ε = 1 is not flagged")
    func honestRunPasses() throws {
        let audit = try Self.audit(PrivacySettings(targetEpsilon: 1, delta: 1e-5, clipNorm: 1), seed: 13)
        #expect(!audit.exceedsClaim, "ε̂ = \(audit.epsilonLowerBound), \(audit.result.correct)/64 right")
        #expect(audit.claim.epsilon == 1)
    }

    @Test("The planned ε is the default claim; a run without privacy needs one")
    func defaultClaim() throws {
        let calibrated = try Self.plan(PrivacySettings(targetEpsilon: 2, delta: 1e-5, clipNorm: 1))
        var source = InsecureSeededRandomSource(seed: 5)
        let train = try Self.synthetic(rows: 16, seed: 2)
        let pool = try Self.synthetic(rows: 8, seed: 3)
        let audit = try TrainingAudit(train: train, canaryPool: pool,
                                      architecture: ModelArchitecture.logisticRegression(classes: Self.classes),
                                      plan: calibrated, canaries: 8, guesses: 4, using: &source)
        #expect(audit.claim == (try PrivacyClaim(epsilon: calibrated.plannedEpsilon!, delta: 1e-5)))
        #expect(throws: VeilError(.invalidParameter, "a training run without differential privacy claims no ε: "
                                  + "give the ε (and δ) to audit it against")) {
            try TrainingAudit(train: train, canaryPool: pool,
                              architecture: ModelArchitecture.logisticRegression(classes: Self.classes),
                              plan: try Self.plan(nil), canaries: 8, guesses: 4, using: &source)
        }
    }

    @Test("Bad counts and a too-small pool are refused before training")
    func refusals() throws {
        var source = InsecureSeededRandomSource(seed: 5)
        let train = try Self.synthetic(rows: 16, seed: 2)
        let pool = try Self.synthetic(rows: 8, seed: 3)
        func audit(canaries: Int, guesses: Int) throws {
            _ = try TrainingAudit(train: train, canaryPool: pool,
                                  architecture: ModelArchitecture.logisticRegression(classes: Self.classes),
                                  plan: try Self.plan(nil), claim: try PrivacyClaim(epsilon: 1), canaries: canaries,
                                  guesses: guesses, using: &source)
        }
        #expect(throws: VeilError(.invalidParameter, "guesses must be even, in 2...8 (the canaries), got 3")) {
            try audit(canaries: 8, guesses: 3)
        }
        #expect(throws: VeilError(.invalidParameter, "guesses must be even, in 2...8 (the canaries), got 10")) {
            try audit(canaries: 8, guesses: 10)
        }
        #expect(throws: VeilError(.invalidInput, "9 canaries need as many held-out examples to draw them from; the "
                                  + "test split has 8 (use --canaries 8 or fewer)")) {
            try audit(canaries: 9, guesses: 2)
        }
    }

    @Test("Canaries: distinct held-out examples, every label wrong, about half included, appended in order")
    func canarySet() throws {
        let pool = try Self.synthetic(rows: 500, seed: 3)
        let train = try Self.synthetic(rows: 10, seed: 2)
        var source = InsecureSeededRandomSource(seed: 21)
        let canaries = CanarySet(pool: pool, count: 400, using: &source)
        // Rows of the pool are matched by their first value (continuous, so distinct with probability 1).
        let firsts = (0..<pool.count).map { pool.features.storage[$0 * Self.dimensions] }
        var seen = Set<Int>()
        var labelShifts = [Int](repeating: 0, count: Self.classes)
        for i in 0..<400 {
            let row = firsts.firstIndex(of: canaries.features.storage[i * Self.dimensions])!
            #expect(seen.insert(row).inserted, "canary \(i) repeats pool row \(row)")
            #expect(canaries.labels[i] != pool.labels[row])
            labelShifts[Int((canaries.labels[i] - pool.labels[row] + Int32(Self.classes)) % Int32(Self.classes))] += 1
        }
        // Wrong labels uniform over the three others: each shift ~ Binomial(400, 1/3), mean 133, sd 9.4;
        // ±47 is 5 sd (false failure below 1e-6 per shift), as is 200 ± 50 for the inclusions.
        #expect(labelShifts[0] == 0 && labelShifts[1...].allSatisfy { abs($0 - 133) < 47 }, "\(labelShifts)")
        let included = canaries.included.indices.filter { canaries.included[$0] }
        #expect(abs(included.count - 200) < 50)
        #expect(canaries.includedRows == included)
        let augmented = try canaries.trainingSet(adding: train)
        #expect(augmented.count == 10 + included.count)
        #expect(Array(augmented.features.storage[0..<(10 * Self.dimensions)]) == train.features.storage)
        #expect(Array(augmented.labels[10...]) == included.map { canaries.labels[$0] })
        let last = included.last!
        #expect(Array(augmented.features.storage.suffix(Self.dimensions))
                == Array(canaries.features.storage[(last * Self.dimensions)..<((last + 1) * Self.dimensions)]))
    }

    @Test("a pipeline with training.augmentation is refused before its data is read")
    func augmentationRefused() throws {
        let pipeline = try TrainingPipeline.parse(yaml: """
            data: {format: idx, train_images: missing-images, train_labels: missing-labels, classes: 3, size: 60}
            model: {architecture: logistic}
            privacy: {target_epsilon: 8, delta: 1e-3, clip_norm: 1, ledger_scope: audit}
            training: {epochs: 1, expected_batch_size: 10, learning_rate: 0.5, augmentation: {type: shifts}}
            output: model.safetensors
            """, baseDirectory: NSTemporaryDirectory())
        var random = InsecureSeededRandomSource(seed: 1)
        #expect(throws: VeilError(.invalidInput, "training.augmentation is not audited yet: audit the pipeline without it")) {
            try TrainingAudit(pipeline: pipeline, canaries: 10, guesses: 2, using: &random)
        }
    }
}
