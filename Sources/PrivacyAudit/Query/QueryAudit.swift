import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import PrivateSQL

/// A black-box audit of one private SQL query: the whole ``PrivateQueryEngine`` path (plan, reserve, read,
/// noise, post-process, commit) run on a database `D` and on `D'` without one privacy unit, each released
/// number audited with ``EventSelectionAudit``.
///
/// Each released cell (an output column of a group) is audited separately at confidence `1 − α/m` for `m`
/// cells (Bonferroni), so that the largest cell bound, ``epsilonLowerBound``, holds at `1 − α`. A group
/// missing from a run (suppressed by partition selection) is a NaN in that run, in no event.
///
/// Every run charges a throw-away ledger in the temporary folder of the copies, never the caller's budget.
/// The audit reads the private data as its owner would and its figures are not differentially private (many
/// runs average the noise away): the report therefore carries no released value, no event threshold and no
/// identity of the removed unit — only bounds, event frequencies and counts of cells.
public struct QueryAudit: Sendable {
    /// The claimed (ε, δ) of one run of the query.
    public let claim: PrivacyClaim
    /// Which unit was removed.
    public let removed: RemovedUnit
    /// Runs on each database.
    public let trials: Int
    /// The confidence `1 − α` of ``epsilonLowerBound``.
    public let confidence: Double
    /// The audit of each released cell, in order of first appearance (column by column).
    public let cells: [Cell]

    /// One released number of the query: an output column in one group.
    public struct Cell: Sendable {
        /// The output column's name.
        public let column: String
        /// The audit of this cell at confidence `1 − α/m`.
        public let result: EventSelectionAudit
    }

    /// The largest cell bound: with probability at least ``confidence``, the query's true ε is at least this.
    public var epsilonLowerBound: Double { cells.map(\.result.epsilon).max() ?? 0 }

    /// Whether ``epsilonLowerBound`` exceeds the claimed ε.
    public var exceedsClaim: Bool { epsilonLowerBound > claim.epsilon }

    /// Runs the audit.
    ///
    /// - Parameters:
    ///   - query: one SELECT of Veil's SQL subset.
    ///   - databasePath: the SQLite database `D` (copied; never written).
    ///   - metadata: its privacy metadata.
    ///   - budget: the (ε, δ) of one run.
    ///   - removed: which unit `D'` lacks (default ``RemovedUnit/heaviest``).
    ///   - trials: runs on each database, ≥ 2.
    ///   - confidence: `1 − α`, in (0, 1).
    ///   - source: the noise of the runs; pass a ``SecureRandomSource`` outside tests.
    ///   - progress: called after every run with (runs done, runs in all).
    /// - Throws: ``VeilError`` for a refused query or parameter, an unusable database, or a failed run.
    public init<R: RandomSource>(query: String, databasePath: String, metadata: PrivacyMetadata,
                                 budget: PrivacyParameters, removed: RemovedUnit = .heaviest, trials: Int,
                                 confidence: Double = 0.95, using source: inout R,
                                 progress: ((Int, Int) -> Void)? = nil) throws {
        try AuditTrials.check(trials)
        try ParameterCheck.confidenceLevel(confidence, name: "confidence")
        claim = try PrivacyClaim(epsilon: budget.epsilon, delta: budget.delta)
        self.removed = removed
        self.trials = trials
        self.confidence = confidence

        let plan: QueryPlan
        do {
            plan = try QueryPlanner(metadata: metadata).plan(query, budget: budget)
        } catch {
            throw error.veilError
        }
        let databases = try NeighbouringDatabases(databasePath: databasePath, table: plan.table, metadata: metadata,
                                                  removed: removed)
        defer { databases.remove() }
        let ledger = try Self.throwAwayLedger(in: databases.folder, scope: metadata.scope, budget: budget,
                                              runs: 2 * trials)
        let engines = [databases.original, databases.neighbour].map {
            PrivateQueryEngine(metadata: metadata, databasePath: $0.path, ledger: ledger)
        }
        let connections = try [databases.original, databases.neighbour].map { try SQLiteBackend(path: $0.path) }
        var samples: [CellKey: [[Double]]] = [:]
        var order: [CellKey] = []
        for run in 0..<trials {
            for side in 0..<2 {
                let release = try engines[side].execute(plan, analyst: "privacy-audit", purpose: "privacy audit",
                                                        confidenceLevel: confidence, connection: connections[side],
                                                        using: &source)
                for (key, value) in Self.cells(of: release.result, plan: plan) {
                    if samples[key] == nil {
                        samples[key] = [[Double]](repeating: [Double](repeating: .nan, count: trials), count: 2)
                        order.append(key)
                    }
                    samples[key]![side][run] = value
                }
                progress?(2 * run + side + 1, 2 * trials)
            }
        }
        let cellConfidence = 1 - (1 - confidence) / Double(max(1, order.count))
        cells = try order.sorted { $0.column < $1.column }.map { key in
            let pair = samples[key]!
            return Cell(column: plan.outputs[key.column].name,
                        result: try EventSelectionAudit(original: pair[0], neighbour: pair[1], delta: budget.delta,
                                                        confidence: cellConfidence))
        }
    }

    /// A released cell: the output column's index and the group's key values (or its row position when the
    /// query outputs no key).
    struct CellKey: Hashable {
        let column: Int
        let group: [SQLValue]
    }

    /// The numeric cells of a result, keyed by column and group.
    static func cells(of result: QueryResult, plan: QueryPlan) -> [(CellKey, Double)] {
        let keyColumns = plan.outputs.indices.filter {
            if case .key = plan.outputs[$0].expression { return true }
            return false
        }
        var cells: [(CellKey, Double)] = []
        for (position, row) in result.rows.enumerated() {
            let group = keyColumns.isEmpty ? [SQLValue.integer(Int64(position))] : keyColumns.map { row[$0] }
            for (column, value) in row.enumerated() where !keyColumns.contains(column) {
                guard let number = value.number else { continue }
                cells.append((CellKey(column: column, group: group), number))
            }
        }
        return cells
    }

    /// A ledger in `folder` with one budget for `scope` large enough for `runs` runs at `budget` (basic
    /// composition), with relaxed durability: it is deleted with the folder.
    static func throwAwayLedger(in folder: URL, scope: String, budget: PrivacyParameters, runs: Int) throws -> Ledger {
        let ledger = try Ledger(path: folder.appendingPathComponent("audit-ledger.sqlite").path,
                                mode: .createIfMissing, durability: .normal)
        let epsilon = budget.epsilon * Double(runs) * 1.01
        let delta = budget.delta * Double(runs) * 1.01
        guard epsilon <= PrivacyParameters.maximumEpsilon, delta < 1 else {
            throw VeilError.invalidParameter("trials", runs / 2, allowed: "small enough that the runs' total cost stays "
                                             + "below ε \(PrivacyParameters.maximumEpsilon) and δ 1 (fewer trials, or a "
                                             + "smaller δ)")
        }
        _ = try ledger.createBudget(scope: scope, epsilon: epsilon, delta: delta, composition: .basic)
        return ledger
    }
}
