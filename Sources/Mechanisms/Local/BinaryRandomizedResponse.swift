import Foundation

/// Binary randomised response (Warner 1965): each person reports their true bit with probability
/// `e^ε/(1 + e^ε)` and the flipped bit otherwise, which is ε-DP for that person's report (local DP).
///
/// Sampled exactly by rejection: propose "keep" or "flip" with a fair bit and accept a "flip" with
/// probability exp(−ε) (an exact Bernoulli(exp(−ε)) trial, Canonne, Kamath, Steinke 2020,
/// Algorithm 1); a proposal rejected is redrawn. Then `P(flip) = e^{−ε}/(1 + e^{−ε}) = 1/(1 + e^ε)`.
public struct BinaryRandomizedResponse: Sendable {
    /// ε of each report.
    public let epsilon: Double
    let flipAcceptance: BernoulliExpSampler

    /// Creates binary randomised response.
    ///
    /// - Parameter epsilon: ε, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if ε is not positive and finite.
    public init(epsilon: Double) throws {
        try ParameterCheck.epsilon(epsilon)
        self.epsilon = epsilon
        flipAcceptance = try BernoulliExpSampler(gamma: epsilon)
    }

    /// The probability of reporting the truth, `e^ε/(1 + e^ε)`.
    public var truthProbability: Double { 1 / (1 + Foundation.exp(-epsilon)) }

    /// The privacy cost of one person's report (local ε-DP).
    public var event: DPEvent { .epsilonDelta(epsilon: epsilon, delta: 0) }

    /// One randomised report of `truth`.
    ///
    /// - Parameters:
    ///   - truth: the person's true bit.
    ///   - source: the randomness; pass a ``SecureRandomSource`` outside tests.
    public func respond<R: RandomSource>(_ truth: Bool, using source: inout R) -> Bool {
        while true {
            if source.bit() { return truth }
            if flipAcceptance.sample(using: &source) { return !truth }
        }
    }

    /// One randomised report of `truth`, drawing from the operating system's CSPRNG.
    public func respond(_ truth: Bool) -> Bool {
        var source = SecureRandomSource()
        return respond(truth, using: &source)
    }

    /// The unbiased estimate of the fraction of true bits among the respondents:
    /// `(f − (1 − p))/(2p − 1)` where `f` is the fraction of reported `true` and `p` the truth probability.
    ///
    /// - Parameters:
    ///   - reportedTrue: the number of reports equal to `true`.
    ///   - total: the number of reports, ≥ 1.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `total < 1` or `reportedTrue` is outside `0...total`.
    public func estimateFraction(reportedTrue: Int, total: Int) throws -> Double {
        try ParameterCheck.count(total, name: "total", minimum: 1)
        guard (0...total).contains(reportedTrue) else {
            throw VeilError.invalidParameter("reported_true", reportedTrue, allowed: "in 0...\(total)")
        }
        let p = truthProbability
        let f = Double(reportedTrue) / Double(total)
        return (f - (1 - p)) / (2 * p - 1)
    }
}
