import Foundation
@testable import Mechanisms
import _TestSupport

/// The false-failure budget shared by every statistical check in this target.
///
/// Each check rejects at `alpha`; with at most `checks` checks, the probability that a correct
/// implementation fails any of them (over the choice of seeds) is at most `family` (Bonferroni).
enum StatisticalBudget {
    static let family = 1e-5
    static let checks = 40
    static let alpha = family / Double(checks)
    /// Two-sided normal quantile for `alpha` (Q(5.16) = 1.23e-7, so 2·Q < 2.5e-7).
    static let z = 5.16
}

/// `P(k) = (1 − p)/(1 + p)·p^|k|`, `p = exp(−1/scale)`, for each `k` in `range`.
func discreteLaplacePMF(scale: Double, range: ClosedRange<Int>) -> [Double] {
    let p = exp(-1 / scale)
    return range.map { (1 - p) / (1 + p) * pow(p, Double(abs($0))) }
}

/// The normalised discrete Gaussian mass `e^{−k²/2σ²}/Σ` for each `k` in `range`.
func discreteGaussianPMF(sigmaSquared: Double, range: ClosedRange<Int>) -> [Double] {
    let limit = Int((40 * sigmaSquared.squareRoot()).rounded(.up)) + 2
    let total = (-limit...limit).reduce(0.0) { $0 + exp(-Double($1 * $1) / (2 * sigmaSquared)) }
    return range.map { exp(-Double($0 * $0) / (2 * sigmaSquared)) / total }
}

/// Counts of each value of `range` among `samples` (values outside are left to the remainder cell).
func histogram(_ samples: [Int], range: ClosedRange<Int>) -> [Int] {
    var counts = [Int](repeating: 0, count: range.count)
    for s in samples where range.contains(s) { counts[s - range.lowerBound] += 1 }
    return counts
}

/// Whether `successes` out of `trials` is consistent with success probability `p` at level
/// ``StatisticalBudget/alpha`` (normal approximation, valid for the large counts used here).
func binomialConsistent(successes: Int, trials: Int, probability p: Double) -> Bool {
    let mean = Double(trials) * p
    let sd = (Double(trials) * p * (1 - p)).squareRoot()
    return abs(Double(successes) - mean) <= StatisticalBudget.z * sd + 1e-9
}

/// The p-value of a Bernoulli sampler's success count against `p` (two-cell chi-squared).
func bernoulliPValue(successes: Int, trials: Int, probability p: Double) -> Double {
    chiSquaredGoodnessOfFit(observed: [successes, trials - successes],
                            probabilities: [p, 1 - p], sampleCount: trials).pValue
}
