import Accounting
import Foundation

/// The budget audit report: for each scope its limits, what was spent and what is left under its
/// composition rule, per-analyst totals, every release and open reservation, the cumulative ε over
/// time, and the result of verifying the hash chain with its head hash.
///
/// Render it with ``markdown()``, ``html()`` or ``json()``.
public struct AuditReport: Sendable, Codable {
    /// When the report was made.
    public let generated: Date
    /// The ledger file the report describes.
    public let ledgerPath: String
    /// The result of ``Ledger/verify()`` at the time of the report.
    public let verification: ChainVerification
    /// The head of the chain at the time of the report.
    public let head: ChainHead
    /// One section per budget.
    public let scopes: [ScopeReport]
    /// Budgets that could not be read (a damaged ledger), with the reason; the report still
    /// covers the others.
    public let problems: [String]

    /// Builds the report of `scope` (or of every budget) from `ledger`, in one read transaction: the
    /// verification, the head and every scope's figures describe the same state of the ledger, even
    /// while other processes charge.
    /// - Throws: `unknownScope`, or a storage error.
    public init(ledger: Ledger, scope: String? = nil, generated: Date = Date()) throws {
        self.generated = generated
        self.ledgerPath = ledger.path
        (verification, head, scopes, problems) = try ledger.read { db in
            let verification = try Ledger.verify(db)
            let head = try Ledger.head(db)
            var problems: [String] = []
            typealias Limits = (budget: Budget, epsilonUnits: Int64, deltaUnits: Int64)
            var budgets: [Limits] = []
            if let scope {
                guard let found = try Ledger.budget(db, scope: scope) else { throw LedgerFailure.unknownScope(scope) }
                budgets = [found]
            } else {
                do { budgets = try Ledger.budgetEntries(db).map(Ledger.budget(from:)) } catch {
                    problems.append("the budgets cannot be read: \(error)")
                }
            }
            var scopes: [ScopeReport] = []
            for limits in budgets {
                do {
                    scopes.append(try LedgerFailure.storage(ledger.path) {
                        try ScopeReport(db, budget: limits.budget, limitEpsilonUnits: limits.epsilonUnits,
                                        limitDeltaUnits: limits.deltaUnits)
                    })
                } catch {
                    problems.append("scope \(limits.budget.scope) cannot be read: \(error)")
                }
            }
            return (verification, head, scopes, problems)
        }
    }
}

/// One budget's part of the ``AuditReport``.
public struct ScopeReport: Sendable, Codable {
    /// Limits, spent, reserved and remaining.
    public let status: BudgetStatus
    /// Every reservation in order, with what became of it.
    public let charges: [Charge]
    /// Cumulative ε of the scope after each charge that counts (committed or open).
    public let cumulative: [CumulativePoint]
    /// The same per analyst, each composed on their own.
    public let analystCumulative: [AnalystSeries]

    /// The section of `budget`, from its entries read in `db`. The charges that count are composed
    /// once, overall and per analyst: the last point of each series is the status's total.
    init(_ db: any LedgerTransaction, budget: Budget, limitEpsilonUnits limitEpsilon: Int64, limitDeltaUnits limitDelta: Int64) throws {
        charges = try Ledger.charges(from: try Ledger.entries(db, scope: budget.scope))
        let counted = charges.filter { $0.state != .refunded }
        let total = try Ledger.cumulativeCost(of: counted, budget: budget)
        cumulative = Self.points(counted, total)
        var analystCosts: [(usage: Ledger.ComposedCost, charges: Int)] = []
        analystCumulative = try Ledger.analystNames(of: counted).map { name in
            let theirs = counted.filter { $0.reservation.analyst == name }
            let costs = try Ledger.cumulativeCost(of: theirs, budget: budget)
            analystCosts.append((costs.last ?? (0, 0, 0, 0), theirs.count))
            return AnalystSeries(analyst: name, points: Self.points(theirs, costs))
        }
        status = try Ledger.status(budget: budget, limitEpsilonUnits: limitEpsilon, limitDeltaUnits: limitDelta,
                                   charges: charges, activeCost: total.last ?? (0, 0, 0, 0), analystCosts: analystCosts)
    }

    private static func points(_ charges: [Charge], _ costs: [Ledger.ComposedCost]) -> [CumulativePoint] {
        zip(charges, costs).map { CumulativePoint(time: $0.reservation.time, epsilon: $1.epsilon, reservation: $0.reservation.id) }
    }
}
/// The cumulative ε of a scope (or of one analyst) just after one charge.
public struct CumulativePoint: Sendable, Codable, Hashable {
    /// When the charge was reserved.
    public let time: Date
    /// ε of all counted charges up to and including this one.
    public let epsilon: Double
    /// The reservation id of the charge.
    public let reservation: Int64
}

/// One analyst's cumulative ε over time.
public struct AnalystSeries: Sendable, Codable, Hashable {
    /// The analyst.
    public let analyst: String
    /// Their cumulative ε after each of their charges.
    public let points: [CumulativePoint]
}
