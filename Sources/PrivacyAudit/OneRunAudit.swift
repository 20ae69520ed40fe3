import Foundation
import Mechanisms

/// The ε lower bound of an audit in one run (Steinke, Nasr, Jagielski 2023, "Privacy Auditing with One (1)
/// Training Run", NeurIPS).
///
/// `m` canaries are each included in the input independently with probability ½; after one run of the
/// mechanism an auditor guesses, for `r` of them, whether they were included, and `v` guesses are right.
/// If the mechanism is ε-DP, the number of right guesses is stochastically dominated by
/// `Binomial(r, q)` with `q = e^ε/(1 + e^ε)` (the paper's main theorem), so the p-value of `v` right guesses
/// is `β = P[Binomial(r, q) ≥ v]`. For (ε, δ)-DP the paper's (ε, δ) version adds `2mδ·max_{1≤i≤v} P[v > Binomial(r, q) ≥ v − i]/i`.
/// The bound ε̂ is the largest ε whose p-value is below `1 − confidence`: with probability at least
/// `confidence`, the mechanism is not (ε', δ)-DP for any ε' < ε̂.
public struct OneRunAudit: Sendable, Hashable, Codable {
    /// The canaries `m`, each included with probability ½.
    public let canaries: Int
    /// The guesses `r ≤ m` (the auditor abstains on the others).
    public let guesses: Int
    /// The right guesses `v ≤ r`.
    public let correct: Int
    /// δ of the claim the bound is stated against.
    public let delta: Double
    /// The confidence of ``epsilon``.
    public let confidence: Double
    /// ε̂ ≥ 0.
    public let epsilon: Double

    /// The bound from the counts of one run.
    ///
    /// - Parameters:
    ///   - canaries: `m ≥ 1`.
    ///   - guesses: `r` in `0...m`.
    ///   - correct: `v` in `0...r`.
    ///   - delta: δ in [0, 1).
    ///   - confidence: in (0, 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the argument out of range.
    public init(canaries: Int, guesses: Int, correct: Int, delta: Double = 0, confidence: Double = 0.95) throws {
        try ParameterCheck.count(canaries, name: "canaries", minimum: 1)
        guard (0...canaries).contains(guesses) else {
            throw VeilError.invalidParameter("guesses", guesses, allowed: "in 0...\(canaries)")
        }
        guard (0...guesses).contains(correct) else {
            throw VeilError.invalidParameter("correct guesses", correct, allowed: "in 0...\(guesses)")
        }
        try ParameterCheck.deltaOrZero(delta)
        try ParameterCheck.confidenceLevel(confidence, name: "confidence")
        self.canaries = canaries
        self.guesses = guesses
        self.correct = correct
        self.delta = delta
        self.confidence = confidence
        epsilon = try Self.search(canaries: canaries, guesses: guesses, correct: correct, delta: delta,
                                  alpha: 1 - confidence)
    }

    /// The p-value of `v` right guesses of `r` among `m` canaries if the mechanism were (ε, δ)-DP.
    public static func pValue(canaries: Int, guesses: Int, correct: Int, epsilon: Double, delta: Double) throws -> Double {
        guard correct > 0 else { return 1 }
        let q = 1 / (1 + Foundation.exp(-epsilon))
        // P[Binomial(r, q) ≥ v] = I_q(v, r − v + 1).
        let beta = try IncompleteBeta.regularized(x: q, a: Double(correct), b: Double(guesses - correct + 1))
        guard delta > 0 else { return min(1, beta) }
        var window = 0.0
        var worst = 0.0
        for i in 1...correct {
            window += binomialProbability(guesses, correct - i, q)
            worst = max(worst, window / Double(i))
        }
        return min(1, beta + 2 * Double(canaries) * delta * worst)
    }

    /// `C(n, k) p^k (1 − p)^(n − k)` through logarithms.
    static func binomialProbability(_ n: Int, _ k: Int, _ p: Double) -> Double {
        let logChoose = lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
        return Foundation.exp(logChoose + Double(k) * Foundation.log(p) + Double(n - k) * Foundation.log1p(-p))
    }

    /// The largest ε (to 1e−6) with p-value below α, by bisection (the p-value grows with ε); 0 if none.
    static func search(canaries: Int, guesses: Int, correct: Int, delta: Double, alpha: Double) throws -> Double {
        func rejected(_ epsilon: Double) throws -> Bool {
            try pValue(canaries: canaries, guesses: guesses, correct: correct, epsilon: epsilon, delta: delta) < alpha
        }
        guard try rejected(0) else { return 0 }
        var low = 0.0
        var high = 1.0
        while try rejected(high) {
            low = high
            high *= 2
            if high > 100 { return low }
        }
        while high - low > 1e-6 {
            let mid = (low + high) / 2
            if try rejected(mid) { low = mid } else { high = mid }
        }
        return low
    }
}
