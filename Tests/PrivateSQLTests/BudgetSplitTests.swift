import _TestSupport
import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import Testing
@testable import PrivateSQL

/// The split of a query's ε (or ρ) over its noisy quantities by their effect on the aggregates' error.
@Suite("Budget split by accuracy")
struct BudgetSplitTests {
    static let yaml = PrivacyMetadataFixture(
        maxPartitionsPerUnit: 2, maxRowsPerPartition: 3,
        columns: [("uid", "{type: integer}"), ("g", "{type: text}"), ("x", "{type: integer, lower: 0, upper: 10}"),
                  ("r", "{type: real, lower: 2, upper: 6}")]).yaml

    func plan(_ query: String, epsilon: Double, delta: Double = 0, noise: QueryNoise = .laplace,
              weights: [Double]? = nil) throws -> QueryPlan {
        let metadata = try PrivacyMetadata.parse(yaml: Self.yaml, source: "privacy.yaml")
        return try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: epsilon, delta: delta),
                                                         sampling: .keyedHash(.insecureFixed(1, 2)), noise: noise,
                                                         accuracyWeights: weights)
    }

    static func units(_ epsilon: Double) throws -> Int64 {
        try FixedPointAmount.units(epsilon, scale: FixedPointAmount.epsilonScale, rounding: .up)
    }

    @Test("the shares sum exactly to the charged ε in the ledger's fixed-point units", arguments: [
        0.1, 1, 0.7, 2.5, 1e-3, 3.3,
    ])
    func sumsToCharge(epsilon: Double) throws {
        let p = try plan("SELECT g, COUNT(*), AVG(r), VARIANCE(x), MEDIAN(r) FROM t GROUP BY g",
                         epsilon: epsilon, delta: 1e-6)
        #expect(p.quantities.count == 8)   // rows, N(r), S(r), N(x), S(x), SS(x), histogram(r), unit count
        let shares = try p.quantities.map { try Self.units($0.epsilon) }
        #expect(shares.reduce(0, +) == (try Self.units(epsilon)))
        #expect(shares.allSatisfy { $0 > 0 })
        // Three equal shares: ε/3 rounded up in each share would charge more than ε (0.1/3 → 3 × 33333333334
        // units against 100000000000).
        let three = try plan("SELECT COUNT(*), SUM(x), COUNT(r) FROM t", epsilon: epsilon)
        let thirds = try three.quantities.map { try Self.units($0.epsilon) }
        #expect(thirds.count == 3)
        #expect(thirds.reduce(0, +) == (try Self.units(epsilon)))
        #expect(thirds.max()! - thirds.min()! <= 1)
    }

    @Test("AVG: the sum gets ∛3 times the count's ε (r = 3/4 and 1/4)")
    func average() throws {
        let p = try plan("SELECT AVG(r) FROM t", epsilon: 1)
        #expect(p.quantities.count == 2)
        let expectedCount = 1 / (1 + cbrt(3.0))          // 0.40946…
        #expect(abs(p.quantities[0].epsilon - expectedCount) <= 1e-12)
        #expect(abs(p.quantities[1].epsilon - (1 - expectedCount)) <= 1e-12)
        // The variance of the ratio under the rule's prior (r_S/ε_S² + r_N/ε_N²) is below the equal split's.
        let split = 0.75 / pow(p.quantities[1].epsilon, 2) + 0.25 / pow(p.quantities[0].epsilon, 2)
        #expect(split < 0.75 / 0.25 + 0.25 / 0.25)
    }

    @Test("weights: ε ∝ ∛(weight) with Laplace noise, ρ ∝ √(weight) with Gaussian noise")
    func weights() throws {
        let laplace = try plan("SELECT COUNT(*), SUM(x) FROM t", epsilon: 0.3, weights: [8, 1])
        #expect(laplace.quantities.map(\.epsilon) == [0.2, 0.1])
        let gaussian = try plan("SELECT COUNT(*), SUM(x) FROM t", epsilon: 1, delta: 1e-6, noise: .gaussian,
                                weights: [4, 1])
        let rho = try #require(gaussian.rho)
        for (q, fraction) in zip(gaussian.quantities, [2.0 / 3, 1.0 / 3]) {
            guard case .discreteGaussian(let sigma, let l2) = q.noise else { Issue.record("Gaussian expected"); return }
            // σ is rounded up to 12 significant bits, so the ρ it spends is at most its share and within 2⁻¹⁰ of it.
            let spent = Double(l2 * l2) / (2 * sigma * sigma)
            #expect(spent <= rho * fraction * (1 + 1e-12))
            #expect(spent >= rho * fraction * (1 - 1.0 / 1024))
        }
        #expect(throws: QueryError.self) { try plan("SELECT COUNT(*), SUM(x) FROM t", epsilon: 1, weights: [1]) }
        #expect(throws: QueryError.self) { try plan("SELECT COUNT(*), SUM(x) FROM t", epsilon: 1, weights: [1, 0]) }
        #expect(throws: QueryError.self) { try plan("SELECT COUNT(*), SUM(x) FROM t", epsilon: 1, weights: [1, .nan]) }
    }
}
