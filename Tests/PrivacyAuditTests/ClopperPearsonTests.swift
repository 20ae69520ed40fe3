import Foundation
import Mechanisms
import PrivacyAudit
import Testing

/// Clopper–Pearson bounds against reference values (SciPy 1.17's `scipy.stats.beta.ppf`, an independent
/// implementation of the beta quantile) and against the binomial tail they must invert.
@Suite("Clopper–Pearson bounds")
struct ClopperPearsonTests {
    @Test("Bounds match the beta quantiles of SciPy",
          arguments: [(5, 10, 0.025, 0.18708602844739855, 0.8129139715526015),
                      (0, 10, 0.025, 0.0, 0.3084971078187607),
                      (37, 200, 0.005, 0.12003614826512815, 0.26546828326787136),
                      (999, 1000, 0.025, 0.9944410757201734, 0.9999746825125088),
                      (1, 100_000, 0.05, 5.129328123254254e-07, 4.743775717386053e-05)])
    func referenceValues(successes: Int, trials: Int, alpha: Double, lower: Double, upper: Double) throws {
        let computedLower = try ClopperPearson.lowerBound(successes: successes, trials: trials, alpha: alpha)
        let computedUpper = try ClopperPearson.upperBound(successes: successes, trials: trials, alpha: alpha)
        #expect(abs(computedLower - lower) <= 1e-9 * max(lower, 1e-300), "lower \(computedLower)")
        #expect(abs(computedUpper - upper) <= 1e-9 * upper, "upper \(computedUpper)")
    }

    @Test("No successes: the upper bound is 1 − α^(1/n); all successes: the lower bound is α^(1/n)")
    func closedForms() throws {
        let alpha = 0.01
        #expect(abs(try ClopperPearson.upperBound(successes: 0, trials: 50, alpha: alpha) - (1 - pow(alpha, 1.0 / 50))) < 1e-12)
        #expect(abs(try ClopperPearson.lowerBound(successes: 50, trials: 50, alpha: alpha) - pow(alpha, 1.0 / 50)) < 1e-12)
        #expect(try ClopperPearson.lowerBound(successes: 0, trials: 50, alpha: alpha) == 0)
        #expect(try ClopperPearson.upperBound(successes: 50, trials: 50, alpha: alpha) == 1)
    }

    @Test("The upper bound p_U solves P[Bin(n, p_U) ≤ k] = α and the lower bound P[Bin(n, p_L) ≥ k] = α")
    func invertsTheBinomialTail() throws {
        let n = 40
        let alpha = 0.05
        for k in [1, 7, 20, 39] {
            let upper = try ClopperPearson.upperBound(successes: k, trials: n, alpha: alpha)
            let lower = try ClopperPearson.lowerBound(successes: k, trials: n, alpha: alpha)
            let atMostK = (0...k).reduce(0.0) { $0 + binomialProbability(n, $1, upper) }
            let atLeastK = (k...n).reduce(0.0) { $0 + binomialProbability(n, $1, lower) }
            #expect(abs(atMostK - alpha) < 1e-9, "k = \(k): P[Bin ≤ k] = \(atMostK)")
            #expect(abs(atLeastK - alpha) < 1e-9, "k = \(k): P[Bin ≥ k] = \(atLeastK)")
        }
    }

    @Test("The two-sided interval puts α/2 on each side")
    func twoSided() throws {
        let interval = try ClopperPearson.interval(successes: 5, trials: 10, confidence: 0.95)
        #expect(abs(interval.lowerBound - 0.18708602844739855) < 1e-9)
        #expect(abs(interval.upperBound - 0.8129139715526015) < 1e-9)
    }

    @Test("Arguments out of range are refused with the parameter named")
    func refusals() {
        #expect(throws: VeilError(.invalidParameter, "successes must be in 0...10, got 11")) {
            try ClopperPearson.lowerBound(successes: 11, trials: 10, alpha: 0.05)
        }
        #expect(throws: VeilError(.invalidParameter, "trials must be at least 1, got 0")) {
            try ClopperPearson.upperBound(successes: 0, trials: 0, alpha: 0.05)
        }
        #expect(throws: VeilError(.invalidParameter, "alpha must be in the open interval (0, 1), got 1.0")) {
            try ClopperPearson.upperBound(successes: 0, trials: 5, alpha: 1)
        }
        #expect(throws: VeilError(.invalidParameter, "confidence must be in the open interval (0, 1), got nan")) {
            try ClopperPearson.interval(successes: 0, trials: 5, confidence: .nan)
        }
    }

    /// `C(n, k) p^k (1 − p)^(n − k)` through logarithms.
    func binomialProbability(_ n: Int, _ k: Int, _ p: Double) -> Double {
        let logChoose = lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
        return exp(logChoose + Double(k) * log(p) + Double(n - k) * log1p(-p))
    }
}
