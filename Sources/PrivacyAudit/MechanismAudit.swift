import Mechanisms

/// The result of auditing one mechanism: its claim, the audited lower bound and how it was obtained.
///
/// ``exceedsClaim`` is the verdict: the runs prove, at ``confidence``, that the mechanism is *not*
/// (ε, δ)-DP as claimed. A real mechanism is flagged with probability at most `1 − confidence` (the bound's
/// error probability); a bound below the claim is evidence, never proof, of privacy.
public struct MechanismAudit: Sendable, Hashable, Codable {
    /// The target's name.
    public let mechanism: String
    /// The neighbouring inputs in words.
    public let neighbours: String
    /// The claimed (ε, δ).
    public let claim: PrivacyClaim
    /// Runs on each input (half select the event, half estimate it).
    public let trials: Int
    /// The confidence `1 − α` of the bound.
    public let confidence: Double
    /// The event selection and the bound.
    public let result: EventSelectionAudit

    /// The audited lower bound ε̂.
    public var epsilonLowerBound: Double { result.epsilon }

    /// Whether ε̂ exceeds the claimed ε: the mechanism violates its claim (at ``confidence``).
    public var exceedsClaim: Bool { result.epsilon > claim.epsilon }

    /// Runs `target` `trials` times on each input and audits the statistics.
    ///
    /// - Parameters:
    ///   - target: the mechanism and its neighbouring inputs.
    ///   - trials: runs on each input, ≥ 2 (half select the event, half estimate it).
    ///   - confidence: `1 − α`, in (0, 1) (default 0.95).
    ///   - source: the randomness of the runs; pass a ``SecureRandomSource`` outside tests.
    ///   - progress: called after every run with (runs done, runs in all), for progress lines.
    /// - Throws: ``VeilError`` (`invalid_parameter`) for a parameter out of range, or what the target throws.
    public init<T: AuditTarget, R: RandomSource>(_ target: T, trials: Int, confidence: Double = 0.95,
                                                 using source: inout R,
                                                 progress: ((Int, Int) -> Void)? = nil) throws {
        try AuditTrials.check(trials)
        try ParameterCheck.confidenceLevel(confidence, name: "confidence")
        var original: [Double] = []
        var neighbour: [Double] = []
        original.reserveCapacity(trials)
        neighbour.reserveCapacity(trials)
        for i in 0..<trials {
            original.append(try target.statistic(on: .original, using: &source))
            neighbour.append(try target.statistic(on: .neighbour, using: &source))
            progress?(2 * (i + 1), 2 * trials)
        }
        mechanism = target.name
        neighbours = target.neighbours
        claim = target.claim
        self.trials = trials
        self.confidence = confidence
        result = try EventSelectionAudit(original: original, neighbour: neighbour, delta: target.claim.delta,
                                         confidence: confidence)
    }
}
