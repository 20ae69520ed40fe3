import BudgetLedger
import Foundation

/// How a query's ε (Laplace noise) or ρ (Gaussian noise) is divided among its noisy quantities: by their effect
/// on the released aggregates' error, not equally.
///
/// Each aggregate a spreads its error over the quantities it reads: with every quantity at the same budget, a
/// fraction r(a, i) of its variance comes from quantity i (1 for a count or a sum; for `AVG` = S/N + mid, the
/// delta method gives Var ≈ (Var S + μ²·Var N)/N² with μ the centred mean and Δ_S = half·Δ_N, so r = 3/4 for S
/// and 1/4 for N when μ is taken uniform on [−half, half], E μ² = half²/3, because the bounds are all that is
/// known before the data is read; for `VARIANCE` = SS/N − (S/N)² and `STDDEV`, the same prior with the mean
/// square SS/N = half²/3 gives SS : S : N = 9 : 12 : 1 over 22). With user weights w_a (default 1) the cost of a
/// split is Σ_a w_a · Var_a / Var_a(equal budgets) = Σ_i c_i / ε_i², c_i = Σ_a w_a·r(a, i) (a quantity that
/// only serves partition selection has c = 1). Minimising it subject to Σ ε_i = ε (Lagrange) gives
/// **ε_i ∝ c_i^{1/3}**; with Gaussian noise Var ∝ 1/ρ_i and the minimum of Σ c_i/ρ_i is at **ρ_i ∝ √c_i**.
///
/// The ε shares are whole numbers of the ledger's ε unit (10⁻¹², ``FixedPointAmount``), allotted by largest
/// remainder, so that they sum exactly to ε rounded down to that unit: the declared ε whenever it has at most
/// 12 decimals, and then exactly the charged cost. The ρ shares are scaled so that their floating-point sum does
/// not exceed ρ.
struct BudgetSplit {
    /// c_i per quantity.
    let costs: [Double]

    /// The costs of `quantityCount` quantities read by `aggregates` with `weights` (one per aggregate, in the
    /// plan's aggregate order; `nil`: all 1).
    init(quantityCount: Int, aggregates: [PlannedAggregate], weights: [Double]?) {
        var costs = [Double](repeating: 0, count: quantityCount)
        for (a, aggregate) in aggregates.enumerated() {
            let w = weights.map { $0[a] } ?? 1
            for (i, share) in zip(aggregate.quantities, Self.varianceShares(aggregate)) { costs[i] += w * share }
        }
        // A quantity no aggregate reads (the unit count of partition selection) weighs as one aggregate.
        self.costs = costs.map { $0 > 0 ? $0 : 1 }
    }

    /// r(a, i) for the aggregate's quantities, in their order.
    static func varianceShares(_ aggregate: PlannedAggregate) -> [Double] {
        switch aggregate.function {
        case .average: return [1.0 / 4, 3.0 / 4]                         // N, S
        case .variance, .standardDeviation: return [1.0 / 22, 12.0 / 22, 9.0 / 22]   // N, S, SS
        default: return [Double](repeating: 1 / Double(max(1, aggregate.quantities.count)), count: aggregate.quantities.count)
        }
    }

    /// The ε shares: ∝ c_i^{1/3}, in whole units of 10⁻¹² summing to ε rounded down to that unit. Falls back to
    /// ε/n when ε is below a thousand units per quantity (a share of a few units would be mostly rounding).
    func epsilonShares(_ epsilon: Double) -> [Double] {
        let n = costs.count
        guard n > 0 else { return [] }
        let equal = [Double](repeating: epsilon / Double(n), count: n)
        guard let total = try? FixedPointAmount.units(epsilon, scale: FixedPointAmount.epsilonScale, rounding: .down),
              total >= 1000 * Int64(n), total < 1 << 50 else { return equal }
        let weights = costs.map { cbrt($0) }
        let sum = weights.reduce(0, +)
        let exact = weights.map { Double(total) * $0 / sum }
        var units = exact.map { Int64($0.rounded(.down)) }
        var left = total - units.reduce(0, +)
        // Largest remainder first; ties by index.
        let remainders = exact.indices.map { exact[$0] - Double(units[$0]) }
        let order = exact.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        for i in order {
            guard left > 0 else { break }
            units[i] += 1
            left -= 1
        }
        let unit = pow(10, Double(FixedPointAmount.epsilonScale))
        return units.map { Double($0) / unit }
    }

    /// The ρ shares: ∝ √c_i, their floating-point sum at most ρ.
    func rhoShares(_ rho: Double) -> [Double] {
        let weights = costs.map { $0.squareRoot() }
        let sum = weights.reduce(0, +)
        var shares = weights.map { rho * $0 / sum }
        while shares.reduce(0, +) > rho { shares = shares.map { $0.nextDown } }
        return shares
    }
}
