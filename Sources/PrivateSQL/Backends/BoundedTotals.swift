import Foundation
import Mechanisms

/// The second half of the single-pass aggregation: each unit keeps at most k groups, and the kept (unit, group)
/// pairs' bounded contributions are summed per group (see ``BoundedAggregator``).
struct BoundedTotals {
    let plan: QueryPlan
    let scan: BoundedScan
    let accumulation: BoundedAccumulation

    /// Hands the true per-group quantities to `body` one at a time, without holding them all, in the order and
    /// with the groups the SQL form returns: every public key combination (zeros when empty), else the groups
    /// that keep at least one pair, sorted by key; a query without `GROUP BY` has exactly one group.
    func forEachGroup(_ body: (TrueGroup) throws -> Void) rethrows {
        let scalars = plan.quantities.filter { $0.dimension == 1 }
        let rules = scalars.map(rule)
        // Exact totals: at most 2³¹ pairs of at most 2⁶³ each fit in 128 bits, so no sum can overflow; each total
        // is then clamped to the range of Int64 (see ``saturatedTotal(_:)``).
        var totals = [Int128](repeating: 0, count: accumulation.groupCount * scalars.count)
        var present = [Bool](repeating: false, count: accumulation.groupCount)
        func add(_ pair: Int) {
            let group = Int(accumulation.pairGroup[pair])
            present[group] = true
            for (offset, rule) in rules.enumerated() {
                totals[group * scalars.count + offset] += Int128(contribution(rule, pair: pair))
            }
        }
        if let kept = keptPairs() {
            for pair in kept { add(pair) }
        } else {
            for pair in 0..<accumulation.pairCount { add(pair) }
        }
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
            try body(trueGroup(key: [], id: accumulation.group(withKey: [])))
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

    /// The pairs that survive partition sampling: `nil` (all of them) when no unit can touch more than k groups;
    /// otherwise, per unit, k of its groups chosen uniformly at random (fresh randomness from the operating
    /// system, or the smallest keyed hashes for ``PartitionSampling/keyedHash(_:)``).
    func keptPairs() -> [Int]? {
        let pairs = accumulation.pairCount
        guard let k = scan.maxGroupsPerUnit else { return nil }
        // Counting sort of the pairs by unit.
        var start = [Int](repeating: 0, count: accumulation.unitCount + 1)
        for p in 0..<pairs { start[Int(accumulation.pairUnit[p]) + 1] += 1 }
        for u in 0..<accumulation.unitCount { start[u + 1] += start[u] }
        var next = start
        var byUnit = [Int](repeating: 0, count: pairs)
        for p in 0..<pairs {
            let u = Int(accumulation.pairUnit[p])
            byUnit[next[u]] = p
            next[u] += 1
        }
        var kept: [Int] = []
        kept.reserveCapacity(pairs)
        var random = SecureRandomSource()
        for u in 0..<accumulation.unitCount {
            let groups = byUnit[start[u]..<start[u + 1]]
            if groups.count <= k {
                kept += groups
                continue
            }
            switch plan.sampling {
            case .random:
                // Partial Fisher–Yates: the first k of a uniformly random permutation.
                var candidates = Array(groups)
                for i in 0..<k {
                    let j = i + Int(random.uniform(below: UInt64(candidates.count - i)))
                    candidates.swapAt(i, j)
                }
                kept += candidates[0..<k]
            case .keyedHash(let key):
                let unit = accumulation.unitValues[u]
                let ranked = groups.map { p in
                    (p, KeyedPriority.priority(key: key, of: [unit] + accumulation.groupKey(Int(accumulation.pairGroup[p]))))
                }
                kept += ranked.sorted { $0.1 < $1.1 }.prefix(k).map(\.0)
            }
        }
        return kept
    }

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
    func rule(_ q: NoisyQuantity) -> ContributionRule {
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

    /// The bounded contribution of pair `p` under `rule`, in units of the quantity's granularity: the same
    /// arithmetic as the SQL form's per-(unit, group) step (counts capped at m, sums clamped, means scaled to at
    /// most m values, rounded half away from zero to the grid).
    func contribution(_ rule: ContributionRule, pair p: Int) -> Int64 {
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
        switch rule {
        case .rows(let m):
            return Swift.min(accumulation.pairRows[p], m)
        case .nonNull(let j, let m):
            return Swift.min(Int64(accumulation.column(j, ofPair: p).count), m)
        case .unit:
            return 1
        case .sum(let j, let low, let high, let perGrid):
            return grid(Swift.max(low, Swift.min(high, accumulation.column(j, ofPair: p).sum)), perGrid)
        case .centeredSum(let j, let m, let center, let perGrid):
            let a = accumulation.column(j, ofPair: p)
            guard a.count > 0 else { return 0 }
            return grid(Swift.min(a.count, m) * (a.sum / a.count - center), perGrid)
        case .meanSquares(let j, let m, let perGrid):
            let a = accumulation.column(j, ofPair: p)
            guard a.count > 0 else { return 0 }
            return grid(Swift.min(a.count, m) * (a.squares / a.count), perGrid)
        case .none:
            return 0
        }
    }
}
