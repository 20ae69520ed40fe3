/// The single-pass scan outgrew its limits; the SQL form answers instead (same totals, less memory).
struct SinglePassLimitExceeded: Error {}

/// How the single-pass aggregation spends memory, and how much it holds before it gives way to the SQL form.
///
/// The scan splits the rows by a hash of their unit into ``partitions`` partitions (``UnitPartitionedRows``);
/// rows past ``memoryBytes`` go to an unlinked temporary file; after the scan each partition is bounded on its
/// own, so the memory in use is about ``memoryBytes`` plus one partition. When one partition passes
/// ``partitionRows`` rows (one unit with an enormous number of rows, or a table far larger than the partitions
/// were sized for), when the groups pass ``groups``, or when the temporary file cannot be written, the scan stops
/// and the SQL form runs, which computes the same totals, so what is released does not change (only the running
/// time does, see docs/private-sql.md, *What a query releases*).
struct SinglePassLimits: Sendable {
    /// The number of unit partitions.
    var partitions: Int
    /// The most bytes of rows kept in memory during the scan; the rest go to a temporary file.
    var memoryBytes: Int
    /// The most rows in one partition.
    var partitionRows: Int
    /// The most groups.
    var groups: Int

    /// 256 partitions, 32 MiB of rows in memory, at most 4 million rows in a partition (about 0.1 GB to bound it:
    /// a billion rows spread over the units) and 1 million groups.
    static let standard = SinglePassLimits(partitions: 256, memoryBytes: 32 << 20, partitionRows: 4_000_000,
                                           groups: 1_000_000)
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
