import Accounting
import Mechanisms

/// Which exact integer noise a plan adds (docs/design.md §2 rule 1: no floating-point noise).
public enum QueryNoise: String, Hashable, Sendable, CaseIterable, Codable {
    /// Discrete Laplace noise: pure ε-DP per quantity, composed by adding ε (the default when δ = 0). With
    /// partition selection, all of δ goes to the threshold.
    case laplace
    /// Discrete Gaussian noise, accounted in zCDP (the default when δ > 0): the largest total ρ whose conversion
    /// (Canonne, Kamath, Steinke 2020, Corollary 13) gives (ε, δ_noise)-DP is split across the quantities by
    /// their effect on the answers' error (``BudgetSplit``). δ_noise is δ, or δ/2 when partition selection takes
    /// the other half.
    case gaussian
}

/// A grouping column of the query.
public struct GroupingKey: Hashable, Sendable {
    /// The column's declared name.
    public let column: String
    /// Its declared type.
    public let type: ColumnType
    /// Its public values, when the metadata declares them.
    public let publicValues: [SQLValue]?
}

/// How the plan decides which groups appear in the result.
public enum PartitionSelection: Hashable, Sendable {
    /// No `GROUP BY`: one group, always released.
    case single
    /// Every grouping column has public values: every combination is released, empty ones included,
    /// with no δ spent.
    case publicKeys(count: Int)
    /// Group keys come from the data: a group is released only if its noisy count of privacy units
    /// (quantity `quantity`, noised with its ``NoisyQuantity/laplaceScale``) is at least `threshold`.
    ///
    /// The threshold bounds the probability that a group created by one unit alone is released by
    /// `delta / k` per group (k groups per unit at most; union bound): with discrete Laplace noise of scale
    /// `s` and `r = e^(−1/s)`, `P(X ≥ t) = r^t / (1 + r)` for integer `t ≥ 1`, so
    /// `threshold = 1 + ⌈s · ln(1 / ((δ/k)(1 + r)))⌉` (Wilson et al., "Differentially Private SQL with
    /// Bounded User Contribution", PoPETs 2020, §3, adapted to the discrete Laplace tail).
    case thresholding(quantity: Int, threshold: Int64, delta: Double)
}

/// An aggregate of the query and the noisy quantities it is estimated from.
public struct PlannedAggregate: Hashable, Sendable {
    /// The aggregate function and its column.
    public enum Function: Hashable, Sendable {
        /// `COUNT(*)`.
        case countRows
        /// `COUNT(column)`.
        case countColumn(String)
        /// `COUNT(DISTINCT unit)`, and `COUNT(*)` under row privacy.
        case countDistinctUnits
        /// `SUM(column)`.
        case sum(String)
        /// `AVG(column)`.
        case average(String)
        /// `VARIANCE(column)` (population variance).
        case variance(String)
        /// `STDDEV(column)`.
        case standardDeviation(String)
        /// `PERCENTILE(column, p)`; `MEDIAN` is p = 0.5.
        case percentile(String, Double)
    }

    /// The function.
    public let function: Function
    /// Indices into ``QueryPlan/quantities`` this aggregate is computed from.
    public let quantities: [Int]
    /// The clamping bounds of its column, if any.
    public let bounds: ClosedRange<Double>?
    /// The aggregate as written, normalised (e.g. `AVG(income)`).
    public let text: String
}

/// An expression over released values: grouping keys, noisy aggregates, literals.
public indirect enum OutputExpression: Hashable, Sendable {
    /// The value of grouping key `i`.
    case key(Int)
    /// The noisy estimate of aggregate `i` of ``QueryPlan/aggregates``.
    case aggregate(Int)
    /// A constant.
    case literal(SQLValue)
    /// Arithmetic negation.
    case negate(OutputExpression)
    /// Logical negation.
    case not(OutputExpression)
    /// An arithmetic, comparison or logical operator.
    case binary(BinaryOperator, OutputExpression, OutputExpression)
    /// `IS [NOT] NULL`.
    case isNull(OutputExpression, negated: Bool)
    /// `[NOT] IN (…)`.
    case inList(OutputExpression, [OutputExpression], negated: Bool)
    /// `[NOT] BETWEEN low AND high`.
    case between(OutputExpression, OutputExpression, OutputExpression, negated: Bool)
}

/// A column of the released result.
public struct OutputColumn: Hashable, Sendable {
    /// Its name: the alias, or the expression as written.
    public let name: String
    /// How it is computed from keys and noisy aggregates.
    public let expression: OutputExpression
}

/// The statement that computes one histogram quantity (bins absent from its result are 0).
public struct HistogramQuery: Hashable, Sendable {
    /// The quantity's index in ``QueryPlan/quantities``.
    public let quantity: Int
    /// The SQL: rows of the key columns, the bin index (0-based) and the bounded count.
    public let sql: String
    /// The values bound to its `?` placeholders, in order.
    public let parameters: [SQLValue]
}

/// How a unit that touches more than max_partitions_per_unit groups chooses the groups it keeps.
///
/// Either rule is valid for privacy: the sensitivity bound needs only that each unit keeps at most k groups
/// and that the choice depends on nothing but that unit's own rows (never on other units' data). The choice
/// need not be secret or cryptographically random; it should be uniform so that no group is favoured.
public enum PartitionSampling: Hashable, Sendable {
    /// A fresh uniformly random choice per statement: from the operating system's CSPRNG in the single-pass
    /// aggregation (``BoundedScan``), from SQLite's `RANDOM()` (seeded from the operating system) in SQL
    /// statements. The fastest rule; not reproducible.
    case random
    /// The k groups with the smallest keyed hash (``KeyedPriority``) of (unit, key values) under this key: reproducible for a
    /// given key, and the same choice in every statement of a plan.
    case keyedHash(PartitionSamplingKey)
}

/// A 128-bit key for ``PartitionSampling/keyedHash(_:)``.
public struct PartitionSamplingKey: Hashable, Sendable {
    /// The first 64 key bits (the first eight key bytes, big-endian).
    public let k0: UInt64
    /// The last 64 key bits.
    public let k1: UInt64

    /// A fresh key from the operating system's CSPRNG.
    public static func fromSecureSource() -> PartitionSamplingKey {
        var source = SecureRandomSource()
        return PartitionSamplingKey(k0: source.next(), k1: source.next())
    }

    /// A fixed key, for tests that need reproducible contribution bounding.
    public static func insecureFixed(_ k0: UInt64, _ k1: UInt64) -> PartitionSamplingKey {
        PartitionSamplingKey(k0: k0, k1: k1)
    }

    init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }
}

/// The main statement of a user-level query in single-pass form: `SELECT veil_bound(unit, keys…, columns…)
/// FROM table WHERE …`, whose aggregate bounds contributions per (unit, group) in memory and returns nothing
/// but per-group totals (see ``SQLRewriter/boundedScan()``). It computes the same totals as ``QueryPlan/sql``
/// without the sorts SQLite needs for the `GROUP BY` steps of that form.
public struct BoundedScan: Hashable, Sendable {
    /// The statement.
    public let sql: String
    /// The values bound to its `?` placeholders, in order.
    public let parameters: [SQLValue]
    /// The number of grouping keys, the arguments after the unit.
    public let keyCount: Int
    /// The aggregated columns, the arguments after the unit and the keys.
    public let columns: [String]
    /// k when a unit may touch more than k groups and must keep k of them; `nil` when it cannot.
    public let maxGroupsPerUnit: Int?
    /// R (`max_rows_per_unit`) when each unit keeps at most R of its rows, chosen uniformly at random before
    /// the groups are chosen; the statement then passes each row's `_rowid_` as the last argument (its identity
    /// under ``PartitionSampling/keyedHash(_:)``).
    public var maxRowsPerUnit: Int? = nil
    /// Every combination of public key values in output order, when the keys are public.
    public let publicKeyCombinations: [[SQLValue]]?
}

/// Everything needed to answer a query privately, except the noise: the rewritten SQL and its parameters,
/// the noisy quantities with their sensitivities and budget shares, how groups are selected, and how the
/// released columns are computed from noisy values (post-processing only).
///
/// Produce it with ``QueryPlanner/plan(_:budget:sampling:)``; run ``sql`` with a backend to obtain true per-group
/// quantities; noise every quantity (see ``NoisyQuantity``); then call ``finish(_:)`` to select groups,
/// evaluate output columns and apply `HAVING`, `ORDER BY` and `LIMIT`.
public struct QueryPlan: Sendable {
    /// The parsed statement.
    public let statement: SelectStatement
    /// The table's metadata.
    public let table: TableMetadata
    /// The ledger budget name (the metadata's `scope`).
    public let scope: String
    /// The query's budget.
    public let budget: PrivacyParameters
    /// Grouping columns, in `GROUP BY` order.
    public let keys: [GroupingKey]
    /// How groups are chosen for release.
    public let selection: PartitionSelection
    /// Groups one unit may touch in this query: max_partitions_per_unit, capped by the number of possible groups.
    public let effectivePartitionsPerUnit: Int
    /// Rows one unit may contribute to one group.
    public let maxRowsPerPartition: Int
    /// The quantities to noise, each with its sensitivity and share of ε.
    public let quantities: [NoisyQuantity]
    /// The aggregates of the query.
    public let aggregates: [PlannedAggregate]
    /// The released columns.
    public let outputs: [OutputColumn]
    /// `HAVING`, evaluated on released values.
    public let having: OutputExpression?
    /// `ORDER BY`, evaluated on released values.
    public let ordering: [(expression: OutputExpression, descending: Bool)]
    /// `LIMIT`.
    public let limit: Int?
    /// `OFFSET`.
    public let offset: Int?
    /// The rewritten SQL: one row per group with the key columns, then one integer column for each quantity
    /// of dimension 1 (in ``quantities`` order; a single constant column when there is none). Only per-group
    /// aggregates leave the database.
    public let sql: String
    /// The values bound to the `?` placeholders of ``sql``, in order.
    public let parameters: [SQLValue]
    /// The single-pass form of the main statement, run instead of ``sql`` when present (user-level privacy).
    public let boundedScan: BoundedScan?
    /// One statement per histogram quantity, returning rows `(keys…, bin, count)` for non-empty bins.
    public let histogramQueries: [HistogramQuery]
    /// How units choose the groups they keep (see ``PartitionSampling``).
    public let sampling: PartitionSampling
    /// The kind of noise every quantity receives.
    public let noise: QueryNoise
    /// With Gaussian noise, the total zCDP ρ of the quantities (split by ``BudgetSplit``).
    public let rho: Double?
    /// The part of δ spent by converting the quantities' zCDP guarantee to (ε, δ) (0 with Laplace noise).
    public let noiseDelta: Double
    /// The rewriter that wrote ``sql`` and ``histogramQueries`` for SQLite; backends of other engines write the
    /// same plan in their own dialect with it (``SQLRewriter/writing(for:)``).
    let rewriter: SQLRewriter

    /// The privacy cost of the release as the ledger records it:
    /// `composed([event of each quantity] + [epsilonDelta(0, δ_selection)])`, the last term only when groups are
    /// selected by thresholding. Each quantity's event is `discreteLaplace(scale, Δ₁)` (εᵢ each, ``BudgetSplit``, basic
    /// composition gives ε) or `discreteGaussian(σ, ⌈Δ₂⌉)` (ρᵢ each, Σρᵢ ≤ ρ; zCDP composition and conversion give
    /// (ε, δ_noise)). Either way the total is at most (ε, δ) of ``budget``.
    public var cost: DPEvent {
        var events = quantities.map(\.event)
        if case .thresholding(_, _, let delta) = selection {
            events.append(.epsilonDelta(epsilon: 0, delta: delta))
        }
        return .composed(events)
    }

    /// Number of integer result columns after the keys.
    var quantityColumnCount: Int { quantities.reduce(0) { $0 + $1.dimension } }
}
