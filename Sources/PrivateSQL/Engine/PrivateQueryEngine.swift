import Accounting
import BudgetLedger
import Foundation
import Mechanisms

/// Answers private SQL queries end to end: plan → reserve the cost through a ``BudgetCharger`` → run the rewritten
/// SQL → add exact integer noise → post-process → commit the release with its digest.
///
/// The order follows docs/design.md §2 rule 3. Everything that can be checked without reading a row is checked first:
/// the database (a SQLite file or a PostgreSQL server) opens and compiles every statement of the plan (its table and
/// columns exist).
/// Such a failure costs nothing and leaves no ledger entry. Then the plan's cost (one DP event per query) is
/// reserved in the ledger — durably, in one transaction that refuses it when it would exceed the budget — and
/// only then are rows read. From the first row read on, the charge stands whatever happens: a release is
/// committed with the SHA-256 of its JSON form, and a failure (the time limit, a fault of the database) is
/// committed with the digest of its kind, never refunded, since whether and when it happens can depend on the
/// data. Nothing in the data itself can make a query fail (totals saturate, see ``SQLiteBackend/run(_:form:timeLimit:limits:)``).
///
/// ```swift
/// let engine = try PrivateQueryEngine(metadata: metadata, databasePath: "panel.sqlite", ledger: ledger)
/// let plan = try engine.plan("SELECT year, COUNT(*) FROM visits GROUP BY year", budget: PrivacyParameters(epsilon: 0.5))
/// let release = try engine.execute(plan, analyst: "ana")
/// release.result.rows; release.confidenceIntervals; release.resultDigest
/// ```
public struct PrivateQueryEngine: Sendable {
    /// The privacy metadata queries are checked against.
    public let metadata: PrivacyMetadata
    /// The database: a SQLite file (opened read-only), or a `postgres://` URL (see docs/private-sql.md, PostgreSQL).
    public let databasePath: String
    /// Charges every release (with ``init(metadata:databasePath:ledger:histogramBins:timeLimit:)``, the ledger
    /// budget named by the metadata's `scope`).
    public let charger: any BudgetCharger
    /// The planner.
    public let planner: QueryPlanner
    /// The longest the statements of one query may run before they are interrupted (the charge then stands).
    public let timeLimit: Duration

    /// The default ``timeLimit``: 10 minutes.
    public static let defaultTimeLimit: Duration = .seconds(600)

    /// Creates an engine that charges the budget named by the metadata's `scope` in `ledger`.
    /// - Parameters:
    ///   - metadata: the privacy metadata of the database's tables.
    ///   - databasePath: the SQLite file to query.
    ///   - ledger: the budget ledger; the metadata's `scope` must be a budget in it.
    ///   - histogramBins: bins of the histogram behind `MEDIAN` and `PERCENTILE` (default 64).
    ///   - timeLimit: the longest a query's statements may run (default ``defaultTimeLimit``); past it the query
    ///     fails with `query_timeout` and its charge stands.
    public init(metadata: PrivacyMetadata, databasePath: String, ledger: Ledger, histogramBins: Int = 64,
                timeLimit: Duration = PrivateQueryEngine.defaultTimeLimit) {
        self.init(metadata: metadata, databasePath: databasePath,
                  charger: LedgerBudgetCharger(ledger: ledger, scope: metadata.scope),
                  histogramBins: histogramBins, timeLimit: timeLimit)
    }

    /// Creates an engine that charges every release through `charger`.
    /// - Parameters:
    ///   - metadata: the privacy metadata of the database's tables.
    ///   - databasePath: the SQLite file to query.
    ///   - charger: reserves each query's cost before any row is read and commits it with the release's digest.
    ///   - histogramBins: bins of the histogram behind `MEDIAN` and `PERCENTILE` (default 64).
    ///   - timeLimit: the longest a query's statements may run (default ``defaultTimeLimit``).
    public init(metadata: PrivacyMetadata, databasePath: String, charger: any BudgetCharger, histogramBins: Int = 64,
                timeLimit: Duration = PrivateQueryEngine.defaultTimeLimit) {
        self.metadata = metadata
        self.databasePath = databasePath
        self.charger = charger
        self.timeLimit = timeLimit
        planner = QueryPlanner(metadata: metadata, histogramBins: histogramBins)
    }

    /// Plans a query without touching the data or the budget (see
    /// ``QueryPlanner/plan(_:budget:sampling:publicValues:keysFile:noise:)``).
    /// - Parameters:
    ///   - keys: public key values per column, replacing the metadata's `public_values`.
    ///   - keysFile: a keys file (``KeysFile``), read against the queried table once the query is parsed.
    /// - Throws: ``QueryError`` for a syntax error, a refusal, or an unreadable or invalid keys file.
    public func plan(_ query: String, budget: PrivacyParameters, keys: [String: [SQLValue]] = [:], keysFile: URL? = nil,
                     noise: QueryNoise? = nil, sampling: PartitionSampling = .random) throws -> QueryPlan {
        try planner.plan(query, budget: budget, sampling: sampling, publicValues: keys, keysFile: keysFile, noise: noise)
    }

    /// Answers `plan` with noise from the operating system's CSPRNG (``SecureRandomSource``).
    /// - Parameters:
    ///   - plan: a plan from ``plan(_:budget:keys:keysFile:noise:sampling:)``.
    ///   - analyst: who asks (recorded in the ledger).
    ///   - purpose: why (recorded in the ledger); the query text by default.
    ///   - confidenceLevel: the level of the intervals, in (0, 1) (default 0.95).
    ///   - connection: a read-only connection to ``databasePath`` opened beforehand (a long-running service keeps a
    ///     few open); nil opens one for this query.
    /// - Returns: the release.
    /// - Throws: ``VeilError``: `budget_exhausted` (nothing read, nothing charged; the message says what is left),
    ///   `unknown_scope` (with the `veil budget create` command to run), `invalid_input` (a missing or unusable
    ///   database, table or column: nothing reserved), `invalid_parameter`; after the data was read,
    ///   `query_timeout` or `query_failed`, with the charge committed (the message says the budget was spent).
    public func execute(_ plan: QueryPlan, analyst: String, purpose: String? = nil,
                        confidenceLevel: Double = 0.95, connection: SQLiteBackend? = nil) throws -> PrivateQueryRelease {
        var source = SecureRandomSource()
        return try execute(plan, analyst: analyst, purpose: purpose, confidenceLevel: confidenceLevel,
                           connection: connection, using: &source)
    }

    /// Answers `plan` with noise drawn from `source`. Pass a ``SecureRandomSource`` outside tests.
    /// - Parameters:
    ///   - plan: a plan from ``plan(_:budget:keys:keysFile:noise:sampling:)``.
    ///   - analyst: who asks (recorded in the ledger).
    ///   - purpose: why (recorded in the ledger); the query text by default.
    ///   - confidenceLevel: the level of the intervals, in (0, 1).
    ///   - connection: a read-only connection to ``databasePath`` opened beforehand; nil opens one.
    ///   - source: the randomness of the noise.
    /// - Returns: the release.
    /// - Throws: see ``execute(_:analyst:purpose:confidenceLevel:connection:)``.
    public func execute<R: RandomSource>(_ plan: QueryPlan, analyst: String, purpose: String? = nil,
                                         confidenceLevel: Double = 0.95, connection: SQLiteBackend? = nil,
                                         using source: inout R) throws -> PrivateQueryRelease {
        // Everything that can fail without the data is checked before the reservation.
        let widths = try IntervalWidths(plan: plan, level: confidenceLevel)
        let drawing = try QueryNoiseDrawing(plan: plan)
        let cost = plan.budget
        let event = plan.cost
        guard timeLimit > .zero else {
            throw VeilError.invalidParameter("time limit", timeLimit, allowed: "> 0")
        }
        // The database must exist (a SQLite file, or a PostgreSQL server that answers) and have the plan's table and
        // columns: checked without reading a row, before anything is reserved.
        let backend: any QueryBackend = try connection ?? QueryDatabase.open(databasePath)
        try backend.validate(plan)

        let reservation = try charger.reserve(event: event, cost: cost, analyst: analyst,
                                              purpose: purpose ?? plan.statement.text)

        // Reserved: now the data may be read. From here on every outcome may depend on the data, so the charge stands.
        // Each group is noised as it comes, in order, and kept only if partition selection releases it (the same
        // test ``QueryPlan/assemble`` applies): true groups are not held beyond their own noising, and groups
        // that are not released are dropped at once, so a query with millions of data-derived keys needs memory
        // for the aggregation only.
        var noisy: [NoisyGroup] = []
        do {
            try backend.run(plan, timeLimit: timeLimit) { group in
                let noised = drawing.noise(group, using: &source)
                if plan.passesSelection(noised) { noisy.append(noised) }
            }
        } catch {
            throw Self.spent(reservation, failure: error, charger: charger)
        }
        let intervals = noisy.map { plan.aggregateIntervals($0, widths: widths) }
        let (result, rowIntervals, _) = try plan.assemble(noisy, intervals: intervals)
        let named: [[String: ClosedRange<Double>]] = rowIntervals.map { row in
            var map: [String: ClosedRange<Double>] = [:]
            for (column, interval) in zip(result.columns, row) {
                if let interval, map[column] == nil { map[column] = interval }
            }
            return map
        }
        var suppression: PrivateQueryRelease.Suppression?
        if case .thresholding(_, let threshold, let delta) = plan.selection {
            suppression = .init(threshold: threshold, delta: delta)
        }
        let canonical = PrivateQueryRelease.json(result: result, intervals: named, level: confidenceLevel,
                                                 epsilon: plan.budget.epsilon, delta: plan.budget.delta,
                                                 noise: plan.noise, suppression: suppression)
        let digest = PrivateQueryRelease.digest(canonical)
        try charger.commit(reservation, resultDigest: digest)
        return PrivateQueryRelease(result: result, confidenceIntervals: named, confidenceLevel: confidenceLevel,
                                   epsilon: plan.budget.epsilon, delta: plan.budget.delta, event: event,
                                   noise: plan.noise, suppression: suppression, reservationID: reservation.id,
                                   resultDigest: digest)
    }

    /// Commits `reservation` for a query that failed after reading data (its digest is that of the failure's
    /// kind, `{"failure":"<code>"}`) and returns the error to throw, which says that the budget was spent.
    static func spent(_ reservation: Reservation, failure: Error, charger: any BudgetCharger) -> VeilError {
        let cause = failure as? VeilError ?? VeilError(.queryFailed, String(describing: failure), cause: failure)
        let kind = Data(#"{"failure":"\#(cause.code.rawValue)"}"#.utf8)
        // If even the commit fails, the reservation stays open, which counts as spent all the same.
        try? charger.commit(reservation, resultDigest: PrivateQueryRelease.digest(kind))
        return VeilError(cause.code, "\(cause.message); the data had been read, so the query's budget (ε "
                         + "\(reservation.cost.epsilon), δ \(reservation.cost.delta)) was spent (ledger entry "
                         + "\(reservation.id))", cause: failure)
    }
}
