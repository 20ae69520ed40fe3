import BudgetLedger
import Foundation
import Mechanisms

/// Answers private SQL queries end to end: plan → reserve the cost in the ledger → run the rewritten SQL →
/// add exact integer noise → post-process → commit the release with its digest.
///
/// The order follows DESIGN.md §2 rule 3: the plan's cost (one DP event per query) is reserved in the ledger —
/// durably, in one transaction that refuses it when it would exceed the budget — before the database is opened.
/// If opening or reading the database fails, no noise has been drawn and the reservation is refunded; once noise
/// is drawn the charge stands, and the release is committed with the SHA-256 of its JSON form.
///
/// ```swift
/// let engine = try PrivateQueryEngine(metadata: metadata, databasePath: "panel.sqlite", ledger: ledger)
/// let plan = try engine.plan("SELECT year, COUNT(*) FROM visits GROUP BY year", budget: QueryBudget(epsilon: 0.5))
/// let release = try engine.execute(plan, analyst: "ana")
/// release.result.rows; release.confidenceIntervals; release.resultDigest
/// ```
public struct PrivateQueryEngine: Sendable {
    /// The privacy metadata queries are checked against; its `scope` is the ledger budget charged.
    public let metadata: PrivacyMetadata
    /// The SQLite database file (opened read-only, only after the reservation).
    public let databasePath: String
    /// The ledger charged for every release.
    public let ledger: Ledger
    /// The planner.
    public let planner: QueryPlanner

    /// Creates an engine.
    /// - Parameters:
    ///   - metadata: the privacy metadata of the database's tables.
    ///   - databasePath: the SQLite file to query.
    ///   - ledger: the budget ledger; the metadata's `scope` must be a budget in it.
    ///   - histogramBins: bins of the histogram behind `MEDIAN` and `PERCENTILE` (default 64).
    public init(metadata: PrivacyMetadata, databasePath: String, ledger: Ledger, histogramBins: Int = 64) {
        self.metadata = metadata
        self.databasePath = databasePath
        self.ledger = ledger
        planner = QueryPlanner(metadata: metadata, histogramBins: histogramBins)
    }

    /// Plans a query without touching the data or the budget (see ``QueryPlanner/plan(_:budget:sampling:publicValues:noise:)``).
    /// - Throws: ``QueryError`` for a syntax error or a refusal.
    public func plan(_ query: String, budget: QueryBudget, keys: [String: [SQLValue]] = [:],
                     noise: QueryNoise? = nil, sampling: PartitionSampling = .random) throws -> QueryPlan {
        try planner.plan(query, budget: budget, sampling: sampling, publicValues: keys, noise: noise)
    }

    /// Answers `plan` with noise from the operating system's CSPRNG (``SecureRandomSource``).
    /// - Parameters:
    ///   - plan: a plan from ``plan(_:budget:keys:noise:sampling:)``.
    ///   - analyst: who asks (recorded in the ledger).
    ///   - purpose: why (recorded in the ledger); the query text by default.
    ///   - confidenceLevel: the level of the intervals, in (0, 1) (default 0.95).
    /// - Returns: the release.
    /// - Throws: ``VeilError``: `budget_exhausted` (nothing read, nothing charged; the message says what is left),
    ///   `unknown_scope` (with the `veil budget create` command to run), `invalid_input` (database errors; the
    ///   reservation is refunded), `invalid_parameter`.
    public func execute(_ plan: QueryPlan, analyst: String, purpose: String? = nil,
                        confidenceLevel: Double = 0.95) throws -> PrivateQueryRelease {
        var source = SecureRandomSource()
        return try execute(plan, analyst: analyst, purpose: purpose, confidenceLevel: confidenceLevel, using: &source)
    }

    /// Answers `plan` with noise drawn from `source`. Pass a ``SecureRandomSource`` outside tests.
    /// - Parameters:
    ///   - plan: a plan from ``plan(_:budget:keys:noise:sampling:)``.
    ///   - analyst: who asks (recorded in the ledger).
    ///   - purpose: why (recorded in the ledger); the query text by default.
    ///   - confidenceLevel: the level of the intervals, in (0, 1).
    ///   - source: the randomness of the noise.
    /// - Returns: the release.
    /// - Throws: see ``execute(_:analyst:purpose:confidenceLevel:)``.
    public func execute<R: RandomSource>(_ plan: QueryPlan, analyst: String, purpose: String? = nil,
                                         confidenceLevel: Double = 0.95, using source: inout R) throws -> PrivateQueryRelease {
        // Everything that can fail without the data is checked before the reservation.
        let widths = try IntervalWidths(plan: plan, level: confidenceLevel)
        let drawing = try QueryNoiseDrawing(plan: plan)
        let cost = try PrivacyCost(epsilon: plan.budget.epsilon, delta: plan.budget.delta)
        let event = plan.cost

        let reservation: Reservation
        do {
            reservation = try ledger.reserve(event: event, cost: cost, scope: plan.scope, analyst: analyst,
                                             purpose: purpose ?? plan.statement.text)
        } catch let error as VeilError where error.code == .unknownScope {
            throw Self.missingBudget(scope: plan.scope, ledgerPath: ledger.path)
        }

        // Reserved: now the data may be read. A failure here happens before any noise exists, so it is refunded.
        let groups: [TrueGroup]
        do {
            groups = try SQLiteBackend(path: databasePath).run(plan)
        } catch {
            _ = try? ledger.refund(reservation, reason: "the query failed before any noise was drawn: \(error)")
            throw error
        }

        // From the first noise draw on, the charge stands.
        let noisy = drawing.noise(groups, using: &source)
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
        try ledger.commit(reservation, resultDigest: digest)
        return PrivateQueryRelease(result: result, confidenceIntervals: named, confidenceLevel: confidenceLevel,
                                   epsilon: plan.budget.epsilon, delta: plan.budget.delta, event: event,
                                   noise: plan.noise, suppression: suppression, reservationID: reservation.id,
                                   resultDigest: digest)
    }

    /// The error for a scope without a budget, with the command that creates one.
    static func missingBudget(scope: String, ledgerPath: String) -> VeilError {
        VeilError(.unknownScope, "no budget named \"\(scope)\" in the ledger \(ledgerPath); create it first, e.g. "
                  + "`veil budget create \(scope) --epsilon 3 --delta 1e-5 --ledger \(ledgerPath)`")
    }
}
