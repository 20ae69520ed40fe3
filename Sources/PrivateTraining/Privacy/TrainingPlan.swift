import Accounting
import Mechanisms

/// Differential-privacy settings of a training run.
public struct PrivacySettings: Sendable, Hashable {
    /// The ε the run may not exceed.
    public var targetEpsilon: Double
    /// δ.
    public var delta: Double
    /// Per-example clipping norm C > 0.
    public var clipNorm: Double
    /// The accountant.
    public var accountant: AccountantKind
    /// A fixed noise multiplier instead of calibrating one to ``targetEpsilon``.
    public var noiseMultiplier: Double?

    /// DP settings; validated by ``TrainingPlan/init(datasetSize:training:privacy:)``.
    public init(targetEpsilon: Double, delta: Double, clipNorm: Double, accountant: AccountantKind = .rdp,
                noiseMultiplier: Double? = nil) {
        self.targetEpsilon = targetEpsilon
        self.delta = delta
        self.clipNorm = clipNorm
        self.accountant = accountant
        self.noiseMultiplier = noiseMultiplier
    }
}

/// Optimisation settings of a training run.
public struct TrainingSettings: Sendable, Hashable {
    /// Passes over the data (DP: `epochs / q` steps).
    public var epochs: Int
    /// The expected batch size q·N (non-private: the batch size).
    public var expectedBatchSize: Int
    /// The largest batch processed at once; a larger Poisson batch is split, bounding memory.
    public var maxPhysicalBatchSize: Int
    /// The update rule.
    public var optimizer: OptimizerKind
    /// The learning rate.
    public var learningRate: Double
    /// β of an exponential moving average of the parameters, released instead of the last step's
    /// (``ParameterAverage``); `nil` releases the last step's.
    public var averageDecay: Double?

    /// Optimisation settings; validated by ``TrainingPlan/init(datasetSize:training:privacy:)``.
    public init(epochs: Int, expectedBatchSize: Int, maxPhysicalBatchSize: Int = 256,
                optimizer: OptimizerKind = .sgd(momentum: 0.9), learningRate: Double, averageDecay: Double? = nil) {
        self.epochs = epochs
        self.expectedBatchSize = expectedBatchSize
        self.maxPhysicalBatchSize = maxPhysicalBatchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.averageDecay = averageDecay
    }
}

/// A validated training run: sampling rate, steps and (for DP) the calibrated noise multiplier,
/// fixed before any data is touched.
public struct TrainingPlan: Sendable {
    /// Optimisation settings.
    public let training: TrainingSettings
    /// DP settings, or `nil` for non-private training.
    public let privacy: PrivacySettings?
    /// The declared number of training examples N (public: the pipeline states it, it is not counted
    /// from the data), from which `q` and `q·N` follow.
    public let datasetSize: Int
    /// Poisson sampling rate `q = expectedBatchSize / N`.
    public let samplingRate: Double
    /// The expected batch size `q·N` by which a DP step's noisy sum is divided.
    public var expectedBatchSize: Double { Double(training.expectedBatchSize) }
    /// Steps to take: `⌈epochs · N / expectedBatchSize⌉`.
    public let steps: Int
    /// σ (DP only): noise standard deviation `σ·C` on the clipped-gradient sum.
    public let noiseMultiplier: Double?
    /// ε of all ``steps`` (DP only), with ``preprocessing`` if any, ≤ the target.
    public let plannedEpsilon: Double?
    /// A release on the training data before the steps, charged with them (DP only): e.g. the statistics
    /// of ``DPChannelNormalization``.
    public let preprocessing: DPEvent?
    /// Warnings that do not stop the run (e.g. δ ≥ 1/N).
    public let warnings: [String]

    /// Validates the settings and, for DP, calibrates σ so that `steps` steps meet the target ε
    /// (``NoiseCalibration/noiseMultiplier(targetEpsilon:samplingRate:steps:delta:accountant:relativeTolerance:)``).
    /// With a fixed σ, the steps are cut to the largest number whose ε stays within the target.
    /// - Parameters:
    ///   - datasetSize: the declared number of training examples N (DP: never counted from the data).
    ///   - preprocessing: a release before the steps whose cost counts towards the target (DP only).
    /// - Throws: `VeilError.invalidParameter` on a setting outside ``TrainingLimits`` (N, epochs, physical
    ///   batch, steps, learning rate, clip norm, σ), a batch larger than N, ε ≤ 0 or δ ∉ (0, 1), or a
    ///   `preprocessing` event without privacy settings or that alone reaches the target.
    public init(datasetSize: Int, training: TrainingSettings, privacy: PrivacySettings?,
                preprocessing: DPEvent? = nil) throws {
        try TrainingLimits.check(datasetSize, in: TrainingLimits.datasetSize, name: "declared data size")
        try TrainingLimits.check(training.epochs, in: TrainingLimits.epochs, name: "epochs")
        try TrainingLimits.check(training.maxPhysicalBatchSize, in: TrainingLimits.maximumPhysicalBatchSize,
                                 name: "max physical batch size")
        try ParameterCheck.count(training.expectedBatchSize, name: "expected batch size", minimum: 1)
        guard training.expectedBatchSize <= datasetSize else {
            throw VeilError(.invalidParameter,
                            "expected batch size \(training.expectedBatchSize) is larger than the data set (\(datasetSize) examples)")
        }
        try TrainingLimits.checkPositive(training.learningRate, name: "learning rate")
        _ = try Optimizer(kind: training.optimizer, learningRate: training.learningRate)
        if let beta = training.averageDecay, !(beta >= 0 && beta < 1) {
            throw VeilError.invalidParameter("parameter average decay", beta, allowed: "in the interval [0, 1)")
        }
        // In Double, so that no product can overflow an Int before the range check.
        let exactSteps = (Double(training.epochs) * Double(datasetSize) / Double(training.expectedBatchSize)).rounded(.up)
        guard exactSteps <= Double(TrainingLimits.steps.upperBound) else {
            throw VeilError(.invalidParameter, "\(training.epochs) epochs of \(datasetSize) examples at expected batch "
                            + "\(training.expectedBatchSize) need \(exactSteps) steps; at most \(TrainingLimits.steps.upperBound) are allowed")
        }
        self.training = training
        self.privacy = privacy
        self.datasetSize = datasetSize
        samplingRate = Double(training.expectedBatchSize) / Double(datasetSize)
        self.preprocessing = preprocessing
        let plannedSteps = Int(exactSteps)
        var warnings: [String] = []
        guard let privacy else {
            guard preprocessing == nil else {
                throw VeilError(.invalidParameter, "a release under DP before training needs a DP training run "
                                + "(a privacy section)")
            }
            steps = plannedSteps
            noiseMultiplier = nil
            plannedEpsilon = nil
            self.warnings = ["training without differential privacy: the model may memorise its training data"]
            return
        }
        try TrainingLimits.checkPositive(privacy.clipNorm, name: "clip norm")
        try TrainingLimits.checkPositive(privacy.targetEpsilon, name: "target epsilon")
        try ParameterCheck.delta(privacy.delta)
        if privacy.delta >= 1 / Double(datasetSize) {
            warnings.append("delta = \(privacy.delta) is not below 1/N = \(1 / Double(datasetSize)): "
                            + "a mechanism that publishes one random example outright would meet it")
        }
        let accountant = try privacy.accountant.makeAccountant()
        if let sigma = privacy.noiseMultiplier {
            try TrainingLimits.checkPositive(sigma, name: "noise multiplier")
            let q = samplingRate
            func epsilon(_ t: Int) throws -> Double {
                try accountant.epsilon(for: NoiseCalibration.dpsgdEvent(samplingRate: q, noiseMultiplier: sigma, steps: t,
                                                                        precededBy: preprocessing),
                                       delta: privacy.delta)
            }
            var allowed = plannedSteps
            if try epsilon(plannedSteps) > privacy.targetEpsilon {
                var (lo, hi) = (0, plannedSteps)  // ε(lo) ≤ target < ε(hi); ε(0) = 0
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2
                    if try epsilon(mid) <= privacy.targetEpsilon { lo = mid } else { hi = mid }
                }
                allowed = lo
                warnings.append("noise multiplier \(sigma) allows only \(lo) of \(plannedSteps) steps within ε = \(privacy.targetEpsilon)")
            }
            guard allowed >= 1 else {
                throw VeilError(.invalidParameter, "noise multiplier \(sigma) exceeds ε = \(privacy.targetEpsilon) in a single step")
            }
            steps = allowed
            noiseMultiplier = sigma
            plannedEpsilon = try epsilon(allowed)
        } else {
            let calibrated = try NoiseCalibration.noiseMultiplier(
                targetEpsilon: privacy.targetEpsilon, samplingRate: samplingRate, steps: plannedSteps,
                delta: privacy.delta, accountant: accountant, precededBy: preprocessing)
            steps = plannedSteps
            noiseMultiplier = calibrated.noiseMultiplier
            plannedEpsilon = calibrated.epsilon
        }
        self.warnings = warnings
    }

    /// The DP event of ``preprocessing`` (if any) and `stepsTaken` steps of this plan (`nil` for non-private training).
    public func event(stepsTaken: Int) -> DPEvent? {
        guard let sigma = noiseMultiplier else { return nil }
        return NoiseCalibration.dpsgdEvent(samplingRate: samplingRate, noiseMultiplier: sigma, steps: stepsTaken,
                                           precededBy: preprocessing)
    }
}
