/// The groups of a plan with histograms, collected from the main statement, and the histogram statements' rows
/// `(keys…, bin, count)` joined to them by key, as SQL's `GROUP BY` matches keys (``GroupingValue``).
struct HistogramJoin {
    /// The groups in the main statement's order.
    private(set) var groups: [TrueGroup] = []
    private var positions: [[GroupingValue]: Int] = [:]

    /// Adds a group of the main statement.
    mutating func append(_ group: TrueGroup) {
        positions[group.key.map(GroupingValue.init)] = groups.count
        groups.append(group)
    }

    /// Sets bin `bin` of histogram `quantity` (with `bins` bins) of the group with `key` to `count`. A group the main
    /// statement does not list has no released row (thresholding uses the main statement's unit counts): skipped.
    /// - Throws: when the bin is out of range.
    mutating func add(key: [SQLValue], quantity: Int, bins: Int, bin: Int64, count: Int64) throws {
        guard let position = positions[key.map(GroupingValue.init)] else { return }
        guard bin >= 0, bin < bins else { throw HistogramBinOutOfRange() }
        groups[position].values[quantity][Int(bin)] = count
    }
}

/// A histogram statement returned a bin index outside its histogram (a fault of the rewrite, never of the data).
struct HistogramBinOutOfRange: Error, CustomStringConvertible {
    var description: String { "histogram bin out of range" }
}
