import Foundation
import Mechanisms

/// The second half of the single-pass aggregation: each unit keeps at most k groups, and the kept (unit, group)
/// pairs' bounded contributions are summed per group (see ``BoundedAggregator``).
struct BoundedTotals {
    let plan: QueryPlan
    let scan: BoundedScan
    let accumulation: BoundedAccumulation

    /// The true per-group quantities, in the order and with the groups the SQL form returns: every public key
    /// combination (zeros when empty), else the groups that keep at least one pair, sorted by key; a query
    /// without `GROUP BY` has exactly one group.
    func groups() throws -> [TrueGroup] {
        let kept = keptPairs()
        let scalars = plan.quantities.filter { $0.dimension == 1 }
        let columnOfQuantity = scalars.map { q -> Int? in
            switch q.kind {
            case .nonNullCount(let c), .sum(let c), .centeredSum(let c, _), .centeredSumOfSquares(let c, _):
                return scan.columns.firstIndex(of: c)
            default:
                return nil
            }
        }
        let sumBounds = scalars.map { q -> ClosedRange<Double> in
            guard case .sum(let c) = q.kind, let b = plan.table.column(named: c)?.bounds else { return 0...0 }
            let m = Double(plan.maxRowsPerPartition)
            return (m * Swift.min(b.lowerBound, 0))...(m * Swift.max(b.upperBound, 0))
        }
        var totals = [Int64](repeating: 0, count: accumulation.groupKeys.count * scalars.count)
        var present = [Bool](repeating: false, count: accumulation.groupKeys.count)
        for pair in kept {
            let group = Int(accumulation.pairGroup[pair])
            present[group] = true
            for (offset, q) in scalars.enumerated() {
                let (sum, overflow) = totals[group * scalars.count + offset].addingReportingOverflow(
                    contribution(q, column: columnOfQuantity[offset], sumBounds: sumBounds[offset], pair: pair))
                guard !overflow else {
                    throw VeilError(.invalidInput, "a per-group total of \(q.kind) overflows 64-bit integers")
                }
                totals[group * scalars.count + offset] = sum
            }
        }
        func trueGroup(key: [SQLValue], id: Int?) -> TrueGroup {
            var values = plan.quantities.map { [Int64](repeating: 0, count: $0.dimension) }
            if let id {
                for (offset, q) in scalars.enumerated() { values[q.index][0] = totals[id * scalars.count + offset] }
            }
            return TrueGroup(key: key, values: values)
        }
        if plan.keys.isEmpty {
            return [trueGroup(key: [], id: accumulation.group(withKey: []))]
        }
        if let combinations = scan.publicKeyCombinations {
            return combinations.map { key in
                let id = accumulation.group(withKey: key)
                return trueGroup(key: key, id: id.flatMap { present[$0] ? $0 : nil })
            }
        }
        return present.indices.filter { present[$0] }
            .sorted { accumulation.groupKeys[$0].lexicographicallyPrecedes(accumulation.groupKeys[$1]) }
            .map { trueGroup(key: accumulation.groupKeys[$0], id: $0) }
    }

    /// The pairs that survive partition sampling: all of them when no unit can touch more than k groups;
    /// otherwise, per unit, k of its groups chosen uniformly at random (fresh randomness from the operating
    /// system, or the smallest keyed hashes for ``PartitionSampling/keyedHash(_:)``).
    func keptPairs() -> [Int] {
        let pairs = accumulation.pairCount
        guard let k = scan.maxGroupsPerUnit else { return Array(0..<pairs) }
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
                    (p, SipHash24.priority(key: key, of: [unit] + accumulation.groupKeys[Int(accumulation.pairGroup[p])]))
                }
                kept += ranked.sorted { $0.1 < $1.1 }.prefix(k).map(\.0)
            }
        }
        return kept
    }

    /// The bounded contribution of pair `p` to scalar quantity `q` (which aggregates column `j` of the scan, if
    /// any; a sum is clamped to `sumBounds`), in units of its granularity: the same arithmetic as the SQL form's
    /// per-(unit, group) step.
    func contribution(_ q: NoisyQuantity, column j: Int?, sumBounds: ClosedRange<Double>, pair p: Int) -> Int64 {
        let m = plan.maxRowsPerPartition
        func grid(_ x: Double) -> Int64 {
            let scaled = (q.granularity == 1 ? x : x * (1 / q.granularity)).rounded()
            // SQLite's CAST saturates; so does this.
            if scaled >= 9.223372036854775e18 { return .max }
            if scaled <= -9.223372036854775e18 { return .min }
            return Int64(scaled)
        }
        func column(_: String) -> (count: Double, sum: Double, squares: Double) {
            accumulation.column(j!, ofPair: p)
        }
        switch q.kind {
        case .rowCount:
            return Swift.min(accumulation.pairRows[p], Int64(m))
        case .nonNullCount(let c):
            return Swift.min(Int64(column(c).count), Int64(m))
        case .unitCount:
            return 1
        case .sum(let c):
            return grid(Swift.max(sumBounds.lowerBound, Swift.min(sumBounds.upperBound, column(c).sum)))
        case .centeredSum(let c, let center):
            let a = column(c)
            guard a.count > 0 else { return 0 }
            return grid(Swift.min(a.count, Double(m)) * (a.sum / a.count - center))
        case .centeredSumOfSquares(let c, _):
            let a = column(c)
            guard a.count > 0 else { return 0 }
            return grid(Swift.min(a.count, Double(m)) * (a.squares / a.count))
        case .histogram:
            return 0   // computed by its own statement
        }
    }
}
