/// What a model's training spent and how, stored in its model file under `veil.privacy`.
///
/// For a differentially private run every field is set; a model trained without DP has
/// `differentiallyPrivate == false` and no ε, δ, noise or accountant.
///
/// The card is released with the model, so it holds no exact function of the training data
/// (docs/design.md §2 rule 7): no digest of the data (that goes to the ledger entry) and no exact
/// number of examples — only the size the pipeline declared, from which `q` and `q·N` follow.
public struct PrivacyCard: Sendable, Codable, Equatable {
    /// Whether the model was trained with DP-SGD.
    public var differentiallyPrivate: Bool
    /// The ε spent, as computed by ``accountant`` at ``delta`` for the steps actually taken.
    public var epsilon: Double?
    /// δ.
    public var delta: Double?
    /// The accountant that computed ε (`"rdp"` or `"pld"`).
    public var accountant: String?
    /// The noise multiplier σ: the noise standard deviation is `σ · clipNorm`.
    public var noiseMultiplier: Double?
    /// The per-example clipping norm C.
    public var clipNorm: Double?
    /// The Poisson sampling rate q.
    public var samplingRate: Double?
    /// DP-SGD steps taken.
    public var steps: Int
    /// The expected batch size q·N by which the noisy sum was divided.
    public var expectedBatchSize: Double?
    /// The target ε the noise was calibrated to.
    public var targetEpsilon: Double?
    /// The privacy unit: one training example (one row, one image).
    public var privacyUnit: String
    /// How batches were sampled.
    public var sampling: String
    /// How the noise was drawn.
    public var noise: String?
    /// The number of training examples N the pipeline declared (public, data-independent): the
    /// sampling rate is `q = expected batch size / N` and the noisy sum is divided by `q·N`.
    public var declaredDatasetSize: Int?
    /// The ledger scope the run was to be charged to (wired by the caller).
    public var ledgerScope: String?
    /// The ledger entry of the charge, when a ledger recorded it.
    public var ledgerEntry: String?
    /// Data-dependent steps that this ε does not cover (e.g. fitted standardisation).
    public var notes: [String]

    /// A card; see the properties for the meaning of each field.
    public init(differentiallyPrivate: Bool, epsilon: Double?, delta: Double?, accountant: String?,
                noiseMultiplier: Double?, clipNorm: Double?, samplingRate: Double?, steps: Int,
                expectedBatchSize: Double?, targetEpsilon: Double?, privacyUnit: String = "one training example",
                sampling: String, noise: String?, declaredDatasetSize: Int?,
                ledgerScope: String?, ledgerEntry: String? = nil, notes: [String] = []) {
        self.differentiallyPrivate = differentiallyPrivate
        self.epsilon = epsilon
        self.delta = delta
        self.accountant = accountant
        self.noiseMultiplier = noiseMultiplier
        self.clipNorm = clipNorm
        self.samplingRate = samplingRate
        self.steps = steps
        self.expectedBatchSize = expectedBatchSize
        self.targetEpsilon = targetEpsilon
        self.privacyUnit = privacyUnit
        self.sampling = sampling
        self.noise = noise
        self.declaredDatasetSize = declaredDatasetSize
        self.ledgerScope = ledgerScope
        self.ledgerEntry = ledgerEntry
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case differentiallyPrivate = "differentially_private"
        case epsilon, delta, accountant
        case noiseMultiplier = "noise_multiplier"
        case clipNorm = "clip_norm"
        case samplingRate = "sampling_rate"
        case steps
        case expectedBatchSize = "expected_batch_size"
        case targetEpsilon = "target_epsilon"
        case privacyUnit = "privacy_unit"
        case sampling, noise
        case declaredDatasetSize = "declared_dataset_size"
        case ledgerScope = "ledger_scope"
        case ledgerEntry = "ledger_entry"
        case notes
    }

    public func encode(to encoder: Encoder) throws {
        // Explicit nulls: a reader sees "no ε" rather than a missing key.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(differentiallyPrivate, forKey: .differentiallyPrivate)
        try c.encode(epsilon, forKey: .epsilon)
        try c.encode(delta, forKey: .delta)
        try c.encode(accountant, forKey: .accountant)
        try c.encode(noiseMultiplier, forKey: .noiseMultiplier)
        try c.encode(clipNorm, forKey: .clipNorm)
        try c.encode(samplingRate, forKey: .samplingRate)
        try c.encode(steps, forKey: .steps)
        try c.encode(expectedBatchSize, forKey: .expectedBatchSize)
        try c.encode(targetEpsilon, forKey: .targetEpsilon)
        try c.encode(privacyUnit, forKey: .privacyUnit)
        try c.encode(sampling, forKey: .sampling)
        try c.encode(noise, forKey: .noise)
        try c.encode(declaredDatasetSize, forKey: .declaredDatasetSize)
        try c.encode(ledgerScope, forKey: .ledgerScope)
        try c.encode(ledgerEntry, forKey: .ledgerEntry)
        try c.encode(notes, forKey: .notes)
    }
}
