import Foundation

/// k-ary randomised response (generalised randomised response): each person reports their true
/// category with probability `e^ε/(e^ε + k − 1)` and each other category with probability
/// `1/(e^ε + k − 1)`, which is ε-DP for that person's report (local DP; Kairouz, Oh, Viswanath 2014;
/// Wang, Blocki, Li, Jha 2017, "Locally Differentially Private Protocols for Frequency Estimation", §4.1).
///
/// Sampled exactly by rejection: propose a uniform category; accept the true one always and any
/// other with probability exp(−ε) (an exact Bernoulli(exp(−ε)) trial); redraw on rejection. The true
/// category then has weight 1 and each other weight e^{−ε}, which is the distribution above.
public struct KaryRandomizedResponse: Sendable {
    /// ε of each report.
    public let epsilon: Double
    /// The number of categories `k ≥ 2`; categories are `0 ..< k`.
    public let categories: Int
    let otherAcceptance: BernoulliExpSampler

    /// Creates k-ary randomised response.
    ///
    /// - Parameters:
    ///   - epsilon: ε, finite and > 0.
    ///   - categories: the number of categories `k ≥ 2`.
    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the parameter out of range.
    public init(epsilon: Double, categories: Int) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.count(categories, name: "categories", minimum: 2)
        self.epsilon = epsilon
        self.categories = categories
        otherAcceptance = try BernoulliExpSampler(gamma: epsilon)
    }

    /// The probability of reporting the true category, `e^ε/(e^ε + k − 1)`.
    public var truthProbability: Double { 1 / (1 + Double(categories - 1) * Foundation.exp(-epsilon)) }

    /// The probability of reporting one given other category, `1/(e^ε + k − 1)`.
    public var otherProbability: Double { Foundation.exp(-epsilon) * truthProbability }

    /// The privacy cost of one person's report (local ε-DP).
    public var event: DPEvent { .epsilonDelta(epsilon: epsilon, delta: 0) }

    /// One randomised report of `category`.
    ///
    /// - Parameters:
    ///   - category: the true category, in `0 ..< categories`.
    ///   - source: the randomness; pass a ``SecureRandomSource`` outside tests.
    /// - Throws: ``VeilError`` (`invalid_parameter`) if `category` is out of range.
    public func respond<R: RandomSource>(_ category: Int, using source: inout R) throws -> Int {
        guard (0..<categories).contains(category) else {
            throw VeilError.invalidParameter("category", category, allowed: "in 0..<\(categories)")
        }
        while true {
            let proposal = Int(source.uniform(below: UInt64(categories)))
            if proposal == category || otherAcceptance.sample(using: &source) { return proposal }
        }
    }

    /// One randomised report of `category`, drawing from the operating system's CSPRNG.
    public func respond(_ category: Int) throws -> Int {
        var source = SecureRandomSource()
        return try respond(category, using: &source)
    }

    /// Unbiased estimates of the fraction of respondents in each category:
    /// `(f_j − q)/(p − q)` with `f_j` the reported fraction, `p` the truth and `q` the other probability.
    ///
    /// - Parameter counts: the number of reports of each category (`categories` entries, each ≥ 0, total ≥ 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for a wrong length, a negative count or no reports.
    public func estimateFrequencies(counts: [Int]) throws -> [Double] {
        guard counts.count == categories else {
            throw VeilError.invalidParameter("counts", "\(counts.count) entries", allowed: "exactly \(categories) entries")
        }
        if let negative = counts.first(where: { $0 < 0 }) {
            throw VeilError.invalidParameter("counts", negative, allowed: "non-negative counts")
        }
        let total = counts.reduce(0, +)
        try ParameterCheck.count(total, name: "total count", minimum: 1)
        let p = truthProbability
        let q = otherProbability
        return counts.map { (Double($0) / Double(total) - q) / (p - q) }
    }
}
