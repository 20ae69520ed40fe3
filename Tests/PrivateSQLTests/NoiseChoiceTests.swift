import _TestSupport
import Accounting
import Testing
@testable import PrivateSQL

/// The default noise with δ > 0 is the one with the smaller expected errors, chosen from the plans alone.
@Suite("Default noise: Laplace or Gaussian, by expected error")
struct NoiseChoiceTests {
    static func metadata(k: Int?, m: Int?, r: Int?) throws -> PrivacyMetadata {
        try PrivacyMetadata.parse(yaml: PrivacyMetadataFixture(
            maxPartitionsPerUnit: k, maxRowsPerPartition: m, maxRowsPerUnit: r,
            columns: [("uid", "{type: integer}"), ("g", "{type: text}"),
                      ("y", "{type: integer, public_values: [1, 2, 3, 4, 5]}"),
                      ("x", "{type: integer, lower: 0, upper: 10}")]).yaml, source: "privacy.yaml")
    }

    /// Each exact expected half-width of `plan`, in output order.
    static func widths(_ plan: QueryPlan) throws -> [Double] {
        try plan.expectedHalfWidths().compactMap { if case .exact(let h) = $0 { h } else { nil } }
    }

    @Test("each noise wins where it should, the winner is never worse on any column and better on one, and the cost is the same",
          arguments: [
            // A total bound alone: one group may take a unit's five rows (L1 = L2), and δ pays only the threshold.
            (nil, nil, 5, "SELECT g, COUNT(*), SUM(x) FROM t GROUP BY g", 2.0, 1.5e-5, QueryNoise.laplace),
            // Five public groups of one row each (L2 = √5 ≪ L1 = 5) and four quantities at a large ε.
            (5, 1, nil, "SELECT y, COUNT(*), SUM(x), COUNT(x), COUNT(DISTINCT uid) FROM t GROUP BY y", 8.0, 1e-3,
             QueryNoise.gaussian),
          ] as [(Int?, Int?, Int?, String, Double, Double, QueryNoise)])
    func choice(_ row: (Int?, Int?, Int?, String, Double, Double, QueryNoise)) throws {
        let planner = QueryPlanner(metadata: try Self.metadata(k: row.0, m: row.1, r: row.2))
        let budget = try PrivacyParameters(epsilon: row.4, delta: row.5)
        let chosen = try planner.plan(row.3, budget: budget)
        let laplace = try planner.plan(row.3, budget: budget, noise: .laplace)
        let gaussian = try planner.plan(row.3, budget: budget, noise: .gaussian)
        #expect(chosen.noise == row.6)
        let (winner, loser) = row.6 == .laplace ? (laplace, gaussian) : (gaussian, laplace)
        let winnerWidths = try Self.widths(winner), loserWidths = try Self.widths(loser)
        #expect(try Self.widths(chosen) == winnerWidths)
        #expect(winnerWidths.count == loserWidths.count && !winnerWidths.isEmpty)
        #expect(zip(winnerWidths, loserWidths).allSatisfy { $0 <= $1 }, "\(winnerWidths) vs \(loserWidths)")
        #expect(zip(winnerWidths, loserWidths).contains { $0 < $1 }, "\(winnerWidths) vs \(loserWidths)")
        #expect(chosen.budget == budget && laplace.budget == gaussian.budget)
    }

    @Test("δ = 0 keeps Laplace; an explicit noise is kept as asked")
    func explicit() throws {
        let planner = QueryPlanner(metadata: try Self.metadata(k: 5, m: 1, r: nil))
        let query = "SELECT y, COUNT(*), SUM(x), COUNT(x), COUNT(DISTINCT uid) FROM t GROUP BY y"
        let pure = try planner.plan(query, budget: PrivacyParameters(epsilon: 20))
        #expect(pure.noise == .laplace)
        let laplace = try planner.plan(query, budget: PrivacyParameters(epsilon: 20, delta: 1e-3), noise: .laplace)
        #expect(laplace.noise == .laplace)
        let r5 = QueryPlanner(metadata: try Self.metadata(k: nil, m: nil, r: 5))
        let gaussian = try r5.plan("SELECT g, COUNT(*) FROM t GROUP BY g", budget: PrivacyParameters(epsilon: 2, delta: 1e-5),
                                   noise: .gaussian)
        #expect(gaussian.noise == .gaussian)
    }
}
