import Accounting
import Foundation
import Mechanisms
import Testing
@testable import PrivateSQL

/// Half-widths known from the plan before the data is read, and the smallest ε meeting a target.
@Suite("Expected accuracy before running")
struct ExpectedAccuracyTests {
    func plan(_ query: String, epsilon: Double) throws -> QueryPlan {
        try QueryPlanner(metadata: try healthMetadata()).plan(query, budget: try PrivacyParameters(epsilon: epsilon),
                                                              sampling: .keyedHash(.insecureFixed(1, 2)))
    }

    // COUNT(*) without GROUP BY: Δ = 1 (one group, m = 1) and all of ε, so the noise is discrete Laplace with
    // r = e^(−ε) and P(|Z| ≥ h + 1) = 2r^(h+1)/(1 + r). The 95% half-width is 10 when 2r¹¹/(1 + r) ≤ 0.05 and
    // 2r¹⁰/(1 + r) > 0.05: for ε from 0.28435 to 0.31405.
    @Test("COUNT(*): the 95% half-width is the discrete Laplace quantile (known answers)")
    func countHalfWidth() throws {
        #expect(try plan("SELECT COUNT(*) FROM visits", epsilon: 0.285).expectedHalfWidths() == [.exact(10)])
        #expect(try plan("SELECT COUNT(*) FROM visits", epsilon: 0.284).expectedHalfWidths() == [.exact(11)])
        #expect(try plan("SELECT COUNT(*) FROM visits", epsilon: 0.314).expectedHalfWidths() == [.exact(10)])
        #expect(try plan("SELECT COUNT(*) FROM visits", epsilon: 0.315).expectedHalfWidths() == [.exact(9)])
    }

    @Test("--target-error: the smallest ε with three significant digits meeting the target")
    func targetError() throws {
        let epsilon = try TargetErrorSearch.smallestEpsilon(target: 10) { e in
            try plan("SELECT COUNT(*) FROM visits", epsilon: e)
        }
        #expect(epsilon == 0.285)
        // SUM(doctor_visits) ≤ 30 per row: Δ = 30, r = e^(−ε/30); 2r³⁰¹/(1 + r) ≤ 0.05 from ε = 0.29907.
        let sum = try TargetErrorSearch.smallestEpsilon(target: 300) { e in
            try plan("SELECT SUM(doctor_visits) FROM visits", epsilon: e)
        }
        #expect(sum == 0.3)
        #expect(throws: VeilError.self) {
            try TargetErrorSearch.smallestEpsilon(target: 1) { e in try plan("SELECT MEDIAN(income) FROM visits", epsilon: e) }
        }
        // Half-width 0: 2r/(1 + r) ≤ 0.05, r ≤ 1/39, ε ≥ ln 39 = 3.6636.
        #expect(try TargetErrorSearch.smallestEpsilon(target: 0.5) { e in
            try plan("SELECT COUNT(*) FROM visits", epsilon: e)
        } == 3.67)
        // A real-valued sum keeps half a grid step of rounding, which no ε ≤ 1000 brings below 1e-9.
        #expect(throws: VeilError.self) {
            try TargetErrorSearch.smallestEpsilon(target: 1e-9) { e in try plan("SELECT SUM(income) FROM visits", epsilon: e) }
        }
    }

    @Test("AVG is about (h_S + half·h_N)/n; keys, VARIANCE and MEDIAN depend on the data")
    func otherColumns() throws {
        let p = try plan("SELECT year, AVG(doctor_visits), MEDIAN(income), VARIANCE(income) FROM visits GROUP BY year",
                         epsilon: 1)
        let widths = try p.expectedHalfWidths()
        #expect(widths.count == 4)
        #expect(widths[0] == .dataDependent)
        #expect(widths[2] == .dataDependent)
        #expect(widths[3] == .dataDependent)
        let average = p.aggregates[0]
        let count = p.quantities[average.quantities[0]], sum = p.quantities[average.quantities[1]]
        let h = sum.granularity * Double(try sum.noiseHalfWidth(level: 0.975))
            + 15 * count.granularity * Double(try count.noiseHalfWidth(level: 0.975))   // half = (30 − 0)/2
        #expect(widths[1] == .perCount(h))
    }
}
