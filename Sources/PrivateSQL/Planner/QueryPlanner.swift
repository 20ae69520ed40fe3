import Accounting
import Foundation
import Mechanisms

/// Validates a query against the privacy metadata and plans its private answer.
///
/// Refusals (code ``VeilError/Code/queryRefused``, each saying what to do instead): `SELECT *`, selecting a
/// column that is neither aggregated nor grouped, selecting or grouping by the privacy unit, aggregates over
/// columns without clamping bounds, `MIN`/`MAX`, `COUNT(DISTINCT col)` of anything but the privacy unit,
/// aggregates over expressions, joins and FROM-subqueries that do not keep the privacy unit (``RelationResolver``),
/// subqueries in expressions, several statements, statements other than `SELECT`, and grouping on data-dependent
/// keys with δ = 0.
public struct QueryPlanner: Sendable {
    /// The metadata queries are checked against.
    public let metadata: PrivacyMetadata
    /// Number of equal-width bins of the histogram behind `MEDIAN` and `PERCENTILE`.
    public let histogramBins: Int
    /// Largest number of public key combinations a query may enumerate.
    public static let maxPublicKeyCombinations = 100_000

    /// Creates a planner.
    /// - Parameters:
    ///   - metadata: the tables' privacy metadata.
    ///   - histogramBins: bins of the quantile histogram (2…1000; default 64).
    public init(metadata: PrivacyMetadata, histogramBins: Int = 64) {
        self.metadata = metadata
        self.histogramBins = min(max(histogramBins, 2), 1000)
    }

    /// Parses, validates and plans `query`.
    /// - Parameters:
    ///   - query: one `SELECT` of Veil's SQL subset.
    ///   - budget: the query's ε and δ; ε (or, with Gaussian noise, ρ) is split across the plan's noisy
    ///     quantities by their effect on the aggregates' error (``BudgetSplit``), δ goes to partition selection.
    ///   - sampling: how a unit that touches too many groups chooses the ones it keeps; SQLite's `RANDOM()` by
    ///     default (fastest), or a keyed hash (reproducible).
    ///   - publicValues: key values per column that replace the metadata's `public_values` for this query.
    ///     They must be chosen without looking at the data: every listed key is released, and groups with
    ///     other keys are dropped.
    ///   - keysFile: a file of such key values (``KeysFile``), read against the queried table's columns once the
    ///     query is parsed; for a column it names, its values replace those of `publicValues`.
    ///   - noise: discrete Laplace or discrete Gaussian; `nil` (the default) chooses Laplace when δ = 0 and, when
    ///     δ > 0, whichever of the two gives the smaller expected errors (``NoiseChoice``).
    ///   - accuracyWeights: one positive weight per aggregate, in order of first appearance in the query: how
    ///     much its error counts when the budget is split (`nil`: all 1).
    /// - Returns: the plan.
    /// - Throws: ``QueryError`` (syntax error or refusal, pointing into the query; an unreadable or invalid keys
    ///   file with code `invalid_input` and no position).
    public func plan(_ query: String, budget: PrivacyParameters,
                     sampling: PartitionSampling = .random,
                     publicValues: [String: [SQLValue]] = [:],
                     keysFile: URL? = nil,
                     noise: QueryNoise? = nil,
                     accuracyWeights: [Double]? = nil) throws(QueryError) -> QueryPlan {
        let statement = try Parser.parse(query)
        var builder = try PlanBuilder(statement: statement, metadata: metadata, histogramBins: histogramBins)
        var publicValues = publicValues
        if let keysFile {
            do {
                publicValues.merge(try KeysFile.load(contentsOf: keysFile, table: builder.table)) { $1 }
            } catch {
                let cause = error as? VeilError ?? VeilError(.invalidInput, String(describing: error))
                throw QueryError(cause.code, cause.message, at: nil, in: query)
            }
        }
        for (column, values) in publicValues {
            guard let declared = builder.table.column(named: column) else {
                throw QueryError(.invalidQuery, "public values are given for '\(column)', which is not a column of "
                                 + "table \(builder.table.name)", at: nil, in: query)
            }
            guard !values.isEmpty, Set(values).count == values.count else {
                throw QueryError(.invalidQuery, "the public values of \(declared.name) must be a non-empty list "
                                 + "without repetitions", at: nil, in: query)
            }
            if builder.table.isPrivacyUnit(declared.name) || builder.unitColumns.contains(declared.name) {
                throw QueryError(.queryRefused, "public values cannot be given for the privacy unit \(declared.name)",
                                 at: nil, in: query)
            }
            builder.publicValueOverrides[declared.name] = values
        }
        if noise == .gaussian, budget.delta == 0 {
            throw QueryError(.invalidQuery, "discrete Gaussian noise needs δ > 0; pass a δ (e.g. 1e-6) or use "
                             + "Laplace noise", at: nil, in: query)
        }
        if let noise { return try builder.build(budget: budget, sampling: sampling, noise: noise, weights: accuracyWeights) }
        guard budget.delta > 0 else {
            return try builder.build(budget: budget, sampling: sampling, noise: .laplace, weights: accuracyWeights)
        }
        // Both candidates from the same parsed query; a Laplace plan that cannot be made (e.g. a δ too small for
        // its threshold) leaves the Gaussian one, whose refusals are the query's.
        var laplaceBuilder = builder
        let laplace = try? laplaceBuilder.build(budget: budget, sampling: sampling, noise: .laplace, weights: accuracyWeights)
        let gaussian = try builder.build(budget: budget, sampling: sampling, noise: .gaussian, weights: accuracyWeights)
        return laplace.map { NoiseChoice.lessNoisy($0, gaussian) } ?? gaussian
    }
}
