/// The single-pass scan outgrew its limits; the SQL form answers instead (same totals, less memory).
struct SinglePassLimitExceeded: Error {}

/// How much the single-pass aggregation holds before it gives way to the SQL form.
///
/// The single pass keeps every (unit, group) pair and every group in memory; the SQL form lets SQLite sort
/// instead. When a scan passes either limit it stops and the SQL form runs, which computes the same totals, so
/// what is released does not change (only the running time does, see docs/private-sql.md, *What a query
/// releases*). Many groups are where the single pass loses its edge: with one group per unit it is both slower
/// and several times larger than the SQL form.
struct SinglePassLimits: Sendable {
    /// The most (unit, group) pairs.
    var pairs: Int
    /// The most groups.
    var groups: Int

    /// 16 million pairs and 1 million groups: at most about 3 GB, and about 0.5 GB for ten million pairs over
    /// few groups.
    static let standard = SinglePassLimits(pairs: 16_000_000, groups: 1_000_000)
}

/// How the single pass applies `max_rows_per_unit`: each unit keeps the R rows of smallest priority, a fresh
/// random word per row (``PartitionSampling/random``) or `KeyedPriority.priority(key, [unit, rowid])`
/// (``PartitionSampling/keyedHash(_:)``, the same order as the SQL form's `veil_priority(key, unit, _rowid_)`).
/// Either way the kept rows are a uniformly random R-subset of the unit's rows, chosen from that unit's rows alone.
struct RowSampling {
    /// R.
    let maxRows: Int
    /// How priorities are drawn.
    let sampling: PartitionSampling
}
