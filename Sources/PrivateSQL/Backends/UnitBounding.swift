import Foundation
import Mechanisms

/// The second half of the single-pass aggregation: after the scan, one unit partition at a time, each unit's
/// rows are bounded and the kept pairs' contributions are added to their groups' totals (``BoundedTotals``).
///
/// For one unit, in this order (the same steps, with the same arithmetic, as the SQL form of docs/private-sql.md,
/// *The rewrite*):
/// 1. with `max_rows_per_unit` R, the unit keeps its R rows of smallest priority (a uniformly random R-subset of
///    its rows, whatever their order in the table);
/// 2. its kept rows are added, in table order, to one accumulator block per group it touches (rows, and per
///    aggregated column the non-null count, the sum of clamped values, the sum of squared distances to the
///    middle of the bounds);
/// 3. a unit with more than k groups keeps k of them: a partial Fisher–Yates shuffle of its groups with the
///    operating system's CSPRNG, or the k of smallest keyed hash under ``PartitionSampling/keyedHash(_:)``;
/// 4. each kept pair's bounded contribution (``BoundedTotals/contribution(_:rows:accumulators:base:columns:)``)
///    is added to its group's exact 128-bit total.
///
/// Each unit's choices depend on its own rows alone, and every row of a unit is in its partition, so the result
/// does not depend on how the rows were ordered or partitioned. What this holds at once is one partition's rows
/// (a few words each) plus the pairs of one unit, instead of an accumulator block per (unit, group) of the table.
struct UnitBounding {
    let plan: QueryPlan
    let scan: BoundedScan

    /// Bounds every partition of `accumulation` (taking its rows) and returns the per-group totals.
    /// - Throws: ``SinglePassLimitExceeded`` when the temporary file of the rows cannot be read back (the SQL form
    ///   then answers, with the same totals).
    func totals(_ accumulation: inout BoundedAccumulation) throws -> BoundedTotals {
        let scalars = plan.quantities.filter { $0.dimension == 1 }
        let rules = scalars.map { BoundedTotals.rule($0, plan: plan, scan: scan) }
        let groupCount = accumulation.groupCount
        var state = UnitState(groupCount: groupCount, scalarCount: scalars.count, accumulation: accumulation,
                              rules: rules, maxGroupsPerUnit: scan.maxGroupsPerUnit, sampling: plan.sampling)
        let rowWords = accumulation.rows.rowWords
        for p in 0..<accumulation.rows.partitionCount {
            guard let words = accumulation.rows.take(p) else { throw SinglePassLimitExceeded() }
            guard !words.isEmpty else { continue }
            let rowCount = words.count / rowWords
            // Number the partition's units densely, then list each unit's rows in table order (counting sort).
            var integerUnits = IntegerIDTable()
            var localOfInteger: [Int32] = []
            var localOfInterned: [UInt64: Int32] = [:]
            var unitOfRow = [Int32](repeating: 0, count: rowCount)
            var unitRowCounts: [Int32] = []
            var unitFirstRow: [Int32] = []
            for r in 0..<rowCount {
                let unitWord = words[r * rowWords]
                let local: Int32
                if words[r * rowWords + 1] & BoundedAccumulation.internedUnitFlag == 0 {
                    let (id, inserted) = integerUnits.id(inserting: unitWord)
                    if inserted { localOfInteger.append(Int32(unitRowCounts.count)) }
                    local = localOfInteger[Int(id)]
                } else if let known = localOfInterned[unitWord] {
                    local = known
                } else {
                    local = Int32(unitRowCounts.count)
                    localOfInterned[unitWord] = local
                }
                if Int(local) == unitRowCounts.count {
                    unitRowCounts.append(0)
                    unitFirstRow.append(Int32(r))
                }
                unitRowCounts[Int(local)] += 1
                unitOfRow[r] = local
            }
            var start = [Int](repeating: 0, count: unitRowCounts.count + 1)
            for u in unitRowCounts.indices { start[u + 1] = start[u] + Int(unitRowCounts[u]) }
            var next = start
            var rowsByUnit = [Int32](repeating: 0, count: rowCount)
            for r in 0..<rowCount {
                let u = Int(unitOfRow[r])
                rowsByUnit[next[u]] = Int32(r)
                next[u] += 1
            }
            for u in unitRowCounts.indices {
                state.bound(firstRow: Int(unitFirstRow[u]), rows: rowsByUnit[start[u]..<start[u + 1]], words: words)
            }
        }
        return BoundedTotals(plan: plan, scan: scan, accumulation: accumulation, totals: state.totals,
                             present: state.present)
    }
}

/// The running totals, what bounding a unit needs of the scan, and the scratch space for the unit being bounded.
private struct UnitState {
    var totals: [Int128]
    var present: [Bool]
    let scalarCount: Int
    let rules: [BoundedTotals.ContributionRule]
    let width: Int
    let rowWords: Int
    let valueWord: Int
    let columns: [BoundedAccumulation.Column]
    let maxRowsPerUnit: Int?
    let maxGroupsPerUnit: Int?
    let sampling: PartitionSampling
    let keyCount: Int
    let groupKeyValues: [SQLValue]
    let unitValues: [SQLValue]
    /// The unit's pair of each group (-1: none), reset after each unit.
    var pairOfGroup: [Int32]
    var pairGroups: [Int] = []
    var pairRows: [Int64] = []
    var accumulators: [Double] = []
    var random = SecureRandomSource()

    init(groupCount: Int, scalarCount: Int, accumulation: BoundedAccumulation, rules: [BoundedTotals.ContributionRule],
         maxGroupsPerUnit: Int?, sampling: PartitionSampling) {
        totals = [Int128](repeating: 0, count: groupCount * scalarCount)
        present = [Bool](repeating: false, count: groupCount)
        pairOfGroup = [Int32](repeating: -1, count: groupCount)
        self.scalarCount = scalarCount
        self.rules = rules
        width = accumulation.width
        rowWords = accumulation.rows.rowWords
        valueWord = accumulation.valueWord
        columns = accumulation.columns
        maxRowsPerUnit = accumulation.rowSampling?.maxRows
        self.maxGroupsPerUnit = maxGroupsPerUnit
        self.sampling = sampling
        keyCount = accumulation.keyCount
        groupKeyValues = accumulation.groupKeyValues
        unitValues = accumulation.unitValues
    }

    /// Bounds the unit whose rows (indices into `words`, in table order) are `rows`.
    mutating func bound(firstRow: Int, rows: ArraySlice<Int32>, words: [UInt64]) {
        let rowWords = self.rowWords, valueWord = self.valueWord, columns = self.columns
        // 1. Row sampling: the R rows of smallest priority (ties: the earlier row), then back in table order.
        var kept = rows
        if let maxRows = maxRowsPerUnit, rows.count > maxRows {
            var byPriority = Array(rows)
            byPriority.sort {
                let a = Int64(bitPattern: words[Int($0) * rowWords + 2])
                let b = Int64(bitPattern: words[Int($1) * rowWords + 2])
                return a != b ? a < b : $0 < $1
            }
            kept = ArraySlice(byPriority.prefix(maxRows).sorted())
        }
        // 2. One accumulator block per group the unit touches.
        for r in kept {
            let base = Int(r) * rowWords
            let group = Int(words[base + 1] & 0xffff_ffff)
            var pair = Int(pairOfGroup[group])
            if pair < 0 {
                pair = pairGroups.count
                pairOfGroup[group] = Int32(pair)
                pairGroups.append(group)
                pairRows.append(0)
                accumulators += repeatElement(0, count: width)
            }
            pairRows[pair] += 1
            let block = pair * width
            for (j, column) in columns.enumerated() {
                let x = Double(bitPattern: words[base + valueWord + j])
                if x.isNaN { continue }
                let o = block + column.offset
                accumulators[o] += 1
                accumulators[o + 1] += x
                if let center = column.squaresAround { accumulators[o + 2] += (x - center) * (x - center) }
            }
        }
        // 3. At most k groups; 4. bounded contributions, added exactly.
        if let k = maxGroupsPerUnit, pairGroups.count > k {
            var chosen = Array(pairGroups.indices)
            switch sampling {
            case .random:
                // Partial Fisher–Yates: the first k of a uniformly random permutation.
                for i in 0..<k {
                    let j = i + Int(random.uniform(below: UInt64(chosen.count - i)))
                    chosen.swapAt(i, j)
                }
                chosen.removeSubrange(k...)
            case .keyedHash(let key):
                let first = firstRow * rowWords
                let unit: SQLValue = words[first + 1] & BoundedAccumulation.internedUnitFlag == 0
                    ? .integer(Int64(bitPattern: words[first])) : unitValues[Int(words[first])]
                let ranked = chosen.map { pair in
                    let g = pairGroups[pair]
                    return (pair, KeyedPriority.priority(key: key, of: [unit] + groupKeyValues[g * keyCount..<(g + 1) * keyCount]))
                }
                chosen = ranked.sorted { $0.1 < $1.1 }.prefix(k).map(\.0)
            }
            for pair in chosen { add(pair) }
        } else {
            for pair in pairGroups.indices { add(pair) }
        }
        for group in pairGroups { pairOfGroup[group] = -1 }
        pairGroups.removeAll(keepingCapacity: true)
        pairRows.removeAll(keepingCapacity: true)
        accumulators.removeAll(keepingCapacity: true)
    }

    private mutating func add(_ pair: Int) {
        let group = pairGroups[pair]
        present[group] = true
        for (offset, rule) in rules.enumerated() {
            totals[group * scalarCount + offset] += Int128(BoundedTotals.contribution(
                rule, rows: pairRows[pair], accumulators: accumulators, base: pair * width, columns: columns))
        }
    }
}
