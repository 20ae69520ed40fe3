import Foundation

/// The default noise of a query with δ > 0: the plan, discrete Laplace or discrete Gaussian, whose answers are
/// expected to be closer to the truth at the same (ε, δ).
///
/// Neither always wins. Gaussian noise is scaled to the L2 sensitivity and composes in zCDP, so it wins when a
/// unit spreads over many groups (L2 ≪ L1, e.g. k groups of m = 1 row: L2 = √k·m against L1 = k·m) or when a
/// query has many noisy quantities. Laplace noise is scaled to the L1 sensitivity and needs no conversion from
/// zCDP, so it wins when one group can take a unit's whole contribution (a total bound R alone gives L1 = L2 = R)
/// and δ goes to partition selection only. The choice depends on the plan alone (query, metadata, ε, δ), never
/// on the data, so it costs nothing; both plans are charged the same (ε, δ).
enum NoiseChoice {
    /// The plan with the smaller expected errors: the geometric mean, over the output columns whose expected
    /// 95% half-width is known before the data is read (``QueryPlan/expectedHalfWidths(level:)``), and over the
    /// partition-selection threshold when groups come from the data (a higher threshold drops more small
    /// groups), of Laplace's figure over Gaussian's. Gaussian on a tie or when nothing can be compared.
    static func lessNoisy(_ laplace: QueryPlan, _ gaussian: QueryPlan) -> QueryPlan {
        guard let laplaceWidths = try? laplace.expectedHalfWidths(),
              let gaussianWidths = try? gaussian.expectedHalfWidths() else { return gaussian }
        var logRatios: [Double] = []
        for (l, g) in zip(laplaceWidths, gaussianWidths) {
            switch (l, g) {
            case (.exact(let a), .exact(let b)), (.perCount(let a), .perCount(let b)):
                if a > 0, b > 0 { logRatios.append(log(a / b)) }
            default:
                continue
            }
        }
        if case .thresholding(_, let a, _) = laplace.selection, case .thresholding(_, let b, _) = gaussian.selection,
           a > 0, b > 0 {
            logRatios.append(log(Double(a) / Double(b)))
        }
        guard !logRatios.isEmpty else { return gaussian }
        return logRatios.reduce(0, +) < 0 ? laplace : gaussian
    }
}
