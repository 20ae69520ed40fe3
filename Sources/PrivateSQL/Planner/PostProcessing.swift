import Foundation
import Mechanisms

/// One group's noisy quantities: the input of ``QueryPlan/finish(_:)``.
public struct NoisyGroup: Hashable, Sendable {
    /// The group's key values, in ``QueryPlan/keys`` order (empty without `GROUP BY`).
    public let key: [SQLValue]
    /// For each of ``QueryPlan/quantities``, its ``NoisyQuantity/dimension`` noisy integers in units of
    /// the quantity's ``NoisyQuantity/granularity``.
    public let values: [[Int64]]

    /// Creates a group.
    public init(key: [SQLValue], values: [[Int64]]) {
        self.key = key
        self.values = values
    }
}

/// The released answer: named columns and rows of values computed from noisy quantities only.
public struct QueryResult: Hashable, Sendable {
    /// Output column names.
    public let columns: [String]
    /// Rows, each with one value per column.
    public let rows: [[SQLValue]]
}

extension QueryPlan {
    /// Turns noisy per-group quantities into the released result (post-processing only: no privacy cost).
    ///
    /// Steps: drop groups whose noisy unit count is below the partition-selection threshold (when keys are not
    /// public); estimate each aggregate from its quantities; evaluate the output columns; filter with `HAVING`;
    /// sort with `ORDER BY` (then by key); apply `OFFSET` and `LIMIT`.
    ///
    /// Estimators (value of a quantity = noisy integer × granularity; `C` = max(1, noisy count)):
    /// counts and sums are the noisy values (counts floored at 0); `AVG = clamp(mid + S/C, L, U)` from the
    /// centred sum S; `VARIANCE = clamp(Q/C − (S/C)², 0, half²)` from the centred sum of squares Q (the
    /// population variance); `STDDEV = √VARIANCE`; `PERCENTILE(p)` walks the noisy histogram (negative bins
    /// as 0) to the bin where the cumulative count reaches p·total and interpolates linearly inside it
    /// (`NULL` when the noisy histogram is empty).
    /// - Parameter groups: every group the backend returned, with noise added to every quantity.
    /// - Returns: the result rows.
    /// - Throws: ``VeilError`` (`invalid_input`) if a group's shape does not match the plan.
    public func finish(_ groups: [NoisyGroup]) throws -> QueryResult {
        try assemble(groups, intervals: nil).result
    }

    /// Whether partition selection releases `group`: always, except under thresholding, where its noisy unit
    /// count must reach the threshold. A function of the noisy values only.
    func passesSelection(_ group: NoisyGroup) -> Bool {
        if case .thresholding(let q, let threshold, _) = selection { return group.values[q][0] >= threshold }
        return true
    }

    /// ``finish(_:)`` that also carries, for each released row, the confidence interval of every output column
    /// that is exactly one aggregate (`intervals[g][a]` is aggregate `a`'s interval in group `g`).
    func assemble(_ groups: [NoisyGroup], intervals: [[ClosedRange<Double>?]]?)
        throws -> (result: QueryResult, intervals: [[ClosedRange<Double>?]], released: Int) {
        var rows: [(key: [SQLValue], values: [SQLValue], sortValues: [SQLValue], intervals: [ClosedRange<Double>?])] = []
        var passedSelection = 0
        for (position, group) in groups.enumerated() {
            guard group.key.count == keys.count, group.values.count == quantities.count,
                  zip(group.values, quantities).allSatisfy({ $0.count == $1.dimension }) else {
                throw VeilError(.invalidInput, "a noisy group does not match the plan's keys and quantities")
            }
            guard passesSelection(group) else { continue }
            passedSelection += 1
            let estimates = aggregates.map { estimate($0, group) }
            let context = OutputContext(key: group.key, aggregates: estimates)
            if let having, !context.evaluate(having).isTrue { continue }
            let columnIntervals: [ClosedRange<Double>?] = outputs.map { output in
                guard let intervals, case .aggregate(let a) = output.expression else { return nil }
                return intervals[position][a]
            }
            rows.append((group.key, outputs.map { context.evaluate($0.expression) },
                         ordering.map { context.evaluate($0.expression) }, columnIntervals))
        }
        rows.sort { a, b in
            for (i, term) in ordering.enumerated() where a.sortValues[i] != b.sortValues[i] {
                return term.descending ? b.sortValues[i] < a.sortValues[i] : a.sortValues[i] < b.sortValues[i]
            }
            return a.key.lexicographicallyPrecedes(b.key)
        }
        var kept = rows[...]
        if let offset { kept = kept.dropFirst(offset) }
        if let limit { kept = kept.prefix(limit) }
        return (QueryResult(columns: outputs.map(\.name), rows: kept.map(\.values)), kept.map(\.intervals),
                passedSelection)
    }

    /// The released estimate of one aggregate in one group.
    func estimate(_ aggregate: PlannedAggregate, _ group: NoisyGroup) -> SQLValue {
        func value(_ position: Int) -> Double {
            let q = quantities[aggregate.quantities[position]]
            return Double(group.values[q.index][0]) * q.granularity
        }
        let bounds = aggregate.bounds ?? 0...0
        let mid = (bounds.lowerBound + bounds.upperBound) / 2
        let half = (bounds.upperBound - bounds.lowerBound) / 2
        switch aggregate.function {
        case .countRows, .countColumn, .countDistinctUnits:
            return .integer(max(0, group.values[aggregate.quantities[0]][0]))
        case .sum:
            let q = quantities[aggregate.quantities[0]]
            if q.granularity == 1 { return .integer(group.values[q.index][0]) }
            return .real(value(0))
        case .average:
            let count = max(1, value(0))
            return .real(min(bounds.upperBound, max(bounds.lowerBound, mid + value(1) / count)))
        case .variance, .standardDeviation:
            let count = max(1, value(0))
            let meanDeviation = value(1) / count
            let variance = min(half * half, max(0, value(2) / count - meanDeviation * meanDeviation))
            if case .variance = aggregate.function { return .real(variance) }
            return .real(variance.squareRoot())
        case .percentile(_, let p):
            let q = quantities[aggregate.quantities[0]]
            guard case .histogram(_, let bins, let lower, let upper) = q.kind else { return .null }
            let counts = group.values[q.index].map { Double(max(0, $0)) }
            let total = counts.reduce(0, +)
            guard total > 0 else { return .null }
            let target = p * total
            let width = (upper - lower) / Double(bins)
            var cumulative = 0.0
            for (bin, count) in counts.enumerated() where count > 0 {
                if cumulative + count >= target {
                    let fraction = (target - cumulative) / count
                    return .real(min(upper, lower + (Double(bin) + fraction) * width))
                }
                cumulative += count
            }
            return .real(upper)
        }
    }
}

// MARK: - Evaluation of output expressions

/// Evaluates output expressions over one group's keys and aggregate estimates, with SQL's NULL rules.
struct OutputContext {
    let key: [SQLValue]
    let aggregates: [SQLValue]

    func evaluate(_ expression: OutputExpression) -> SQLValue {
        switch expression {
        case .key(let i): return key[i]
        case .aggregate(let i): return aggregates[i]
        case .literal(let v): return v
        case .negate(let e):
            switch evaluate(e) {
            case .integer(let v) where v != .min: return .integer(-v)
            case let v: return v.number.map { .real(-$0) } ?? .null
            }
        case .not(let e):
            let v = evaluate(e)
            if v == .null { return .null }
            return .integer(v.isTrue ? 0 : 1)
        case .binary(let op, let l, let r):
            return binary(op, evaluate(l), evaluate(r))
        case .isNull(let e, let negated):
            return .integer((evaluate(e) == .null) != negated ? 1 : 0)
        case .inList(let e, let list, let negated):
            let v = evaluate(e)
            if v == .null { return .null }
            let found = list.contains { compare(v, evaluate($0)) == 0 }
            return .integer(found != negated ? 1 : 0)
        case .between(let e, let low, let high, let negated):
            let v = evaluate(e)
            guard let a = compare(v, evaluate(low)), let b = compare(v, evaluate(high)) else { return .null }
            return .integer((a >= 0 && b <= 0) != negated ? 1 : 0)
        }
    }

    /// -1, 0 or 1 comparing two values in SQLite's order; `nil` if either is NULL.
    func compare(_ a: SQLValue, _ b: SQLValue) -> Int? {
        if a == .null || b == .null { return nil }
        if let x = a.number, let y = b.number { return x < y ? -1 : x > y ? 1 : 0 }
        return a < b ? -1 : b < a ? 1 : 0
    }

    func binary(_ op: BinaryOperator, _ a: SQLValue, _ b: SQLValue) -> SQLValue {
        switch op {
        case .and:
            if (a != .null && !a.isTrue) || (b != .null && !b.isTrue) { return .integer(0) }
            if a == .null || b == .null { return .null }
            return .integer(1)
        case .or:
            if a.isTrue || b.isTrue { return .integer(1) }
            if a == .null || b == .null { return .null }
            return .integer(0)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let c = compare(a, b) else { return .null }
            let result: Bool
            switch op {
            case .equal: result = c == 0
            case .notEqual: result = c != 0
            case .less: result = c < 0
            case .lessOrEqual: result = c <= 0
            case .greater: result = c > 0
            default: result = c >= 0
            }
            return .integer(result ? 1 : 0)
        case .add, .subtract, .multiply, .divide, .modulo:
            if case .integer(let x) = a, case .integer(let y) = b, op != .divide {
                let (value, overflow): (Int64, Bool)
                switch op {
                case .add: (value, overflow) = x.addingReportingOverflow(y)
                case .subtract: (value, overflow) = x.subtractingReportingOverflow(y)
                case .multiply: (value, overflow) = x.multipliedReportingOverflow(by: y)
                default:
                    if y == 0 { return .null }
                    (value, overflow) = x.remainderReportingOverflow(dividingBy: y)
                }
                if !overflow { return .integer(value) }
            }
            guard let x = a.number, let y = b.number else { return .null }
            switch op {
            case .add: return .real(x + y)
            case .subtract: return .real(x - y)
            case .multiply: return .real(x * y)
            case .divide: return y == 0 ? .null : .real(x / y)
            default: return y == 0 ? .null : .real(x.truncatingRemainder(dividingBy: y))
            }
        case .concatenate:
            return .null
        }
    }
}

extension SQLValue {
    /// SQL truth: a non-zero number.
    var isTrue: Bool { (number ?? 0) != 0 }
}
