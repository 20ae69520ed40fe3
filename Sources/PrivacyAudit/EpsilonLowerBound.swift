import Foundation
import Mechanisms

/// The ε that an observed pair of event frequencies proves, at a confidence level.
///
/// A mechanism `M` is (ε, δ)-DP only if, for every event `S` and neighbouring inputs `D, D'`,
/// `P[M(D) ∈ S] ≤ e^ε · P[M(D') ∈ S] + δ` (Dwork, Roth 2014, Definition 2.4). Rearranged, any event gives
/// `ε ≥ ln((p − δ)/q)` with `p = P[M(D) ∈ S]` and `q = P[M(D') ∈ S]`. With `k_p` of `n` runs on `D` and `k_q`
/// of `n` runs on `D'` landing in `S`, the Clopper–Pearson lower bound `p_L` of `p` and upper bound `q_U` of
/// `q`, each at one-sided level `α/2` (Bonferroni over the two estimates), hold together with probability
/// at least `1 − α`, and then
///
/// `ε ≥ ε̂ = ln((p_L − δ)/q_U)`
///
/// (Jagielski, Ullman, Oprea 2020, "Auditing Differentially Private Machine Learning: How Private is Private
/// SGD?", NeurIPS, §3, Monte Carlo estimation of ε with Clopper–Pearson intervals; Nasr, Song, Thakurta,
/// Papernot, Carlini 2021, "Adversary Instantiation: Lower Bounds for Differentially Private Machine
/// Learning", IEEE S&P, §3). When `p_L ≤ δ` the event proves nothing and ε̂ is 0, which is always true.
public struct EpsilonLowerBound: Sendable, Hashable, Codable {
    /// ε̂ ≥ 0: with probability at least ``confidence``, the true ε (at ``delta``) is at least this.
    public let epsilon: Double
    /// The Clopper–Pearson lower bound `p_L` of the event's probability on the favoured input.
    public let pLower: Double
    /// The Clopper–Pearson upper bound `q_U` of the event's probability on the other input.
    public let qUpper: Double
    /// The runs on the favoured input that landed in the event.
    public let pCount: Int
    /// The runs on the other input that landed in the event.
    public let qCount: Int
    /// Runs on each input.
    public let trials: Int
    /// δ the bound is stated at.
    public let delta: Double
    /// The joint confidence `1 − α` of ``epsilon``.
    public let confidence: Double

    /// The bound from event counts.
    ///
    /// - Parameters:
    ///   - pCount: `k_p`, the runs on the favoured input `D` inside the event, in `0...trials`.
    ///   - qCount: `k_q`, the runs on the other input `D'` inside the event, in `0...trials`.
    ///   - trials: `n ≥ 1`, the runs on each input.
    ///   - delta: δ in [0, 1).
    ///   - confidence: `1 − α`, in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the argument out of range.
    public init(pCount: Int, qCount: Int, trials: Int, delta: Double, confidence: Double) throws {
        try ParameterCheck.deltaOrZero(delta)
        try ParameterCheck.confidenceLevel(confidence, name: "confidence")
        let alpha = (1 - confidence) / 2
        let pLower = try ClopperPearson.lowerBound(successes: pCount, trials: trials, alpha: alpha)
        let qUpper = try ClopperPearson.upperBound(successes: qCount, trials: trials, alpha: alpha)
        self.pLower = pLower
        self.qUpper = qUpper
        self.pCount = pCount
        self.qCount = qCount
        self.trials = trials
        self.delta = delta
        self.confidence = confidence
        epsilon = Self.epsilon(pLower: pLower, qUpper: qUpper, delta: delta)
    }

    /// `max(0, ln((p_L − δ)/q_U))`; 0 when `p_L ≤ δ`.
    public static func epsilon(pLower: Double, qUpper: Double, delta: Double) -> Double {
        let excess = pLower - delta
        guard excess > 0, qUpper > 0 else { return 0 }
        return max(0, Foundation.log(excess / qUpper))
    }
}
