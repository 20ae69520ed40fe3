import Foundation
import Mechanisms

/// The per-group totals of the single-pass aggregation (computed per unit partition by ``UnitBounding``) and
/// how a kept (unit, group) pair contributes to them.
struct BoundedTotals {
    let plan: QueryPlan
    let scan: BoundedScan
    let accumulation: BoundedAccumulation
    /// Exact totals, one per (group, scalar quantity): at most 2³¹ pairs of at most 2⁶³ each fit in 128 bits, so
    /// no sum can overflow; each total is clamped to the range of Int64 when read (see ``saturatedTotal(_:)``).
    let totals: [Int128]
    /// Whether a group has at least one kept pair.
    let present: [Bool]

    /// Hands the true per-group quantities to `body` one at a time, without holding them all, in the order and
    /// with the groups the SQL form returns: every public key combination (zeros when empty), else the groups
    /// that keep at least one pair, sorted by key; a query without `GROUP BY` has exactly one group.
    func forEachGroup(_ body: (TrueGroup) throws -> Void) rethrows {
        let scalars = plan.quantities.filter { $0.dimension == 1 }
        func trueGroup(key: [SQLValue], id: Int?) -> TrueGroup {
            var values = plan.quantities.map { [Int64](repeating: 0, count: $0.dimension) }
            if let id {
                for (offset, q) in scalars.enumerated() {
                    values[q.index][0] = Self.saturatedTotal(totals[id * scalars.count + offset])
                }
            }
            return TrueGroup(key: key, values: values)
        }
        if plan.keys.isEmpty {
            try body(trueGroup(key: [], id: accumulation.group(withKey: []).flatMap { present[$0] ? $0 : nil }))
            return
        }
        if let combinations = scan.publicKeyCombinations {
            for key in combinations {
                let id = accumulation.group(withKey: key)
                try body(trueGroup(key: key.map(\.canonicalKey), id: id.flatMap { present[$0] ? $0 : nil }))
            }
            return
        }
        let order = present.indices.filter { present[$0] }
            .sorted { accumulation.groupKey($0).lexicographicallyPrecedes(accumulation.groupKey($1)) }
        for id in order { try body(trueGroup(key: Array(accumulation.groupKey(id)), id: id)) }
    }

    /// A group's exact total clamped to the range of `Int64`, the same as `veil_sum` (``SaturatingSum``) in the SQL form.
    ///
    /// Clamping is a 1-Lipschitz function of the exact total, so adding or removing one unit still moves the
    /// clamped total by at most that unit's bounded contribution: the sensitivity analysis holds unchanged
    /// (docs/design.md §2 rule 8), and no data can make the query fail.
    static func saturatedTotal(_ total: Int128) -> Int64 { Int64(clamping: total) }

    /// How one pair contributes to one scalar quantity, resolved once per query: which scan column it reads
    /// (`j`), and the constants of its bound.
    enum ContributionRule {
        case rows(m: Int64)
        case nonNull(j: Int, m: Int64)
        case unit
        case sum(j: Int, low: Double, high: Double, perGrid: Double)
        case centeredSum(j: Int, m: Double, center: Double, perGrid: Double)
        case meanSquares(j: Int, m: Double, perGrid: Double)
        case none
    }

    /// The rule of scalar quantity `q`.
    static func rule(_ q: NoisyQuantity, plan: QueryPlan, scan: BoundedScan) -> ContributionRule {
        let m = plan.maxRowsPerPartition
        let perGrid = 1 / q.granularity
        func column(_ c: String) -> Int { scan.columns.firstIndex(of: c)! }
        switch q.kind {
        case .rowCount:
            return .rows(m: Int64(m))
        case .nonNullCount(let c):
            return .nonNull(j: column(c), m: Int64(m))
        case .unitCount:
            return .unit
        case .sum(let c):
            let b = c.bounds
            return .sum(j: column(c.name), low: Double(m) * Swift.min(b.lowerBound, 0),
                        high: Double(m) * Swift.max(b.upperBound, 0), perGrid: perGrid)
        case .centeredSum(let c, let center):
            return .centeredSum(j: column(c.name), m: Double(m), center: center, perGrid: perGrid)
        case .centeredSumOfSquares(let c, _):
            return .meanSquares(j: column(c.name), m: Double(m), perGrid: perGrid)
        case .histogram:
            return .none   // computed by its own statement
        }
    }

    /// The bounded contribution under `rule` of a pair with `rows` rows and the accumulators of ``BoundedAccumulation``
    /// at `base` in `accumulators`, in units of the quantity's granularity: the same arithmetic as the SQL form's
    /// per-(unit, group) step (counts capped at m, sums clamped, means scaled to at most m values, rounded half away
    /// from zero to the grid).
    static func contribution(_ rule: ContributionRule, rows: Int64, accumulators: [Double], base: Int,
                             columns: [BoundedAccumulation.Column]) -> Int64 {
        func grid(_ x: Double, _ perGrid: Double) -> Int64 {
            let scaled = (perGrid == 1 ? x : x * perGrid).rounded()
            // A NaN (from ±∞ in a column with infinite bounds) contributes nothing: SQLite makes it NULL, which
            // its SUM skips.
            if scaled.isNaN { return 0 }
            // SQLite's CAST saturates; so does this.
            if scaled >= 9.223372036854775e18 { return .max }
            if scaled <= -9.223372036854775e18 { return .min }
            return Int64(scaled)
        }
        func column(_ j: Int) -> (count: Double, sum: Double, squares: Double) {
            let o = base + columns[j].offset
            return (accumulators[o], accumulators[o + 1], columns[j].squaresAround == nil ? 0 : accumulators[o + 2])
        }
        switch rule {
        case .rows(let m):
            return Swift.min(rows, m)
        case .nonNull(let j, let m):
            return Swift.min(Int64(column(j).count), m)
        case .unit:
            return 1
        case .sum(let j, let low, let high, let perGrid):
            return grid(Swift.max(low, Swift.min(high, column(j).sum)), perGrid)
        case .centeredSum(let j, let m, let center, let perGrid):
            let a = column(j)
            guard a.count > 0 else { return 0 }
            return grid(Swift.min(a.count, m) * (a.sum / a.count - center), perGrid)
        case .meanSquares(let j, let m, let perGrid):
            let a = column(j)
            guard a.count > 0 else { return 0 }
            return grid(Swift.min(a.count, m) * (a.squares / a.count), perGrid)
        case .none:
            return 0
        }
    }
}
